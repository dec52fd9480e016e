-- Custom elements: the team's library. Each is created by one element task; its state comes
-- from that task, its upstream id (a string, exactly as received) is written when it completes.
-- Removing one hides it in Kinema only: the upstream has no delete.
CREATE TABLE elements (
    id                  TEXT   PRIMARY KEY,
    task_id             TEXT   NOT NULL UNIQUE REFERENCES tasks (id),
    owner_id            BIGINT NOT NULL REFERENCES users (id),
    name                TEXT   NOT NULL,
    description         TEXT   NOT NULL,
    reference_type      TEXT   NOT NULL CHECK (reference_type IN ('video', 'images')),
    voice_id            TEXT,
    preview_upload_id   TEXT   NOT NULL REFERENCES uploads (id),
    upstream_element_id TEXT,
    removed_at          BIGINT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX elements_by_created ON elements (created_at);
