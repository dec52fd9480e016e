-- Personal API tokens for the EvoLink-compatible gateway. Only the SHA-256 of a token is kept
-- (hex, like invites); the prefix (its first characters) lets people tell tokens apart. Times
-- are unix seconds. A revoked token stays listed (with revoked_at) so history keeps its name.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id     BIGINT  NOT NULL REFERENCES users (id),
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    scope        TEXT    NOT NULL CHECK (scope IN ('full', 'motion', 'elements', 'read_only')),
    created_at   BIGINT  NOT NULL,
    last_used_at BIGINT,
    expires_at   BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_owner ON api_tokens (owner_id);

-- The token a task was created with through the gateway; NULL for studio tasks.
ALTER TABLE tasks ADD COLUMN token_id BIGINT REFERENCES api_tokens (id);
