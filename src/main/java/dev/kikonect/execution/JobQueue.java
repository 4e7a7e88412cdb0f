package dev.kikonect.execution;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The jobs table as a queue. Every state change is one statement: a claim takes a batch of due jobs and marks their
 * runs running; a completion records the attempt and moves job and run on together, and only while this node
 * still holds the job's lease (the lease token is the fencing token).
 */
@Repository
class JobQueue {

  /** Where a run goes after an attempt. */
  enum Next {
    SUCCEEDED,
    RETRY,
    FAILED
  }

  private final JdbcClient jdbc;
  private final int defaultMaxAttempts;

  JobQueue(JdbcClient jdbc, dev.kikonect.KiKonectProperties properties) {
    this.jdbc = jdbc;
    this.defaultMaxAttempts = properties.delivery().maxAttempts();
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
                 SET status = 'running', started_at = coalesce(r.started_at, :now), attempts = claimed.attempt,
                     next_attempt_at = NULL
                FROM claimed
               WHERE r.id = claimed.run_id
              RETURNING r.id, r.payload::text AS payload, r.webhook_id, r.trigger, r.created_at
            )
            SELECT claimed.id, claimed.run_id, claimed.workflow_id, claimed.attempt, claimed.lease_token,
                   coalesce(w.max_attempts, :default_max_attempts) AS max_attempts,
                   w.action_url, run.payload, run.webhook_id, run.trigger, run.created_at AS run_created_at, w.signing_secret,
                   CASE WHEN w.previous_secret_expires_at > :now THEN w.previous_signing_secret END AS previous_secret
              FROM claimed
              JOIN run ON run.id = claimed.run_id
              JOIN workflows w ON w.id = claimed.workflow_id
             ORDER BY claimed.id
            """)
        .param("now", Timestamp.from(now))
        .param("limit", limit)
        .param("lease_until", Timestamp.from(now.plus(lease)))
        .param("node", node)
        .param("default_max_attempts", defaultMaxAttempts)
        .query(
            (rs, n) ->
                new ClaimedJob(
                    rs.getLong("id"),
                    rs.getLong("run_id"),
                    rs.getLong("workflow_id"),
                    rs.getInt("attempt"),
                    rs.getInt("max_attempts"),
                    rs.getObject("lease_token", UUID.class),
                    rs.getString("action_url"),
                    rs.getString("payload"),
                    rs.getString("webhook_id"),
                    rs.getString("signing_secret"),
                    rs.getString("previous_secret"),
                    rs.getString("trigger"),
                    rs.getTimestamp("run_created_at").toInstant()))
        .list();
  }

  /**
   * Records the attempt and moves job and run to {@code next} (with {@code retryAt} for a retry). Returns false
   * when the lease was lost (another node took the job over): then nothing is written, so a late worker can never
   * overwrite a newer attempt.
   */
  boolean complete(ClaimedJob job, Attempt attempt, Next next, Instant retryAt, Instant now) {
    String jobStatus =
        switch (next) {
          case SUCCEEDED -> "succeeded";
          case RETRY -> "pending";
          case FAILED -> "failed";
        };
    String runStatus = next == Next.RETRY ? "retrying" : jobStatus;
    Timestamp endedAt = next == Next.RETRY ? null : Timestamp.from(now);
    Timestamp nextAt = next == Next.RETRY ? Timestamp.from(retryAt) : null;
    int updated =
        jdbc.sql(
                """
                WITH job AS (
                  UPDATE jobs
                     SET status = :job_status, run_at = coalesce(CAST(:next_at AS timestamptz), run_at),
                         ended_at = CAST(:ended_at AS timestamptz), error = CAST(:error AS text),
                         lease_token = NULL, lease_expires_at = NULL
                   WHERE id = :id AND status = 'processing' AND lease_token = :token
                  RETURNING run_id
                ), attempt AS (
                  INSERT INTO attempts (run_id, number, started_at, duration_ms, response_status, response_headers,
                                        response_body, error)
                  SELECT run_id, :number, :started_at, :duration_ms, CAST(:response_status AS int),
                         CAST(:response_headers AS jsonb), CAST(:response_body AS text), CAST(:error AS text)
                    FROM job
                  ON CONFLICT (run_id, number) DO NOTHING
                ), alert AS (
                  INSERT INTO failure_alerts (run_id, next_at, created_at)
                  SELECT job.run_id, :now_ts, :now_ts FROM job JOIN workflows w ON w.id = :workflow
                   WHERE :run_status = 'failed' AND w.on_failure_url IS NOT NULL
                  ON CONFLICT (run_id) DO NOTHING
                )
                UPDATE workflow_runs r
                   SET status = :run_status, ended_at = CAST(:ended_at AS timestamptz), error = CAST(:error AS text),
                       next_attempt_at = CAST(:next_at AS timestamptz)
                  FROM job
                 WHERE r.id = job.run_id
                """)
            .param("job_status", jobStatus)
            .param("run_status", runStatus)
            .param("now_ts", Timestamp.from(now))
            .param("workflow", job.workflowId())
            .param("next_at", nextAt, java.sql.Types.TIMESTAMP)
            .param("ended_at", endedAt, java.sql.Types.TIMESTAMP)
            .param("error", attempt.error(), java.sql.Types.VARCHAR)
            .param("id", job.jobId())
            .param("token", job.leaseToken())
            .param("number", attempt.number())
            .param("started_at", Timestamp.from(attempt.startedAt()))
            .param("duration_ms", attempt.durationMs())
            .param("response_status", attempt.statusCode(), java.sql.Types.INTEGER)
            .param("response_headers", attempt.responseHeaders(), java.sql.Types.VARCHAR)
            .param("response_body", attempt.responseBody(), java.sql.Types.VARCHAR)
            .update();
    return updated == 1;
  }

  /** Extends the leases of jobs this node is still delivering; a job whose token changed is left alone. */
  int renew(Collection<ClaimedJob> inFlight, Instant until) {
    if (inFlight.isEmpty()) {
      return 0;
    }
    long[] ids = inFlight.stream().mapToLong(ClaimedJob::jobId).toArray();
    String[] tokens = inFlight.stream().map(j -> j.leaseToken().toString()).toArray(String[]::new);
    return jdbc.sql(
            """
            UPDATE jobs j SET lease_expires_at = :until
              FROM unnest(:ids::bigint[], :tokens::uuid[]) AS u(id, token)
             WHERE j.id = u.id AND j.lease_token = u.token AND j.status = 'processing'
            """)
        .param("until", Timestamp.from(until))
        .param("ids", ids)
        .param("tokens", tokens)
        .update();
  }

  /**
   * Returns jobs whose lease ran out (their node died or lost the database) to the queue, logging the lost attempt.
   * The delivery may or may not have reached the receiver: it is retried with the same webhook-id.
   */
  int requeueExpired(Instant now, int limit) {
    return jdbc.sql(
            """
            WITH expired AS (
              SELECT id FROM jobs
               WHERE status = 'processing' AND lease_expires_at < :now
               ORDER BY lease_expires_at
               LIMIT :limit
               FOR UPDATE SKIP LOCKED
            ), job AS (
              UPDATE jobs j
                 SET status = 'pending', run_at = :now, lease_token = NULL, lease_expires_at = NULL, locked_by = NULL
                FROM expired
               WHERE j.id = expired.id
              RETURNING j.id, j.run_id, j.attempt, j.started_at
            ), attempt AS (
              INSERT INTO attempts (run_id, number, started_at, duration_ms, error)
              SELECT run_id, attempt, started_at, (extract(epoch FROM (:now - started_at)) * 1000)::bigint,
                     'lease expired: the node delivering it stopped (crash or lost connection); outcome unknown, retrying'
                FROM job
              ON CONFLICT (run_id, number) DO NOTHING
            )
            UPDATE workflow_runs r SET status = 'retrying', next_attempt_at = :now
              FROM job WHERE r.id = job.run_id
            """)
        .param("now", Timestamp.from(now))
        .param("limit", limit)
        .update();
  }

  /**
   * Hands jobs this node cannot finish (shutdown) straight back to the queue, as if they had never been claimed, so
   * that another node takes them at once instead of after the lease.
   */
  int release(Collection<ClaimedJob> jobs, Instant now) {
    if (jobs.isEmpty()) {
      return 0;
    }
    long[] ids = jobs.stream().mapToLong(ClaimedJob::jobId).toArray();
    String[] tokens = jobs.stream().map(j -> j.leaseToken().toString()).toArray(String[]::new);
    return jdbc.sql(
            """
            WITH job AS (
              UPDATE jobs j
                 SET status = 'pending', run_at = :now, attempt = j.attempt - 1, lease_token = NULL,
                     lease_expires_at = NULL, locked_by = NULL
                FROM unnest(:ids::bigint[], :tokens::uuid[]) AS u(id, token)
               WHERE j.id = u.id AND j.lease_token = u.token AND j.status = 'processing'
              RETURNING j.run_id, j.attempt
            )
            UPDATE workflow_runs r
               SET status = CASE WHEN job.attempt = 0 THEN 'pending' ELSE 'retrying' END,
                   attempts = job.attempt, next_attempt_at = :now
              FROM job WHERE r.id = job.run_id
            """)
        .param("now", Timestamp.from(now))
        .param("ids", ids)
        .param("tokens", tokens)
        .update();
  }
}
