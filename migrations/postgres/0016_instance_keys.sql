-- Keys every Kinema instance on this database must share, made once by whichever instance starts
-- first (INSERT ... ON CONFLICT DO NOTHING, then read back). `media_signing` signs the expiring
-- /media URLs handed to the upstream, so any instance can verify a URL another one signed.
CREATE TABLE instance_keys (
    name TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
