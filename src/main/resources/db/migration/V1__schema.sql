-- The seed's tables (users, workflows, workflow_runs, jobs) plus login sessions.
-- Never edit a released migration: add V2__..., V3__... instead.

CREATE TABLE users (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email         text        NOT NULL,
  password_hash text        NOT NULL,
  firstname     text        NOT NULL,
  lastname      text        NOT NULL,
  created_at    timestamptz NOT NULL
);
-- Emails are unique regardless of case; login looks them up the same way.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE sessions (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash bytea       NOT NULL UNIQUE,  -- SHA-256 of the bearer token; the token itself is never stored
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE workflows (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id        bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name           text        NOT NULL,
  trigger_type   text        NOT NULL CHECK (trigger_type IN ('manual', 'webhook', 'interval', 'cron')),
  action_url     text        NOT NULL,
  trigger_config jsonb       NOT NULL DEFAULT '{}',
  enabled        boolean     NOT NULL DEFAULT true,
  next_run_at    timestamptz,
  last_fired_at  timestamptz,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);
CREATE INDEX workflows_user_idx ON workflows (user_id, id DESC);
-- The seed's webhook lookup: trigger_type = 'webhook' AND trigger_config->>'token' = $1.
CREATE UNIQUE INDEX workflows_webhook_token_key ON workflows ((trigger_config ->> 'token')) WHERE trigger_type = 'webhook';
-- The scheduler's claim: enabled AND next_run_at <= now ORDER BY next_run_at.
CREATE INDEX workflows_due_idx ON workflows (next_run_at) WHERE enabled AND next_run_at IS NOT NULL;

CREATE TABLE workflow_runs (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workflow_id bigint      NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  user_id     bigint      NOT NULL,  -- the owner, copied so that every run query is scoped without a join
  status      text        NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
  trigger     text        NOT NULL CHECK (trigger IN ('manual', 'webhook', 'interval', 'cron')),
  payload     json        NOT NULL,  -- json, not jsonb: the exact text received is the exact text delivered
  webhook_id  text        NOT NULL DEFAULT 'msg_' || replace(gen_random_uuid()::text, '-', ''),
  error       text,
  attempts    int         NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL,
  started_at  timestamptz,
  ended_at    timestamptz
);
CREATE INDEX workflow_runs_workflow_idx ON workflow_runs (workflow_id, id DESC);
CREATE INDEX workflow_runs_user_idx ON workflow_runs (user_id, id DESC);

-- The queue. Small and hot: claims use the partial index over pending jobs only.
CREATE TABLE jobs (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id           bigint      NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
  workflow_id      bigint      NOT NULL,
  status           text        NOT NULL DEFAULT 'pending'
                               CHECK (status IN ('pending', 'processing', 'succeeded', 'failed')),
  attempt          int         NOT NULL DEFAULT 0,
  run_at           timestamptz NOT NULL,
  lease_token      uuid,        -- fencing token: a completion must present the token of the current claim
  lease_expires_at timestamptz,
  locked_by        text,
  error            text,
  created_at       timestamptz NOT NULL,
  started_at       timestamptz,
  ended_at         timestamptz
);
CREATE INDEX jobs_pending_idx ON jobs (run_at, id) WHERE status = 'pending';
CREATE INDEX jobs_lease_idx ON jobs (lease_expires_at) WHERE status = 'processing';
CREATE INDEX jobs_run_idx ON jobs (run_id);
ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02,
                      autovacuum_vacuum_cost_delay = 0);
