-- When the create of a task was first sent (unix ms): an unconfirmed create is asked again with
-- the same idempotency key until a grace period after this moment has passed.
ALTER TABLE tasks ADD COLUMN submitted_at BIGINT;
