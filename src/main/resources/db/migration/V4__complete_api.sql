-- Replays, idempotency keys, API keys, failure alerts.

ALTER TABLE workflow_runs ADD COLUMN replay_of bigint;
CREATE INDEX workflow_runs_user_status_idx ON workflow_runs (user_id, status, id DESC);

-- An Idempotency-Key seen on a webhook or manual trigger, per workflow, kept 24 hours.
CREATE TABLE idempotency_keys (
  workflow_id bigint      NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  key         text        NOT NULL,
  run_id      bigint,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (workflow_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Personal API keys: usable as bearer tokens, stored only as SHA-256.
CREATE TABLE api_keys (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         text        NOT NULL,
  key_hash     bytea       NOT NULL UNIQUE,
  prefix       text        NOT NULL,   -- the first characters, to recognise a key in the list
  created_at   timestamptz NOT NULL,
  last_used_at timestamptz,
  expires_at   timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, id DESC);

-- Where to POST a signed summary when a run ends failed, and the queue of such alerts (one per run, ever).
ALTER TABLE workflows ADD COLUMN on_failure_url text;
CREATE TABLE failure_alerts (
  run_id      bigint      PRIMARY KEY REFERENCES workflow_runs (id) ON DELETE CASCADE,
  status      text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts    int         NOT NULL DEFAULT 0,
  next_at     timestamptz NOT NULL,
  last_error  text,
  created_at  timestamptz NOT NULL,
  sent_at     timestamptz
);
CREATE INDEX failure_alerts_pending_idx ON failure_alerts (next_at) WHERE status = 'pending';
