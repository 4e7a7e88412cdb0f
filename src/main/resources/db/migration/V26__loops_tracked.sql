-- A workflow whose one step has for_each was stored untracked (no run_steps), and its runs could not expand their
-- items (issue 24): a loop's items are steps of the run, so such workflows keep per-step state like a step with a
-- when or a workflow does (StepDefinitions.Definition#tracked).
UPDATE workflows SET tracked = true
 WHERE NOT tracked AND jsonb_path_exists(steps, '$[*] ? (exists(@.for_each))');
