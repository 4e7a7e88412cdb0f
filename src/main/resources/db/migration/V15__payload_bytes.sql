-- The size of a run's payload as delivered, kept at insert: the claim statement cuts its batch by the memory it will
-- take, and reading octet_length(payload::text) there decompressed every due payload of every claim (64 MiB a claim
-- for a backlog of 1 MiB payloads, issue 22). Stored: computed once when the row is written (an upgrade rewrites the
-- table once).
ALTER TABLE workflow_runs ADD COLUMN payload_bytes integer GENERATED ALWAYS AS (octet_length(payload::text)) STORED;
