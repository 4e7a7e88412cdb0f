package dev.kikonect.lifecycle;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * Steps waiting for a callback ({@code wait: {for: callback}}): {@link #resume} records the JSON posted to the step's
 * resume URL once (and makes its job due at once, if it is waiting in the queue); the step's claim reads it ({@link
 * #posted}) and succeeds with it. A callback may come before the step has begun to wait (the other system was quick):
 * it is kept, and the step succeeds at its first claim.
 */
@Repository
public class Resumes {

    /** What a resume did: resumed the step, found it resumed already (or ended), or found no such step. */
    public enum Result {
        RESUMED,
        ALREADY,
        NOT_FOUND
    }

    private final JdbcClient jdbc;

    Resumes(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** Resumes step {@code step} of run {@code runId} with {@code json} (the JSON posted), once. */
    public Result resume(long runId, String step, String json, Instant now) {
        // any step but an approval's or a loop's item, waiting or about to (a callback may come before the wait began)
        return record(RESUME, runId, step, json, now);
    }

    /**
     * Records {@code json} as the response of step {@code step} of run {@code runId}, once: the one statement of a
     * callback and of an approval's decision, which differ in the steps they may reach and the states those may be in
     * ({@code statement}: {@link #RESUME} or {@link #DECIDE}).
     */
    private Result record(String statement, long runId, String step, String json, Instant now) {
        String outcome = jdbc.sql(statement)
                .param("run", runId)
                .param("step", step)
                .param("body", json)
                .param("now", Timestamp.from(now))
                .query(String.class)
                .single();
        return Result.valueOf(outcome);
    }

    /**
     * The response is recorded on the step's row while nobody did (conditions on s, not t: a concurrent one that
     * committed first is seen here, the row being re-read after its lock, and this one then records nothing); a step
     * that waits in the queue is due at once, one not yet started (or being claimed) finds the response at its claim.
     */
    private static final String RECORD = """
            WITH target AS (
              SELECT s.run_id, s.key FROM run_steps s WHERE s.run_id = :run AND s.key = :step AND %s
            ), recorded AS (
              UPDATE run_steps s
                 SET resumed_at = :now, response_status = 200, response_headers = '{}'::jsonb, response_body = :body
                FROM target t
               WHERE s.run_id = t.run_id AND s.key = t.key AND s.resumed_at IS NULL AND s.status IN (%s)
              RETURNING s.run_id, s.key
            ), due AS (
              UPDATE jobs j SET run_at = least(j.run_at, :now)
                FROM recorded r WHERE j.run_id = r.run_id AND j.step = r.key AND j.status = 'pending'
            )
            SELECT CASE WHEN EXISTS (SELECT 1 FROM recorded) THEN 'RESUMED'
                        WHEN EXISTS (SELECT 1 FROM target) THEN 'ALREADY'
                        ELSE 'NOT_FOUND' END
            """;

    private static final String RESUME = RECORD.formatted(
            "s.item_of IS NULL AND s.approval_roles IS NULL", "'waiting', 'pending', 'retrying', 'running'");

    /** An approval's decision: its wait has begun (approval_roles set), and the step still waits (not being claimed). */
    private static final String DECIDE = RECORD.formatted("s.approval_roles IS NOT NULL", "'pending', 'retrying'");

    /** An approval waiting for a decision: the run, its workflow, the step, the message, who may decide, since when. */
    public record Pending(
            long runId,
            long workflowId,
            String workflowName,
            String step,
            String message,
            List<String> roles,
            String payload,
            Instant waitingSince,
            Instant timesOutAt) {}

    /**
     * The wait of approval step {@code step} of run {@code runId} begins: who may decide, and what they are told; false
     * when it had begun already (a claim whose wait was recorded but whose completion was lost comes here again).
     */
    public boolean approvalBegins(long runId, String step, List<String> roles, String message) {
        return jdbc.sql("""
            UPDATE run_steps SET approval_roles = :roles, approval_message = :message
             WHERE run_id = :run AND key = :step AND approval_roles IS NULL
            """)
                        .param("roles", roles.toArray(String[]::new))
                        .param("message", message)
                        .param("run", runId)
                        .param("step", step)
                        .update()
                == 1;
    }

    /** The wait of step {@code step} of run {@code runId} reached its timeout and goes on (on_timeout continue). */
    public void timedOut(long runId, String step) {
        jdbc.sql("UPDATE run_steps SET timed_out = true WHERE run_id = :run AND key = :step")
                .param("run", runId)
                .param("step", step)
                .update();
    }

    /** Who may decide approval step {@code step} of run {@code runId}, while it waits for a decision; empty otherwise. */
    public Optional<List<String>> approvers(long workspaceId, long runId, String step) {
        return jdbc.sql("""
            SELECT s.approval_roles FROM run_steps s JOIN workflow_runs r ON r.id = s.run_id
             WHERE s.run_id = :run AND s.key = :step AND r.workspace_id = :workspace AND s.approval_roles IS NOT NULL
            """)
                .param("run", runId)
                .param("step", step)
                .param("workspace", workspaceId)
                .query((rs, n) -> List.of((String[]) rs.getArray(1).getArray()))
                .optional();
    }

    /**
     * Records the decision on approval step {@code step} of run {@code runId} ({@code json}: {approved, by, comment}),
     * once, while it waits (its wait has begun, nothing decided it, it has not ended); its job is due at once.
     */
    public Result decide(long runId, String step, String json, Instant now) {
        return record(DECIDE, runId, step, json, now);
    }

    /** The approvals of workspace {@code workspaceId} waiting for a decision, oldest first (at most 200). */
    public List<Pending> pending(long workspaceId) {
        return jdbc.sql("""
            SELECT s.run_id, r.workflow_id, w.name, s.key, s.approval_message, s.approval_roles, r.payload::text AS payload,
                   coalesce(s.started_at, s.created_at) AS since, s.next_attempt_at
              FROM run_steps s JOIN workflow_runs r ON r.id = s.run_id JOIN workflows w ON w.id = r.workflow_id
             WHERE r.workspace_id = :workspace AND s.approval_roles IS NOT NULL AND s.resumed_at IS NULL
               AND s.status IN ('pending', 'retrying')
             ORDER BY since, s.run_id LIMIT 200
            """)
                .param("workspace", workspaceId)
                .query((rs, n) -> new Pending(
                        rs.getLong("run_id"),
                        rs.getLong("workflow_id"),
                        rs.getString("name"),
                        rs.getString("key"),
                        rs.getString("approval_message"),
                        List.of((String[]) rs.getArray("approval_roles").getArray()),
                        rs.getString("payload"),
                        rs.getTimestamp("since").toInstant(),
                        Run.instant(rs.getTimestamp("next_attempt_at"))))
                .list();
    }

    /** The JSON posted to step {@code step} of run {@code runId}, once it was resumed. */
    public Optional<String> posted(long runId, String step) {
        return jdbc.sql("""
            SELECT response_body FROM run_steps WHERE run_id = :run AND key = :step AND resumed_at IS NOT NULL
            """)
                .param("run", runId)
                .param("step", step)
                .query(String.class)
                .optional();
    }
}
