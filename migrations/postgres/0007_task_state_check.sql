-- A task's state is one of the engine's words (app/src/rules/vocab.rs, TaskState).
ALTER TABLE tasks ADD CONSTRAINT tasks_state_check
    CHECK (state IN ('queued', 'submitting', 'running', 'archiving', 'completed', 'failed'));
