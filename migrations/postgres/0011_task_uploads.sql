-- Uploads a task uses beyond its image and video columns (an element's other-angle images, kept
-- in its params), with foreign keys, so that an upload in use can never be deleted by the
-- storage sweep. A trigger fills it for every new task; the tasks already stored are added here.
CREATE TABLE task_uploads (
    task_id   TEXT NOT NULL REFERENCES tasks (id),
    upload_id TEXT NOT NULL REFERENCES uploads (id),
    PRIMARY KEY (task_id, upload_id)
);
CREATE INDEX task_uploads_by_upload ON task_uploads (upload_id);

-- The other-angle upload ids in a task's params (none when absent or not a list).
CREATE FUNCTION task_refer_upload_ids(params TEXT) RETURNS SETOF TEXT AS $$
    SELECT DISTINCT r.id
    FROM jsonb_array_elements_text(
        CASE WHEN jsonb_typeof(params::jsonb -> 'refer_upload_ids') = 'array'
             THEN params::jsonb -> 'refer_upload_ids'
             ELSE '[]'::jsonb END
    ) AS r(id);
$$ LANGUAGE sql IMMUTABLE;

INSERT INTO task_uploads (task_id, upload_id)
SELECT t.id, r.id
FROM tasks t CROSS JOIN LATERAL task_refer_upload_ids(t.params) AS r(id)
WHERE t.kind = 'element' AND r.id IN (SELECT id FROM uploads);

CREATE FUNCTION tasks_record_uploads() RETURNS trigger AS $$
BEGIN
    INSERT INTO task_uploads (task_id, upload_id)
    SELECT NEW.id, r.id FROM task_refer_upload_ids(NEW.params) AS r(id);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER tasks_record_uploads AFTER INSERT ON tasks
FOR EACH ROW WHEN (NEW.kind = 'element') EXECUTE FUNCTION tasks_record_uploads();

-- The storage sweep looks for old uploads.
CREATE INDEX uploads_by_created ON uploads (created_at);
CREATE INDEX tasks_by_image_upload ON tasks (image_upload_id);
CREATE INDEX tasks_by_video_upload ON tasks (video_upload_id);
CREATE INDEX elements_by_preview_upload ON elements (preview_upload_id);
