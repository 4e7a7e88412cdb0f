-- Workflows with steps (issue 13). A workflow is a list of 1..20 steps; action_url stays as the shorthand for one
-- step 'deliver' that POSTs the payload byte for byte, and every existing workflow becomes exactly that.
ALTER TABLE workflows ADD COLUMN steps jsonb;
UPDATE workflows SET steps = jsonb_build_array(jsonb_build_object('key', 'deliver', 'url', action_url));
ALTER TABLE workflows ALTER COLUMN steps SET NOT NULL;
ALTER TABLE workflows ALTER COLUMN action_url DROP NOT NULL;
-- tracked: its runs keep per-step state in run_steps (more than one step, or a step with a 'when'). A run of an
-- untracked workflow is its one step: the run row and its one job carry that step's state, as before steps existed,
-- which keeps the single-step path exactly as cheap as it was.
ALTER TABLE workflows ADD COLUMN tracked boolean NOT NULL DEFAULT false;
-- keeps_request: an expression reads the incoming request's headers or query, so webhook runs store them.
ALTER TABLE workflows ADD COLUMN keeps_request boolean NOT NULL DEFAULT false;

-- open_steps: steps of a tracked run not yet ended (NULL for an untracked run); the completion that takes it to 0
-- ends the run. failed_steps: how many failed for good (the run ends failed when any did).
ALTER TABLE workflow_runs ADD COLUMN open_steps int;
ALTER TABLE workflow_runs ADD COLUMN failed_steps int NOT NULL DEFAULT 0;
-- The incoming request's headers and query, {headers, query}, kept only when the workflow's expressions read them.
ALTER TABLE workflow_runs ADD COLUMN request jsonb;

-- step: the step this job delivers (NULL: the run's only step). attempt_offset: attempts the step made before a
-- retry from the failure gave it a fresh budget (attempt numbers go on from there).
ALTER TABLE jobs ADD COLUMN step text;
ALTER TABLE jobs ADD COLUMN attempt_offset int NOT NULL DEFAULT 0;

ALTER TABLE attempts ADD COLUMN step text;
ALTER TABLE attempts DROP CONSTRAINT attempts_run_id_number_key;
ALTER TABLE attempts ADD CONSTRAINT attempts_run_step_number_key UNIQUE NULLS NOT DISTINCT (run_id, step, number);

-- One row per step of a tracked run, all created with the run: the run's graph (needs) is fixed when it starts.
-- waiting_for counts the needs not yet succeeded; the completion that takes it to 0 starts the step (a row lock
-- makes that exactly once, however many parents finish at the same instant).
CREATE TABLE run_steps (
  run_id           bigint      NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
  key              text        NOT NULL,
  position         int         NOT NULL,
  needs            text[]      NOT NULL,
  waiting_for      int         NOT NULL,
  status           text        NOT NULL
                               CHECK (status IN ('waiting', 'pending', 'running', 'retrying', 'succeeded', 'failed',
                                                 'skipped', 'cancelled')),
  after_failure    boolean     NOT NULL DEFAULT false,  -- skipped because a step it needs failed (retry re-runs it)
  webhook_id       text        NOT NULL DEFAULT 'msg_' || replace(gen_random_uuid()::text, '-', ''),
  attempts         int         NOT NULL DEFAULT 0,
  error            text,
  response_status  int,
  response_headers jsonb,
  response_body    text,        -- what a dependant may read, up to kikonect.steps.max-response-bytes
  next_attempt_at  timestamptz,
  created_at       timestamptz NOT NULL,
  started_at       timestamptz,
  ended_at         timestamptz,
  PRIMARY KEY (run_id, key)
);
