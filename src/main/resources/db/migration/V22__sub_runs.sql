-- Sub-workflows (issue 24): a step with "workflow" starts a run of that workflow (the child) and waits for it without
-- a job, a lease or a thread. One row per waiting or finished call: the step's current child (a retry of the step
-- deletes the row, so it starts a new one). resumed: the child ended and the parent step got its job back (once:
-- the resumer takes rows with SKIP LOCKED and flips this flag in the statement that inserts the job). depth: 1 for
-- the child of a top-level run; at most 5.
CREATE TABLE sub_runs (
  parent_run_id bigint      NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
  parent_step   text        NOT NULL,
  child_run_id  bigint      NOT NULL,
  depth         int         NOT NULL,
  resumed       boolean     NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (parent_run_id, parent_step)
);
CREATE UNIQUE INDEX sub_runs_child_key ON sub_runs (child_run_id);
CREATE INDEX sub_runs_waiting_idx ON sub_runs (created_at) WHERE NOT resumed;
-- A child run's trigger is "workflow".
ALTER TABLE workflow_runs DROP CONSTRAINT workflow_runs_trigger_check;
ALTER TABLE workflow_runs ADD CONSTRAINT workflow_runs_trigger_check
  CHECK (trigger IN ('manual', 'webhook', 'interval', 'cron', 'run_failed', 'workflow'));
