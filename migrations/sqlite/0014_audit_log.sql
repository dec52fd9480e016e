-- The audit log: one row per action that used the team key or changed the team. Rows are
-- never changed or removed (the database refuses UPDATE and DELETE, as for the ledger).
-- actor_id is NULL for a failed sign-in (actor_name then holds the name that was tried);
-- token_id names the API token of a gateway call (tokens are never deleted, only revoked, so a
-- revoked token keeps its entries). at_ms is unix milliseconds (UTC).
CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id       BIGINT  REFERENCES users (id),
    actor_name     TEXT    NOT NULL,
    action         TEXT    NOT NULL,
    target         TEXT    NOT NULL,
    detail         TEXT    NOT NULL,
    client_address TEXT,
    request_id     TEXT,
    token_id       BIGINT  REFERENCES api_tokens (id),
    at_ms          BIGINT  NOT NULL
);

CREATE INDEX audit_log_by_time ON audit_log (at_ms);
CREATE INDEX audit_log_by_actor ON audit_log (actor_id, at_ms);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
