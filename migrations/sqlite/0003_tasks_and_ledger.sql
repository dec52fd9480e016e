-- Tasks (durable: the engine claims them with a lease and an epoch; next_run_at, lease_until and
-- deadline_at are unix milliseconds, other times unix seconds) and the credit ledger
-- (append-only; amounts in integer micro-credits).
CREATE TABLE tasks (
    id                    TEXT    PRIMARY KEY,
    owner_id              BIGINT  NOT NULL REFERENCES users (id),
    kind                  TEXT    NOT NULL CHECK (kind IN ('motion', 'element')),
    idempotency_key       TEXT    NOT NULL,
    state                 TEXT    NOT NULL,
    params                TEXT    NOT NULL,
    image_upload_id       TEXT    REFERENCES uploads (id),
    video_upload_id       TEXT    REFERENCES uploads (id),
    quality               TEXT,
    upstream_id           TEXT,
    progress              BIGINT  NOT NULL DEFAULT 0,
    cost_reserved         BIGINT  NOT NULL,
    cost_final            BIGINT,
    output_seconds        BIGINT,
    failure_code          TEXT,
    failure_message       TEXT,
    result_key            TEXT,
    result_url            TEXT,
    result_url_expires_at BIGINT,
    callback_token        TEXT    NOT NULL,
    lease_owner           TEXT,
    lease_until           BIGINT,
    epoch                 BIGINT  NOT NULL DEFAULT 0,
    attempts              BIGINT  NOT NULL DEFAULT 0,
    next_run_at           BIGINT  NOT NULL,
    deadline_at           BIGINT  NOT NULL,
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL,
    finished_at           BIGINT,
    deleted_at            BIGINT,
    UNIQUE (owner_id, idempotency_key)
);
CREATE INDEX tasks_due ON tasks (state, next_run_at);
CREATE INDEX tasks_by_owner ON tasks (owner_id, created_at);

CREATE TABLE ledger_entries (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT  NOT NULL REFERENCES users (id),
    task_id    TEXT    REFERENCES tasks (id),
    kind       TEXT    NOT NULL CHECK (kind IN ('reserve', 'settle', 'refund', 'adjust')),
    amount     BIGINT  NOT NULL,
    reason     TEXT,
    created_at BIGINT  NOT NULL
);
CREATE UNIQUE INDEX ledger_one_reservation ON ledger_entries (task_id) WHERE kind = 'reserve';
CREATE UNIQUE INDEX ledger_one_resolution ON ledger_entries (task_id) WHERE kind IN ('settle', 'refund');
CREATE INDEX ledger_by_user ON ledger_entries (user_id, created_at);
