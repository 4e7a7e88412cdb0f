-- History partitions drop without a strong lock on a busy table (issue 26). A foreign key that meets a partition makes
-- every change to that partition lock the other side: detaching a workflow_runs partition, even CONCURRENTLY, locks
-- jobs, attempts, run_steps, failure_alerts and sub_runs exclusively (they reference it), detaching or dropping an
-- attempts or run_steps partition locks workflow_runs (its foreign key's triggers), and dropping a detached
-- workflow_runs partition locks workflows exclusively (its foreign key). On a busy node those locks are never free at
-- once (bench/history: 900,000 runs not dropped within 20 s at 500 webhooks/s). So the foreign keys into and out of
-- the partitioned history go, and triggers keep what they gave:
--  * a run needs its workflow and a job needs its run (AFTER INSERT, the key share lock the foreign key took, so a
--    concurrent delete of the workflow or run waits for the insert or refuses it: 23503 as before);
--  * deleting workflows deletes their runs, and deleting runs deletes their jobs, attempts, steps, failure alerts and
--    sub-run rows (statement triggers over the deleted rows, as ON DELETE CASCADE did).
-- attempts and run_steps rows are written only by the statements that hold their run's job (claim, completions), so
-- they get no insert check: one written while its workflow is deleted is unreachable (every read goes through the
-- run) and goes with its partition.

ALTER TABLE attempts DROP CONSTRAINT IF EXISTS attempts_run_id_fkey;
ALTER TABLE run_steps DROP CONSTRAINT IF EXISTS run_steps_run_id_fkey;
ALTER TABLE jobs DROP CONSTRAINT IF EXISTS jobs_run_id_fkey;
ALTER TABLE failure_alerts DROP CONSTRAINT IF EXISTS failure_alerts_run_id_fkey;
ALTER TABLE sub_runs DROP CONSTRAINT IF EXISTS sub_runs_parent_run_id_fkey;
ALTER TABLE workflow_runs DROP CONSTRAINT IF EXISTS workflow_runs_workflow_id_fkey;

CREATE FUNCTION run_has_workflow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM workflows WHERE id = NEW.workflow_id FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE foreign_key_violation USING MESSAGE = format('workflow %s of run %s does not exist', NEW.workflow_id, NEW.id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER workflow_runs_workflow_exists AFTER INSERT ON workflow_runs
  FOR EACH ROW EXECUTE FUNCTION run_has_workflow();

CREATE FUNCTION job_has_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM workflow_runs WHERE id = NEW.run_id FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE foreign_key_violation USING MESSAGE = format('run %s of job %s does not exist', NEW.run_id, NEW.id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_run_exists AFTER INSERT ON jobs
  FOR EACH ROW EXECUTE FUNCTION job_has_run();

CREATE FUNCTION workflows_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM workflow_runs WHERE workflow_id IN (SELECT id FROM gone);
  RETURN NULL;
END $$;
CREATE TRIGGER workflows_deleted AFTER DELETE ON workflows
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION workflows_deleted();

CREATE FUNCTION workflow_runs_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM jobs WHERE run_id IN (SELECT id FROM gone);
  DELETE FROM attempts WHERE run_id IN (SELECT id FROM gone);
  DELETE FROM run_steps WHERE run_id IN (SELECT id FROM gone);
  DELETE FROM failure_alerts WHERE run_id IN (SELECT id FROM gone);
  DELETE FROM sub_runs WHERE parent_run_id IN (SELECT id FROM gone);
  RETURN NULL;
END $$;
CREATE TRIGGER workflow_runs_deleted AFTER DELETE ON workflow_runs
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION workflow_runs_deleted();
