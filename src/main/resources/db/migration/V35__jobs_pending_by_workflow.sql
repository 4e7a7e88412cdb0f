-- A claim that passes over owners at their limit (fair share, the memory budget) finds the others' due jobs workflow
-- by workflow instead of filtering the oldest-first scan, which read the skipped owner's whole backlog (Claims).
CREATE INDEX jobs_pending_workflow_idx ON jobs (workflow_id, run_at, id) WHERE status = 'pending';
