package dev.kikonect.lifecycle;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * Sub-workflows: a step with {@code workflow} starts a run of that workflow (the child) and waits for it holding no
 * job, lease or thread. {@link #start} creates the child run (its steps and first jobs) and removes the parent step's
 * job in one statement; the step stays {@code running}. When the child ends, {@link #resumeEnded} gives the step a job
 * again (exactly once: rows taken with SKIP LOCKED, flagged in the same statement), and the claim of that job reads the
 * child's result ({@link #result}) to complete the step. Owns {@code sub_runs}.
 */
@Repository
public class SubRuns {

    /** How deep sub-workflows nest: a child of a top-level run is at depth 1 (steps.StepDefinitions checks it at save). */
    public static final int MAX_DEPTH = 5;

    /** The step's current child: its run, and whether it ended and the step got its job back. */
    public record Child(long childRunId, boolean resumed) {}

    /**
     * How a child run ended: its status and error, and the response its parent step keeps (null: none); {@code output}
     * is its workflow's output expression (null: the response is its last step's), {@code payload} its payload.
     */
    public record Result(
            String status,
            String error,
            Integer responseStatus,
            String responseHeaders,
            String responseBody,
            String output,
            String payload,
            long workspaceId) {}

    /** A step of a child run as its workflow's output expression reads it: its status and last response. */
    public record StepResult(
            String key, String status, Integer responseStatus, String responseHeaders, String responseBody) {}

    /** What {@link #start} did. */
    public enum Started {
        /** The child run was created and the step's job removed: the step waits. */
        STARTED,
        /** The step already has a child (its job came back after a lost lease): the job was removed again. */
        ALREADY,
        /** Nesting deeper than {@link #MAX_DEPTH}: nothing was done. */
        TOO_DEEP,
        /** The lease was lost (another node holds the job): nothing was done. */
        LOST,
        /** The workflow is paused, deleted or not of this workspace: nothing was done (the step fails). */
        MISSING
    }

    private final JdbcClient jdbc;

    SubRuns(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** The current child of step {@code step} of run {@code runId}, if it has one. */
    public Optional<Child> child(long runId, String step) {
        return jdbc.sql("SELECT child_run_id, resumed FROM sub_runs WHERE parent_run_id = :run AND parent_step = :step")
                .param("run", runId)
                .param("step", step)
                .query((rs, n) -> new Child(rs.getLong("child_run_id"), rs.getBoolean("resumed")))
                .optional();
    }

    /**
     * Starts a run of workflow {@code childWorkflowId} (of the parent's workspace, enabled) with {@code payload} as the
     * child of {@code job}'s step, and removes the job (fenced by its lease), in one statement.
     */
    public Started start(ClaimedJob job, long childWorkflowId, String payload, Instant now) {
        int depth = jdbc.sql("SELECT coalesce((SELECT depth FROM sub_runs WHERE child_run_id = :run), 0) + 1")
                .param("run", job.runId())
                .query(Integer.class)
                .single();
        if (depth > MAX_DEPTH) {
            return Started.TOO_DEEP;
        }
        String outcome = jdbc.sql("""
            WITH target AS (
              SELECT w.id FROM workflows w WHERE w.id = :child AND w.workspace_id = :workspace AND w.enabled
            ), existing AS (
              SELECT child_run_id FROM sub_runs WHERE parent_run_id = :parent AND parent_step = :step
            ), parked AS (
              DELETE FROM jobs WHERE id = :job AND lease_token = :token AND status = 'processing'
                 AND (EXISTS (SELECT 1 FROM target) OR EXISTS (SELECT 1 FROM existing))
              RETURNING run_id
            ), run AS (
              INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, created_at, parent_run_id,
                                         open_steps)
              SELECT w.id, w.workspace_id, 'pending', 'workflow', CAST(:payload AS json), :now, :parent,
                     (""" + RunSteps.OPEN_STEPS + """
            )
                FROM workflows w
               WHERE w.id IN (SELECT id FROM target)
                 AND EXISTS (SELECT 1 FROM parked) AND NOT EXISTS (SELECT 1 FROM existing)
              RETURNING id, workflow_id, status, open_steps, created_at
            ), link AS (
              INSERT INTO sub_runs (parent_run_id, parent_step, child_run_id, depth, created_at)
              SELECT :parent, :step, run.id, :depth, :now FROM run
            )
            """ + RunSteps.START + """
            SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM target) AND NOT EXISTS (SELECT 1 FROM existing) THEN 'missing'
                        WHEN NOT EXISTS (SELECT 1 FROM parked) THEN 'lost'
                        WHEN EXISTS (SELECT 1 FROM existing) THEN 'already'
                        ELSE 'started' END
            """)
                .param("job", job.jobId())
                .param("token", job.leaseToken())
                .param("parent", job.runId())
                .param("step", job.step())
                .param("child", childWorkflowId)
                .param("workspace", job.workspaceId())
                .param("payload", payload)
                .param("depth", depth)
                .param("now", Timestamp.from(now))
                .query(String.class)
                .single();
        return switch (outcome) {
            case "started" -> Started.STARTED;
            case "already" -> Started.ALREADY;
            case "lost" -> Started.LOST;
            default -> Started.MISSING;
        };
    }

    /**
     * Gives the waiting parent steps of children that ended their job back (at most {@code limit}); returns how many.
     * Exactly once across nodes: the rows are taken with SKIP LOCKED and flagged resumed in the same statement.
     */
    public int resumeEnded(int limit, Instant now) {
        return jdbc.sql("""
            WITH due AS (
              SELECT sr.parent_run_id, sr.parent_step
                FROM sub_runs sr JOIN workflow_runs c ON c.id = sr.child_run_id
               WHERE NOT sr.resumed AND c.status IN ('succeeded', 'failed', 'cancelled', 'filtered', 'skipped')
               ORDER BY sr.created_at
               LIMIT :limit
                 FOR UPDATE OF sr SKIP LOCKED
            ), flagged AS (
              UPDATE sub_runs sr SET resumed = true
                FROM due WHERE sr.parent_run_id = due.parent_run_id AND sr.parent_step = due.parent_step
              RETURNING sr.parent_run_id, sr.parent_step
            ), step AS (
              UPDATE run_steps s SET status = 'pending'
                FROM flagged f WHERE s.run_id = f.parent_run_id AND s.key = f.parent_step AND s.status = 'running'
              RETURNING s.run_id, s.key
            ), job AS (
              INSERT INTO jobs (run_id, workflow_id, step, run_at, created_at)
              SELECT step.run_id, r.workflow_id, step.key, :now, :now
                FROM step JOIN workflow_runs r ON r.id = step.run_id
              RETURNING run_id
            )
            SELECT count(*) FROM job
            """)
                .param("limit", limit)
                .param("now", Timestamp.from(now))
                .query(Integer.class)
                .single();
    }

    /**
     * How child run {@code childRunId} ended, with its response for the parent: the last attempt's response of its
     * last step that succeeded (in the workflow's order), or of its one step; empty when the run is gone (retention).
     */
    public Optional<Result> result(long childRunId) {
        return jdbc.sql("""
            SELECT r.status, r.error, a.response_status, a.response_headers::text AS response_headers, a.response_body,
                   w.output, r.payload::text AS payload, r.workspace_id
              FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id
              LEFT JOIN LATERAL (
                SELECT a.response_status, a.response_headers, a.response_body FROM attempts a
                 WHERE a.run_id = r.id AND a.response_status BETWEEN 200 AND 299
                   AND (r.open_steps IS NULL
                        OR a.step = (SELECT s.key FROM run_steps s WHERE s.run_id = r.id AND s.status = 'succeeded'
                                      ORDER BY s.position DESC LIMIT 1))
                 ORDER BY a.number DESC LIMIT 1) a ON true
             WHERE r.id = :run
            """)
                .param("run", childRunId)
                .query((rs, n) -> new Result(
                        rs.getString("status"),
                        rs.getString("error"),
                        (Integer) rs.getObject("response_status"),
                        rs.getString("response_headers"),
                        rs.getString("response_body"),
                        rs.getString("output"),
                        rs.getString("payload"),
                        rs.getLong("workspace_id")))
                .optional();
    }

    /** The steps of child run {@code childRunId} with their last responses, in the workflow's order. */
    public List<StepResult> steps(long childRunId) {
        return jdbc.sql("""
            SELECT coalesce(s.key, coalesce(w.steps -> 0 ->> 'key', 'deliver')) AS key, coalesce(s.status, r.status) AS status,
                   a.response_status, a.response_headers::text AS response_headers, a.response_body
              FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id
              LEFT JOIN run_steps s ON s.run_id = r.id
              LEFT JOIN LATERAL (
                SELECT response_status, response_headers, response_body FROM attempts a
                 WHERE a.run_id = r.id AND a.step IS NOT DISTINCT FROM s.key AND a.response_status IS NOT NULL
                 ORDER BY a.number DESC LIMIT 1) a ON true
             WHERE r.id = :run
             ORDER BY s.position
            """)
                .param("run", childRunId)
                .query((rs, n) -> new StepResult(
                        rs.getString("key"),
                        rs.getString("status"),
                        (Integer) rs.getObject("response_status"),
                        rs.getString("response_headers"),
                        rs.getString("response_body")))
                .list();
    }
}
