-- Issue 26, stage 1: history by partition. workflow_runs, attempts and run_steps are range-partitioned by run id
-- (attempts and run_steps by their run_id, with the same bounds), so that retention drops whole partitions
-- (lifecycle/RunPartitions) instead of deleting row by row, and the hot statements, which all reach history by run id,
-- touch one partition. jobs, the hot queue, stays one small unpartitioned table.
--
-- An existing database converts without rewriting its history: each table is renamed *_legacy and attached as the
-- partition FROM (MINVALUE) TO (the next run id); attaching reuses its indexes (only a read checks the bound and the
-- foreign keys). A new database gets an empty legacy partition. The first regular partition starts at the next run id;
-- the application keeps partitions ahead of the sequence from then on.
--
-- A unique index on a partitioned table must contain the partition key, so schedules' unique slot and the run_failed
-- trigger's "once per failed run" move to small tables of their own, written in the same statement as the run.
DO $$
DECLARE
  next_run bigint;
  next_attempt bigint;
  first_size constant bigint := 1000000;
BEGIN
  EXECUTE format('SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %s',
                 pg_get_serial_sequence('workflow_runs', 'id')) INTO next_run;
  EXECUTE format('SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %s',
                 pg_get_serial_sequence('attempts', 'id')) INTO next_attempt;
  next_run := greatest(next_run, coalesce((SELECT max(id) + 1 FROM workflow_runs), 1));
  next_attempt := greatest(next_attempt, coalesce((SELECT max(id) + 1 FROM attempts), 1));

  CREATE TABLE schedule_slots (
    workflow_id   bigint      NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    scheduled_for timestamptz NOT NULL,
    PRIMARY KEY (workflow_id, scheduled_for)
  );
  INSERT INTO schedule_slots (workflow_id, scheduled_for)
  SELECT workflow_id, scheduled_for FROM workflow_runs WHERE scheduled_for IS NOT NULL;
  CREATE TABLE run_failed_causes (
    workflow_id      bigint NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    caused_by_run_id bigint NOT NULL,
    PRIMARY KEY (workflow_id, caused_by_run_id)
  );
  INSERT INTO run_failed_causes (workflow_id, caused_by_run_id)
  SELECT workflow_id, caused_by_run_id FROM workflow_runs WHERE caused_by_run_id IS NOT NULL;
  DROP INDEX workflow_runs_slot_key;
  DROP INDEX workflow_runs_caused_by_key;

  -- the references to the old tables go; the same ones to the partitioned tables come back below
  ALTER TABLE attempts DROP CONSTRAINT attempts_run_id_fkey;
  ALTER TABLE run_steps DROP CONSTRAINT run_steps_run_id_fkey;
  ALTER TABLE jobs DROP CONSTRAINT jobs_run_id_fkey;
  ALTER TABLE failure_alerts DROP CONSTRAINT failure_alerts_run_id_fkey;
  ALTER TABLE sub_runs DROP CONSTRAINT sub_runs_parent_run_id_fkey;
  ALTER TABLE workflow_runs DROP CONSTRAINT workflow_runs_workflow_id_fkey;

  -- the identities move to the partitioned tables, continuing where the old ones stopped
  ALTER TABLE workflow_runs ALTER COLUMN id DROP IDENTITY;
  ALTER TABLE attempts ALTER COLUMN id DROP IDENTITY;
  ALTER TABLE workflow_runs RENAME TO workflow_runs_legacy;
  ALTER TABLE attempts RENAME TO attempts_legacy;
  ALTER TABLE run_steps RENAME TO run_steps_legacy;
  ALTER INDEX workflow_runs_pkey RENAME TO workflow_runs_legacy_pkey;
  ALTER INDEX workflow_runs_active_idx RENAME TO workflow_runs_legacy_active_idx;
  ALTER INDEX workflow_runs_user_created_idx RENAME TO workflow_runs_legacy_user_created_idx;
  ALTER INDEX workflow_runs_user_idx RENAME TO workflow_runs_legacy_user_idx;
  ALTER INDEX workflow_runs_user_status_idx RENAME TO workflow_runs_legacy_user_status_idx;
  ALTER INDEX workflow_runs_workflow_idx RENAME TO workflow_runs_legacy_workflow_idx;
  ALTER INDEX attempts_pkey RENAME TO attempts_legacy_pkey;
  ALTER INDEX attempts_run_step_number_key RENAME TO attempts_legacy_run_step_number_key;
  ALTER INDEX run_steps_pkey RENAME TO run_steps_legacy_pkey;

  CREATE TABLE workflow_runs (LIKE workflow_runs_legacy INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED
                              INCLUDING STORAGE) PARTITION BY RANGE (id);
  EXECUTE format('ALTER TABLE workflow_runs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (START WITH %s)', next_run);
  CREATE TABLE attempts (LIKE attempts_legacy INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)
    PARTITION BY RANGE (run_id);
  EXECUTE format('ALTER TABLE attempts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (START WITH %s)', next_attempt);
  CREATE TABLE run_steps (LIKE run_steps_legacy INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)
    PARTITION BY RANGE (run_id);

  EXECUTE format('ALTER TABLE workflow_runs ATTACH PARTITION workflow_runs_legacy FOR VALUES FROM (MINVALUE) TO (%s)', next_run);
  EXECUTE format('ALTER TABLE attempts ATTACH PARTITION attempts_legacy FOR VALUES FROM (MINVALUE) TO (%s)', next_run);
  EXECUTE format('ALTER TABLE run_steps ATTACH PARTITION run_steps_legacy FOR VALUES FROM (MINVALUE) TO (%s)', next_run);

  -- created on the parents: the legacy partitions' equal indexes are attached, not built again
  ALTER TABLE workflow_runs ADD PRIMARY KEY (id);
  CREATE INDEX workflow_runs_active_idx ON workflow_runs (workflow_id) WHERE status IN ('pending', 'running', 'retrying');
  CREATE INDEX workflow_runs_user_created_idx ON workflow_runs (workspace_id, created_at) INCLUDE (workflow_id, status, ended_at);
  CREATE INDEX workflow_runs_user_idx ON workflow_runs (workspace_id, id DESC);
  CREATE INDEX workflow_runs_user_status_idx ON workflow_runs (workspace_id, status, id DESC);
  CREATE INDEX workflow_runs_workflow_idx ON workflow_runs (workflow_id, id DESC);
  -- attempts keep their id (the order of the log) but the unique key is the one with the run: (run_id, step, number)
  ALTER TABLE attempts ADD CONSTRAINT attempts_run_step_number_key UNIQUE NULLS NOT DISTINCT (run_id, step, number);
  ALTER TABLE run_steps ADD PRIMARY KEY (run_id, key);

  ALTER TABLE workflow_runs ADD CONSTRAINT workflow_runs_workflow_id_fkey
    FOREIGN KEY (workflow_id) REFERENCES workflows (id) ON DELETE CASCADE;
  ALTER TABLE attempts ADD CONSTRAINT attempts_run_id_fkey
    FOREIGN KEY (run_id) REFERENCES workflow_runs (id) ON DELETE CASCADE;
  ALTER TABLE run_steps ADD CONSTRAINT run_steps_run_id_fkey
    FOREIGN KEY (run_id) REFERENCES workflow_runs (id) ON DELETE CASCADE;
  ALTER TABLE jobs ADD CONSTRAINT jobs_run_id_fkey
    FOREIGN KEY (run_id) REFERENCES workflow_runs (id) ON DELETE CASCADE;
  ALTER TABLE failure_alerts ADD CONSTRAINT failure_alerts_run_id_fkey
    FOREIGN KEY (run_id) REFERENCES workflow_runs (id) ON DELETE CASCADE;
  ALTER TABLE sub_runs ADD CONSTRAINT sub_runs_parent_run_id_fkey
    FOREIGN KEY (parent_run_id) REFERENCES workflow_runs (id) ON DELETE CASCADE;

  -- the first partition; RunPartitions keeps more ahead of the sequence
  EXECUTE format('CREATE TABLE workflow_runs_p%1$s PARTITION OF workflow_runs FOR VALUES FROM (%1$s) TO (%2$s)',
                 next_run, next_run + first_size);
  EXECUTE format('CREATE TABLE attempts_p%1$s PARTITION OF attempts FOR VALUES FROM (%1$s) TO (%2$s)',
                 next_run, next_run + first_size);
  EXECUTE format('CREATE TABLE run_steps_p%1$s PARTITION OF run_steps FOR VALUES FROM (%1$s) TO (%2$s)',
                 next_run, next_run + first_size);
END $$;
