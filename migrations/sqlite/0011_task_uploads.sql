-- Uploads a task uses beyond its image and video columns (an element's other-angle images, kept
-- in its params), with foreign keys, so that an upload in use can never be deleted by the
-- storage sweep. A trigger fills it for every new task; the tasks already stored are added here.
CREATE TABLE task_uploads (
    task_id   TEXT NOT NULL REFERENCES tasks (id),
    upload_id TEXT NOT NULL REFERENCES uploads (id),
    PRIMARY KEY (task_id, upload_id)
);
CREATE INDEX task_uploads_by_upload ON task_uploads (upload_id);

INSERT INTO task_uploads (task_id, upload_id)
SELECT DISTINCT t.id, j.value
FROM tasks t, json_each(t.params, '$.refer_upload_ids') j
WHERE t.kind = 'element' AND json_valid(t.params) AND j.value IN (SELECT id FROM uploads);

CREATE TRIGGER tasks_record_uploads AFTER INSERT ON tasks WHEN NEW.kind = 'element'
BEGIN
    INSERT INTO task_uploads (task_id, upload_id)
    SELECT DISTINCT NEW.id, j.value FROM json_each(NEW.params, '$.refer_upload_ids') j;
END;

-- The storage sweep looks for old uploads.
CREATE INDEX uploads_by_created ON uploads (created_at);
CREATE INDEX tasks_by_image_upload ON tasks (image_upload_id);
CREATE INDEX tasks_by_video_upload ON tasks (video_upload_id);
CREATE INDEX elements_by_preview_upload ON elements (preview_upload_id);
