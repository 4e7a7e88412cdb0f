-- Retries, the attempt log, signing secrets and cancellation.

ALTER TABLE workflow_runs DROP CONSTRAINT workflow_runs_status_check;
ALTER TABLE workflow_runs ADD CONSTRAINT workflow_runs_status_check
  CHECK (status IN ('pending', 'running', 'retrying', 'succeeded', 'failed', 'cancelled'));
ALTER TABLE workflow_runs ADD COLUMN next_attempt_at timestamptz;

ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check
  CHECK (status IN ('pending', 'processing', 'succeeded', 'failed', 'cancelled'));

-- Per-workflow retry budget (NULL: kikonect.delivery.max-attempts) and Standard Webhooks signing secrets.
-- After a rotation the previous secret keeps signing (alongside the new one) until previous_secret_expires_at.
ALTER TABLE workflows ADD COLUMN max_attempts int CHECK (max_attempts BETWEEN 1 AND 20);
ALTER TABLE workflows ADD COLUMN signing_secret text;
ALTER TABLE workflows ADD COLUMN previous_signing_secret text;
ALTER TABLE workflows ADD COLUMN previous_secret_expires_at timestamptz;

-- Every delivery attempt, successful or not: what was tried and what came back.
CREATE TABLE attempts (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id           bigint      NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
  number           int         NOT NULL,
  started_at       timestamptz NOT NULL,
  duration_ms      bigint      NOT NULL,
  response_status  int,
  response_headers jsonb,
  response_body    text,        -- the first 4 KiB, as text
  error            text,
  UNIQUE (run_id, number)
);
