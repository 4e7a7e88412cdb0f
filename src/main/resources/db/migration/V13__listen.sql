-- `kikonect listen`: deliveries to a step URL listen://<name> wait here until a listener (the CLI, connected to any
-- node) takes them and posts back the response its local server gave. The executor that put a row deletes it when
-- it stops waiting (answered, or its attempt's timeout passed): nothing stays.
CREATE TABLE listen_deliveries (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id     bigint      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  name             text        NOT NULL,
  request          jsonb       NOT NULL,  -- {method, headers, body}
  created_at       timestamptz NOT NULL,
  expires_at       timestamptz NOT NULL,
  claimed_at       timestamptz,
  answered_at      timestamptz,
  response_status  int,
  response_headers jsonb,
  response_body    text
);
CREATE INDEX listen_deliveries_waiting_idx ON listen_deliveries (workspace_id, name, id) WHERE claimed_at IS NULL;
