-- for_each (issue 24): a step that loops expands, at its first claim, into one run_steps row per item (key
-- "<step>#<index>", item_of = the step's key, item = the item's JSON); each is a step of its own (webhook-id,
-- attempts, retries, attempt log, leases). Item i >= concurrency needs item i - concurrency with run_if always, so
-- at most concurrency are in flight; the step itself then waits for every item (run_if always) and, claimed again,
-- gathers their responses.
ALTER TABLE run_steps ADD COLUMN item_of text;
ALTER TABLE run_steps ADD COLUMN item jsonb;
