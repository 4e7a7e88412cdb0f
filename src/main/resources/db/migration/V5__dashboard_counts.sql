-- GET /stats counts a user's runs of the last 24 hours by hour, status and workflow. This index answers those counts
-- from the index alone (an index-only scan once vacuum has marked the pages all-visible), however long the history.
CREATE INDEX workflow_runs_user_created_idx ON workflow_runs (user_id, created_at) INCLUDE (workflow_id, status, ended_at);
