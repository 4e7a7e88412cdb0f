-- When a step with needs may start (issue 24): NULL is all_succeeded (every need succeeded: the rule before run_if);
-- any_succeeded, always and any_failed steps start once every need has finished, and their job decides at claim
-- whether the condition holds (else the step is skipped). handled: a failed step whose failure an any_failed step
-- that needs it handled by succeeding; such failures do not fail the run.
ALTER TABLE run_steps ADD COLUMN run_if text CHECK (run_if IN ('any_succeeded', 'always', 'any_failed'));
ALTER TABLE run_steps ADD COLUMN handled boolean NOT NULL DEFAULT false;
