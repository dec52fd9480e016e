-- Team-wide sign-in settings (one row, id = 1; no row means the defaults). Password sign-in can
-- be switched off by an admin once single sign-on works; it applies only while single sign-on
-- is configured, and `kinema-server allow-password-sign-in` switches it back on.
CREATE TABLE team_settings (
    id               BIGINT  PRIMARY KEY CHECK (id = 1),
    password_sign_in BOOLEAN NOT NULL,
    updated_at       BIGINT  NOT NULL
);
