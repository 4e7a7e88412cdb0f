-- Issue 22: single sign-on no longer links an account by its email alone. An account's address counts as verified
-- when its owner proved it (a mailed link, or a sign-in through a provider that vouches for it); a provider's identity
-- (issuer id and subject) is linked to one account, once: by a first sign-in that makes the account, by a sign-in to an
-- account whose address is verified, or by its signed-in owner asking for it.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

CREATE TABLE sso_identities (
  provider   text        NOT NULL,
  subject    text        NOT NULL,
  user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (provider, subject)
);
CREATE INDEX sso_identities_user ON sso_identities (user_id);

-- A mailed verification link: the SHA-256 of its token (the token itself is never stored).
CREATE TABLE email_verifications (
  token_hash bytea       PRIMARY KEY,
  user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL
);
CREATE INDEX email_verifications_user ON email_verifications (user_id);

-- Accounts that have signed in by single sign-on before keep doing so: their provider vouched for the address. (An
-- account an attacker registered with a password and nobody ever signed in to by SSO stays unverified: that is the
-- pre-hijacking this closes.)
UPDATE users SET email_verified_at = now()
 WHERE id IN (SELECT user_id FROM sessions WHERE method = 'sso')
    OR id IN (SELECT a.actor_user FROM audit_log a WHERE a.action = 'user.signed_in' AND a.changes ->> 'method' = 'sso' AND a.actor_user IS NOT NULL);
