-- A callback or approval wait that reached its timeout with on_timeout: continue succeeds with no response and says
-- so: steps.<key>.timed_out in later steps' expressions, and timed_out in GET /runs/{id}.
ALTER TABLE run_steps ADD COLUMN timed_out boolean NOT NULL DEFAULT false;
