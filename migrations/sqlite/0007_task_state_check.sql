-- A task's state is one of the engine's words (app/src/rules/vocab.rs, TaskState).
-- SQLite cannot add a CHECK constraint to an existing table, and rebuilding `tasks` inside the
-- migration's transaction is unsafe while ledger entries and elements reference it, so the same
-- check is enforced by triggers on insert and on update.
CREATE TRIGGER tasks_state_check_insert BEFORE INSERT ON tasks
WHEN NEW.state NOT IN ('queued', 'submitting', 'running', 'archiving', 'completed', 'failed')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: tasks_state_check');
END;

CREATE TRIGGER tasks_state_check_update BEFORE UPDATE OF state ON tasks
WHEN NEW.state NOT IN ('queued', 'submitting', 'running', 'archiving', 'completed', 'failed')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: tasks_state_check');
END;
