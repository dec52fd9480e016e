-- Monthly budgets in micro-credits: per member, and one for the whole team (id = 1).
-- No row means no limit.
CREATE TABLE member_budgets (
    user_id       BIGINT PRIMARY KEY REFERENCES users (id),
    monthly_limit BIGINT NOT NULL CHECK (monthly_limit >= 0),
    updated_at    BIGINT NOT NULL
);

CREATE TABLE team_budget (
    id            BIGINT PRIMARY KEY CHECK (id = 1),
    monthly_limit BIGINT NOT NULL CHECK (monthly_limit >= 0),
    updated_at    BIGINT NOT NULL
);
