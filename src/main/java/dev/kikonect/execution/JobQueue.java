package dev.kikonect.execution;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The jobs table as a queue. Each state change is one statement: a claim takes a batch of due jobs and marks their
 * runs running; a completion finishes job and run together, and only if this node still holds the job's lease.
 */
@Repository
class JobQueue {

  private final JdbcClient jdbc;

  JobQueue(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  /** Claims up to {@code limit} due jobs, oldest first, skipping rows other executors have locked. */
  List<ClaimedJob> claim(int limit, Instant now, Duration lease, String node) {
    return jdbc.sql(
            """
            WITH due AS (
              SELECT id FROM jobs
              WHERE status = 'pending' AND run_at <= :now
              ORDER BY run_at, id
              LIMIT :limit
              FOR UPDATE SKIP LOCKED
            ), claimed AS (
              UPDATE jobs j
                 SET status = 'processing', attempt = j.attempt + 1, lease_token = gen_random_uuid(),
                     lease_expires_at = :lease_until, locked_by = :node, started_at = :now
                FROM due
               WHERE j.id = due.id
              RETURNING j.id, j.run_id, j.workflow_id, j.attempt, j.lease_token
            ), run AS (
              UPDATE workflow_runs r
                 SET status = 'running', started_at = coalesce(r.started_at, :now), attempts = claimed.attempt
                FROM claimed
               WHERE r.id = claimed.run_id
              RETURNING r.id, r.payload::text AS payload, r.webhook_id
            )
            SELECT claimed.id, claimed.run_id, claimed.workflow_id, claimed.attempt, claimed.lease_token,
                   w.action_url, run.payload, run.webhook_id
              FROM claimed
              JOIN run ON run.id = claimed.run_id
              JOIN workflows w ON w.id = claimed.workflow_id
             ORDER BY claimed.id
            """)
        .param("now", Timestamp.from(now))
        .param("limit", limit)
        .param("lease_until", Timestamp.from(now.plus(lease)))
        .param("node", node)
        .query(
            (rs, n) ->
                new ClaimedJob(
                    rs.getLong("id"),
                    rs.getLong("run_id"),
                    rs.getLong("workflow_id"),
                    rs.getInt("attempt"),
                    rs.getObject("lease_token", UUID.class),
                    rs.getString("action_url"),
                    rs.getString("payload"),
                    rs.getString("webhook_id")))
        .list();
  }

  /**
   * Records the outcome on job and run. Returns false when the lease was lost (another node took the job over):
   * then nothing is written, so a late worker can never overwrite a newer attempt.
   */
  boolean complete(ClaimedJob job, Outcome outcome, Instant now) {
    String status = outcome.succeeded() ? "succeeded" : "failed";
    int updated =
        jdbc.sql(
                """
                WITH job AS (
                  UPDATE jobs
                     SET status = :status, ended_at = :now, error = :error, lease_token = NULL, lease_expires_at = NULL
                   WHERE id = :id AND status = 'processing' AND lease_token = :token
                  RETURNING run_id
                )
                UPDATE workflow_runs r
                   SET status = :status, ended_at = :now, error = :error
                  FROM job
                 WHERE r.id = job.run_id
                """)
            .param("status", status)
            .param("now", Timestamp.from(now))
            .param("error", outcome.error())
            .param("id", job.jobId())
            .param("token", job.leaseToken())
            .update();
    return updated == 1;
  }
}
