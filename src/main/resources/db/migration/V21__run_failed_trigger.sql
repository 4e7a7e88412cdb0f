-- Error workflows (issue 24): a workflow with trigger_type run_failed starts when a run of a workflow it watches
-- (trigger_config.workflows: "all" or a list of ids of its workspace) ends failed. caused_by_run_id is the failed run
-- that started such a run; the unique index makes that once per failed run and error workflow, however often the
-- (retried) start is attempted. No foreign key: retention may delete the failed run first.
ALTER TABLE workflows DROP CONSTRAINT workflows_trigger_type_check;
ALTER TABLE workflows ADD CONSTRAINT workflows_trigger_type_check
  CHECK (trigger_type IN ('manual', 'webhook', 'interval', 'cron', 'run_failed'));
ALTER TABLE workflow_runs DROP CONSTRAINT workflow_runs_trigger_check;
ALTER TABLE workflow_runs ADD CONSTRAINT workflow_runs_trigger_check
  CHECK (trigger IN ('manual', 'webhook', 'interval', 'cron', 'run_failed'));
ALTER TABLE workflow_runs ADD COLUMN caused_by_run_id bigint;
CREATE UNIQUE INDEX workflow_runs_caused_by_key ON workflow_runs (workflow_id, caused_by_run_id)
  WHERE caused_by_run_id IS NOT NULL;
