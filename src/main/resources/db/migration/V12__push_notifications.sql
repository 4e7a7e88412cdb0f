-- Browser notifications (Web Push) for failed runs. One VAPID key pair per installation, its private key sealed with
-- the master key like a credential (AES-256-GCM, context 'vapid'). A subscription is one browser of one user in one
-- workspace, for the workflows it names; it goes when the push service says the browser is gone (404/410), when its
-- user leaves the workspace (checked when sending) or is deleted.
CREATE TABLE vapid_keys (
  id          int         PRIMARY KEY CHECK (id = 1),
  public_key  text        NOT NULL,   -- X.509, base64
  private_key bytea       NOT NULL,   -- PKCS#8, sealed
  key_id      text        NOT NULL,
  created_at  timestamptz NOT NULL
);

CREATE TABLE push_subscriptions (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  workspace_id bigint      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  endpoint     text        NOT NULL,
  p256dh       text        NOT NULL,
  auth         text        NOT NULL,
  workflow_ids bigint[]    NOT NULL,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  last_sent_at timestamptz,
  last_error   text,
  UNIQUE (user_id, workspace_id, endpoint)
);
-- "Does anyone want to hear about this workflow's failures?": asked by the completion that fails a run.
CREATE INDEX push_subscriptions_workflows_idx ON push_subscriptions USING gin (workflow_ids);
