-- Share links: a view-only page of one completed task's result that anyone holding the link may
-- open without signing in. Only the SHA-256 of the link's token is kept (hex, like API tokens);
-- the link itself names no member and no task. Times are unix seconds; expires_at NULL means
-- "until revoked". Links stop with their task: soft-deleted tasks are checked on every request,
-- and removing a task row removes its links.
CREATE TABLE share_links (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash  TEXT    NOT NULL UNIQUE,
    task_id     TEXT    NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    owner_id    BIGINT  NOT NULL REFERENCES users (id),
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT
);
CREATE INDEX share_links_owner ON share_links (owner_id, id);
CREATE INDEX share_links_task ON share_links (task_id);
