-- Whether a run failed because its workflow's filter failed (issue 23, defect 7): such a run has nothing to retry, and
-- the retry used to tell by reading the error message ("filter: ..."). Now a column says it; the message is free text.
ALTER TABLE workflow_runs ADD COLUMN filter_failed boolean NOT NULL DEFAULT false;
UPDATE workflow_runs SET filter_failed = true
 WHERE status = 'failed' AND open_steps IS NULL AND error LIKE 'filter: %'
   AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.run_id = workflow_runs.id);
