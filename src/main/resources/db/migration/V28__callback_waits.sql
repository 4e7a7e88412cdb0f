-- Callback waits (issue 25): a step with wait {for: callback} is resumed once by POST /resume/{token}; resumed_at
-- makes the token single use, and the JSON posted is kept as the step's response (response_body) for the steps after
-- it. The token itself is not stored (an HMAC under a key derived from the master key: common/ResumeTokens).
ALTER TABLE run_steps ADD COLUMN resumed_at timestamptz;
