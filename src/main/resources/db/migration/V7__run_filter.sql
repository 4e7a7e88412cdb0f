-- A workflow may have a filter (a JSONata condition over the incoming payload, headers and query). A webhook or
-- manual run whose filter is false is recorded as 'filtered': no job, no delivery, countable like any run.
ALTER TABLE workflows ADD COLUMN filter text;
ALTER TABLE workflow_runs DROP CONSTRAINT workflow_runs_status_check;
ALTER TABLE workflow_runs ADD CONSTRAINT workflow_runs_status_check
  CHECK (status IN ('pending', 'running', 'retrying', 'succeeded', 'failed', 'cancelled', 'skipped', 'filtered'));
