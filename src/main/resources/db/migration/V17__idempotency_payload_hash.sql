-- Issue 22: an Idempotency-Key repeated with another payload is refused instead of answered with the run (and the
-- payload) of whoever used the key first. Keys from before this have no hash and keep answering as they did.
ALTER TABLE idempotency_keys ADD COLUMN payload_hash bytea;
