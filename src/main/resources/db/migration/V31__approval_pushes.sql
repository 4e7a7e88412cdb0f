-- Web Push to approvers (issue 25): a browser subscription may also hear about approvals waiting for its user (one
-- whose role may decide them), besides the failed runs of the workflows it names.
ALTER TABLE push_subscriptions ADD COLUMN approvals boolean NOT NULL DEFAULT false;
CREATE INDEX push_subscriptions_approvals_idx ON push_subscriptions (workspace_id) WHERE approvals;
