package dev.kikonect.lifecycle;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * Error workflows: a workflow with trigger_type {@code run_failed} watches others ({@code trigger_config.workflows}:
 * "all" of its workspace, or their ids), and a run of a watched workflow that ends failed starts one run of it. The
 * completion that fails a run queues its failure alert when a watcher exists ({@link #WATCHED}, in the same statement,
 * so it is never lost); the alerts loop reads the failure ({@link #failure}) and starts the runs ({@link #start}), at
 * most once per failed run and error workflow however often it tries ({@code workflow_runs.caused_by_run_id}). A run
 * of an error workflow never starts another one (no loops).
 */
@Repository
public class RunFailures {

    /**
     * A condition on {@code w} (the failed run's workflow): some enabled error workflow of its workspace watches it.
     */
    static final String WATCHED = """
        (w.trigger_type <> 'run_failed' AND EXISTS (
           SELECT 1 FROM workflows e
            WHERE e.workspace_id = w.workspace_id AND e.trigger_type = 'run_failed' AND e.enabled
              AND (e.trigger_config -> 'workflows' = '"all"'::jsonb OR e.trigger_config -> 'workflows' @> to_jsonb(w.id))))
        """;

    /** An error workflow watching the failed run's workflow. */
    public record Watcher(long workflowId, long workspaceId, String name, String filter) {}

    /** A failed step as the error workflow's payload shows it, with its last attempt's response (null status: none). */
    public record FailedStep(
            String key,
            String error,
            int attempts,
            Integer responseStatus,
            String responseHeaders,
            String responseBody) {}

    /** A run that ended failed, with its failed steps (not those an error path handled) and who watches it. */
    public record Failure(
            long runId,
            long workflowId,
            String workflowName,
            String status,
            String trigger,
            String error,
            int attempts,
            Instant createdAt,
            Instant endedAt,
            List<FailedStep> failedSteps,
            List<Watcher> watchers) {}

    /** What to start for one watcher: a pending run, or (its filter said no) a run recorded filtered or failed. */
    public record Start(Watcher watcher, RunStatus outcome, String error) {}

    private final JdbcClient jdbc;

    RunFailures(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** The failed run {@code runId} and its watchers; empty when it did not fail or nothing watches it. */
    public Optional<Failure> failure(long runId) {
        Optional<Failure> run = jdbc.sql("""
            SELECT r.id, r.workflow_id, w.name, r.status, r.trigger, r.error, r.attempts, r.created_at, r.ended_at,
                   r.open_steps IS NULL AS untracked
              FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id
             WHERE r.id = :run AND r.status = 'failed' AND """ + WATCHED)
                .param("run", runId)
                .query((rs, n) -> new Failure(
                        rs.getLong("id"),
                        rs.getLong("workflow_id"),
                        rs.getString("name"),
                        rs.getString("status"),
                        rs.getString("trigger"),
                        rs.getString("error"),
                        rs.getInt("attempts"),
                        rs.getTimestamp("created_at").toInstant(),
                        Run.instant(rs.getTimestamp("ended_at")),
                        rs.getBoolean("untracked") ? untrackedStep(runId, rs.getString("error")) : failedSteps(runId),
                        watchers(runId)))
                .optional();
        return run.filter(f -> !f.watchers().isEmpty());
    }

    private List<FailedStep> failedSteps(long runId) {
        return jdbc.sql("""
            SELECT s.key, s.error, s.attempts, a.response_status, a.response_headers::text AS response_headers,
                   a.response_body
              FROM run_steps s
              LEFT JOIN LATERAL (SELECT response_status, response_headers, response_body FROM attempts
                                  WHERE run_id = s.run_id AND step = s.key ORDER BY number DESC LIMIT 1) a ON true
             WHERE s.run_id = :run AND s.status = 'failed' AND NOT s.handled ORDER BY s.position
            """)
                .param("run", runId)
                .query((rs, n) -> new FailedStep(
                        rs.getString("key"),
                        rs.getString("error"),
                        rs.getInt("attempts"),
                        (Integer) rs.getObject("response_status"),
                        rs.getString("response_headers"),
                        rs.getString("response_body")))
                .list();
    }

    /** A one-step run's step is the run: its error and its last attempt's response. */
    private List<FailedStep> untrackedStep(long runId, String error) {
        return List.of(jdbc.sql("""
                SELECT count(*) OVER () AS attempts, response_status, response_headers::text AS response_headers,
                       response_body
                  FROM attempts WHERE run_id = :run ORDER BY number DESC LIMIT 1
                """)
                .param("run", runId)
                .query((rs, n) -> new FailedStep(
                        "deliver",
                        error,
                        rs.getInt("attempts"),
                        (Integer) rs.getObject("response_status"),
                        rs.getString("response_headers"),
                        rs.getString("response_body")))
                .optional()
                .orElse(new FailedStep("deliver", error, 0, null, null, null)));
    }

    private List<Watcher> watchers(long runId) {
        return jdbc.sql("""
            SELECT e.id, e.workspace_id, e.name, e.filter
              FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id
              JOIN workflows e ON e.workspace_id = w.workspace_id AND e.trigger_type = 'run_failed' AND e.enabled
                               AND (e.trigger_config -> 'workflows' = '"all"'::jsonb
                                    OR e.trigger_config -> 'workflows' @> to_jsonb(w.id))
             WHERE r.id = :run AND w.trigger_type <> 'run_failed'
             ORDER BY e.id
            """)
                .param("run", runId)
                .query((rs, n) -> new Watcher(
                        rs.getLong("id"), rs.getLong("workspace_id"), rs.getString("name"), rs.getString("filter")))
                .list();
    }

    /**
     * Starts the runs of {@code starts} for failed run {@code runId} with {@code payload} (JSON), each with its steps
     * and first jobs, in one statement; a watcher that already has its run for this failure gets none. Returns how
     * many runs were started to be delivered (the caller wakes the executor).
     */
    public int start(long runId, String payload, List<Start> starts, Instant now) {
        if (starts.isEmpty()) {
            return 0;
        }
        long[] workflows =
                starts.stream().mapToLong(s -> s.watcher().workflowId()).toArray();
        long[] workspaces =
                starts.stream().mapToLong(s -> s.watcher().workspaceId()).toArray();
        String[] outcomes = starts.stream()
                .map(s -> s.outcome() == null ? null : s.outcome().wire())
                .toArray(String[]::new);
        String[] errors = starts.stream().map(Start::error).toArray(String[]::new);
        return jdbc.sql("""
            WITH cause AS (
              -- once per failed run and watcher: the cause's row is taken in the same statement as the run
              INSERT INTO run_failed_causes (workflow_id, caused_by_run_id)
              SELECT DISTINCT s.workflow_id, CAST(:caused_by AS bigint) FROM unnest(:workflows::bigint[]) AS s(workflow_id)
                JOIN workflows w ON w.id = s.workflow_id AND w.enabled
              ON CONFLICT DO NOTHING
              RETURNING workflow_id
            ), run AS (
              INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, error, created_at, ended_at,
                                         open_steps, caused_by_run_id, filter_failed)
              SELECT s.workflow_id, s.workspace_id, coalesce(s.outcome, 'pending'), 'run_failed', CAST(:payload AS json),
                     s.error, :now, CASE WHEN s.outcome IS NOT NULL THEN CAST(:now AS timestamptz) END,
                     CASE WHEN s.outcome IS NULL THEN (""" + RunSteps.OPEN_STEPS + """
             ) END, :caused_by, s.outcome IS NOT DISTINCT FROM 'failed'
                FROM unnest(:workflows::bigint[], :workspaces::bigint[], :outcomes::text[], :errors::text[])
                     AS s(workflow_id, workspace_id, outcome, error)
                JOIN workflows w ON w.id = s.workflow_id AND w.enabled
                JOIN cause c ON c.workflow_id = s.workflow_id
              RETURNING id, workflow_id, status, open_steps, created_at
            )
            """ + RunSteps.START + """
            SELECT count(*) FROM run WHERE status = 'pending'
            """)
                .param("payload", payload)
                .param("workflows", workflows)
                .param("workspaces", workspaces)
                .param("outcomes", outcomes)
                .param("errors", errors)
                .param("caused_by", runId)
                .param("now", Timestamp.from(now))
                .query(Integer.class)
                .single();
    }
}
