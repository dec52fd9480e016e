-- Uploaded inputs (character images, motion videos). Ids are unguessable random hex.
CREATE TABLE uploads (
    id            TEXT    PRIMARY KEY,
    owner_id      BIGINT  NOT NULL REFERENCES users (id),
    kind          TEXT    NOT NULL CHECK (kind IN ('image', 'video')),
    format        TEXT    NOT NULL,
    original_name TEXT    NOT NULL,
    bytes         BIGINT  NOT NULL,
    width         BIGINT  NOT NULL,
    height        BIGINT  NOT NULL,
    duration_ms   BIGINT,
    storage_key   TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX uploads_by_owner ON uploads (owner_id, created_at);
