-- Sign-in budgets per account name and per client address, counted in fixed windows. An attempt
-- is counted (reserved) in one statement before its password is checked, so a burst of
-- concurrent attempts cannot outrun the limit, and the counts outlive restarts and span
-- instances. Times are unix seconds.
CREATE TABLE sign_in_throttle (
    key          TEXT   PRIMARY KEY,
    window_start BIGINT NOT NULL,
    attempts     BIGINT NOT NULL
);
