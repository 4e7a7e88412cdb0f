-- Approvals (issue 25): a step with wait {for: approval} records, when its wait begins, who may decide (the roles:
-- each also admits the roles above it) and the message shown to them; the decision is recorded like a callback
-- (resumed_at, the response {approved, by, comment}) and in the audit log.
ALTER TABLE run_steps ADD COLUMN approval_roles text[];
ALTER TABLE run_steps ADD COLUMN approval_message text;
