-- Waiting steps (issue 25), delays first: a step with wait {for: delay} gives its job back at its first claim with
-- run_at at the end of the wait and waited_until set, so that the claim at that time sends it. A waiting step holds
-- its job row and nothing else: no lease, no thread, no memory on any node.
ALTER TABLE jobs ADD COLUMN waited_until timestamptz;
