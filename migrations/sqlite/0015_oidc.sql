-- Sign-in with the team's identity provider (OpenID Connect): a member is found again by the
-- provider's subject, never by a name or an email that could change hands. An invite may name
-- the email it is meant for, so that person's first single sign-on may use it.
CREATE TABLE oidc_identities (
    issuer     TEXT   NOT NULL,
    subject    TEXT   NOT NULL,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    email      TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);

CREATE INDEX oidc_identities_by_user ON oidc_identities (user_id);

ALTER TABLE invites ADD COLUMN email TEXT;
