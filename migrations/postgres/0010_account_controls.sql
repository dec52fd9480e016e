-- Revoking invites, and ending a member's sessions: every session remembers the epoch it was
-- signed in under, and a session whose epoch is behind its user's is signed out.
ALTER TABLE invites ADD COLUMN revoked_at BIGINT;
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
