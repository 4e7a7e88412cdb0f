package dev.kikonect.lifecycle;

import java.sql.Timestamp;
import java.time.Instant;
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
        String outcome = jdbc.sql("""
            WITH target AS (
              SELECT s.run_id, s.key, s.resumed_at, s.status FROM run_steps s
               WHERE s.run_id = :run AND s.key = :step AND s.item_of IS NULL
            ), resumed AS (
              UPDATE run_steps s
                 SET resumed_at = :now, response_status = 200, response_headers = '{}'::jsonb, response_body = :body
                FROM target t
               WHERE s.run_id = t.run_id AND s.key = t.key AND t.resumed_at IS NULL
                 AND t.status IN ('waiting', 'pending', 'retrying', 'running')
              RETURNING s.run_id, s.key
            ), due AS (
              -- a step that waits in the queue is due at once; one not yet started (or being claimed) finds the
              -- callback at its claim
              UPDATE jobs j SET run_at = least(j.run_at, :now)
                FROM resumed r WHERE j.run_id = r.run_id AND j.step = r.key AND j.status = 'pending'
            )
            SELECT CASE WHEN EXISTS (SELECT 1 FROM resumed) THEN 'RESUMED'
                        WHEN EXISTS (SELECT 1 FROM target) THEN 'ALREADY'
                        ELSE 'NOT_FOUND' END
            """)
                .param("run", runId)
                .param("step", step)
                .param("body", json)
                .param("now", Timestamp.from(now))
                .query(String.class)
                .single();
        return Result.valueOf(outcome);
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
