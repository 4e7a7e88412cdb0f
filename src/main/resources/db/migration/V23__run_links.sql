-- A child run names its parent (issue 24: visible both ways; the parent's step names its child through sub_runs).
ALTER TABLE workflow_runs ADD COLUMN parent_run_id bigint;
UPDATE workflow_runs r SET parent_run_id = sr.parent_run_id FROM sub_runs sr WHERE sr.child_run_id = r.id;
