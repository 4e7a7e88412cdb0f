-- Misfire and overlap policies, the due time of scheduled runs, and skipped runs.

ALTER TABLE workflows ADD COLUMN misfire text NOT NULL DEFAULT 'fire_once' CHECK (misfire IN ('fire_once', 'skip'));
ALTER TABLE workflows ADD COLUMN overlap text NOT NULL DEFAULT 'allow' CHECK (overlap IN ('allow', 'skip'));

ALTER TABLE workflow_runs DROP CONSTRAINT workflow_runs_status_check;
ALTER TABLE workflow_runs ADD CONSTRAINT workflow_runs_status_check
  CHECK (status IN ('pending', 'running', 'retrying', 'succeeded', 'failed', 'cancelled', 'skipped'));

-- For interval and cron runs: the slot the run was fired for. At most one run per slot, whatever the number of
-- schedulers: a duplicate firing is impossible, not merely unlikely.
ALTER TABLE workflow_runs ADD COLUMN scheduled_for timestamptz;
CREATE UNIQUE INDEX workflow_runs_slot_key ON workflow_runs (workflow_id, scheduled_for) WHERE scheduled_for IS NOT NULL;

-- The overlap check: does this workflow have a run that is not finished?
CREATE INDEX workflow_runs_active_idx ON workflow_runs (workflow_id) WHERE status IN ('pending', 'running', 'retrying');
