package dev.kikonect.lifecycle;

/**
 * How a new run starts, shared by every statement that creates runs (webhook and manual ingest, idempotent
 * triggers, the scheduler, replays). Each of those statements has a CTE {@code run} returning the new runs' {@code
 * id, workflow_id, status, open_steps, created_at}, and sets {@code open_steps} from its workflow: NULL for an
 * untracked workflow (one step, no {@code when}), the number of steps for a tracked one.
 *
 * <p>An untracked run gets one job with no step: the run is its step, exactly as before steps existed. A tracked run
 * gets a {@code run_steps} row per step (its graph fixed for the run's life) and a job for each step that needs
 * nothing, all in the same statement as the run.
 */
final class RunSteps {

    private RunSteps() {}

    /** The open_steps value for a new pending run of workflow {@code w}. */
    static final String OPEN_STEPS = "CASE WHEN w.tracked THEN jsonb_array_length(w.steps) END";

    /** CTEs to append after {@code run}: the steps and first jobs of the new pending runs. */
    static final String START = """
      , run_step AS (
        INSERT INTO run_steps (run_id, key, position, needs, waiting_for, status, run_if, created_at)
        SELECT run.id, s.value->>'key', s.n::int,
               ARRAY(SELECT jsonb_array_elements_text(coalesce(s.value->'needs', '[]'::jsonb))),
               jsonb_array_length(coalesce(s.value->'needs', '[]'::jsonb)),
               CASE WHEN jsonb_array_length(coalesce(s.value->'needs', '[]'::jsonb)) = 0 THEN 'pending' ELSE 'waiting' END,
               nullif(s.value->>'run_if', 'all_succeeded'), run.created_at
          FROM run JOIN workflows sw ON sw.id = run.workflow_id
         CROSS JOIN LATERAL jsonb_array_elements(sw.steps) WITH ORDINALITY AS s(value, n)
         WHERE run.status = 'pending' AND run.open_steps IS NOT NULL
      ), job AS (
        -- An untracked run's one job (exactly the statement of the single-step path before steps existed).
        INSERT INTO jobs (run_id, workflow_id, run_at, created_at)
        SELECT id, workflow_id, created_at, created_at FROM run WHERE status = 'pending' AND open_steps IS NULL
      ), step_job AS (
        -- A tracked run's first jobs: one per step that needs nothing, in the steps' order.
        INSERT INTO jobs (run_id, workflow_id, step, run_at, created_at)
        SELECT run.id, run.workflow_id, s.value->>'key', run.created_at, run.created_at
          FROM run JOIN workflows sw ON sw.id = run.workflow_id
         CROSS JOIN LATERAL jsonb_array_elements(sw.steps) WITH ORDINALITY AS s(value, n)
         WHERE run.status = 'pending' AND run.open_steps IS NOT NULL
           AND jsonb_array_length(coalesce(s.value->'needs', '[]'::jsonb)) = 0
         ORDER BY run.id, s.n
      )
      """;
}
