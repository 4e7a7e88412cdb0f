package dev.kikonect.run;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Reads run history, always scoped to the owner, and cancels runs. Runs are written by the Triggerer and executor. */
@Repository
class RunStore {

  private final JdbcClient jdbc;

  RunStore(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  Optional<Run> findOwned(long userId, long id) {
    return jdbc.sql("SELECT " + Run.COLUMNS + " FROM workflow_runs WHERE id = :id AND user_id = :user")
        .param("id", id)
        .param("user", userId)
        .query(Run::fromRow)
        .optional();
  }

  List<AttemptView> attempts(long runId) {
    return jdbc.sql(
            """
            SELECT number, started_at, duration_ms, response_status, response_headers::text AS response_headers,
                   response_body, error
              FROM attempts WHERE run_id = :run ORDER BY number
            """)
        .param("run", runId)
        .query(
            (rs, n) ->
                new AttemptView(
                    rs.getInt("number"),
                    rs.getTimestamp("started_at").toInstant(),
                    rs.getLong("duration_ms"),
                    (Integer) rs.getObject("response_status"),
                    rs.getString("response_headers"),
                    rs.getString("response_body"),
                    rs.getString("error")))
        .list();
  }

  /** Which runs a listing shows; null fields do not filter. */
  record Filter(Long workflowId, String status, String trigger, Instant createdAfter, Instant createdBefore) {}

  /** Newest first, {@code limit + 1} rows below {@code beforeId} (a keyset: stable while new runs arrive). */
  List<Run> list(long userId, Filter filter, long beforeId, int limit) {
    return jdbc.sql(
            "SELECT " + Run.COLUMNS
                + """
                 FROM workflow_runs
                WHERE user_id = :user AND id < :before
                  AND (CAST(:workflow AS bigint) IS NULL OR workflow_id = CAST(:workflow AS bigint))
                  AND (CAST(:status AS text) IS NULL OR status = CAST(:status AS text))
                  AND (CAST(:trigger AS text) IS NULL OR trigger = CAST(:trigger AS text))
                  AND (CAST(:after AS timestamptz) IS NULL OR created_at >= CAST(:after AS timestamptz))
                  AND (CAST(:before_time AS timestamptz) IS NULL OR created_at < CAST(:before_time AS timestamptz))
                ORDER BY id DESC LIMIT :limit
                """)
        .param("user", userId)
        .param("before", beforeId)
        .param("workflow", filter.workflowId(), java.sql.Types.BIGINT)
        .param("status", filter.status(), java.sql.Types.VARCHAR)
        .param("trigger", filter.trigger(), java.sql.Types.VARCHAR)
        .param("after", filter.createdAfter() == null ? null : Timestamp.from(filter.createdAfter()), java.sql.Types.TIMESTAMP)
        .param("before_time", filter.createdBefore() == null ? null : Timestamp.from(filter.createdBefore()), java.sql.Types.TIMESTAMP)
        .param("limit", limit + 1)
        .query(Run::fromRow)
        .list();
  }

  /**
   * Cancels a pending or retrying run of this user; true if it was cancelled. Its job leaves the queue (deleted,
   * which locks the row first), so a concurrent claim either took the job (then this changes nothing) or never will.
   */
  boolean cancel(long userId, long runId, Instant now) {
    return jdbc.sql(
            """
            WITH job AS (
              DELETE FROM jobs
               WHERE run_id = :run AND status = 'pending'
                 AND EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = :run AND r.user_id = :user)
              RETURNING run_id
            )
            UPDATE workflow_runs r SET status = 'cancelled', ended_at = :now, next_attempt_at = NULL
              FROM job WHERE r.id = job.run_id
            """)
            .param("now", Timestamp.from(now))
            .param("run", runId)
            .param("user", userId)
            .update()
        == 1;
  }
}
