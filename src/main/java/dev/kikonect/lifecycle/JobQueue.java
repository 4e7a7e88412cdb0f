package dev.kikonect.lifecycle;

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
 *
 * <p>The table holds only work still to do: a job that ends (succeeded, failed, cancelled) is deleted by the statement
 * that ends its run, so the queue stays as small as the backlog however long the history grows; the history is in
 * workflow_runs and attempts.
 */
@Repository
public class JobQueue {

  /** Where a run goes after an attempt. */
  public enum Next {
    SUCCEEDED(RunStatus.SUCCEEDED),
    RETRY(RunStatus.RETRYING),
    FAILED(RunStatus.FAILED);

    private final RunStatus runStatus;

    Next(RunStatus runStatus) {
      this.runStatus = runStatus;
    }

    /** The run's status after this outcome. */
    public RunStatus runStatus() {
      return runStatus;
    }
  }

  private final JdbcClient jdbc;
  private final int defaultMaxAttempts;

  JobQueue(JdbcClient jdbc, dev.kikonect.KiKonectProperties properties) {
    this.jdbc = jdbc;
    this.defaultMaxAttempts = properties.delivery().maxAttempts();
  }

  /**
   * Claims up to {@code limit} due jobs, oldest first, skipping rows other executors have locked.
   *
   * <p>The claim commits asynchronously (synchronous_commit off for this one statement): one fsync fewer per job on
   * the path from webhook to delivery. Losing a claim in a database crash loses nothing: the job is simply pending
   * again and is delivered again, with the same webhook-id, as after any lost lease. A completion cannot survive
   * without its claim, because it commits synchronously and the log is flushed in order.
   */
  public List<ClaimedJob> claim(int limit, Instant now, Duration lease, String node) {
    return claim(limit, Long.MAX_VALUE, new long[0], now, lease, node);
  }

  /**
   * As {@link #claim(int, Instant, Duration, String)}, but the payloads of the claimed jobs add up to at most {@code
   * maxPayloadBytes} (the first job is always claimed, whatever its size): the executor's memory budget. Jobs locked
   * and left out stay pending, untouched, for the next claim. Jobs of the owners in {@code skipOwners} (those at
   * their limit of deliveries in flight on this node) are passed over, so that the next owner's jobs are claimed
   * instead of waiting behind them: fair share between owners.
   */
  public List<ClaimedJob> claim(int limit, long maxPayloadBytes, long[] skipOwners, Instant now, Duration lease, String node) {
    return jdbc.sql(
            """
            WITH no_fsync AS (
              -- This statement's commit does not wait for the disk (see the method's comment).
              SELECT set_config('synchronous_commit', 'off', true)
            ), due AS (
              SELECT id, run_id, run_at FROM jobs, no_fsync
              WHERE status = 'pending' AND run_at <= :now
                AND workflow_id NOT IN (SELECT w.id FROM workflows w WHERE w.user_id = ANY(:skip_owners::bigint[]))
              ORDER BY run_at, id
              LIMIT :limit
              FOR UPDATE OF jobs SKIP LOCKED
            ), sized AS (
              -- The running total of payload bytes, oldest first: the memory budget cuts the batch there.
              SELECT due.id, sum(octet_length(r.payload::text)) OVER (ORDER BY due.run_at, due.id) AS total,
                     row_number() OVER (ORDER BY due.run_at, due.id) AS n
                FROM due JOIN workflow_runs r ON r.id = due.run_id
            ), claimed AS (
              UPDATE jobs j
                 SET status = 'processing', attempt = j.attempt + 1, lease_token = gen_random_uuid(),
                     lease_expires_at = :lease_until, locked_by = :node, started_at = :now
                FROM sized
               WHERE j.id = sized.id AND (sized.total <= :max_bytes OR sized.n = 1)
              RETURNING j.id, j.run_id, j.workflow_id, j.attempt, j.lease_token
            ), run AS (
              UPDATE workflow_runs r
                 SET status = 'running', started_at = coalesce(r.started_at, :now), attempts = claimed.attempt,
                     next_attempt_at = NULL
                FROM claimed
               WHERE r.id = claimed.run_id
              RETURNING r.id, r.payload::text AS payload, r.webhook_id, r.trigger, r.created_at
            )
            SELECT claimed.id, claimed.run_id, claimed.workflow_id, claimed.attempt, claimed.lease_token, w.user_id,
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
        .param("max_bytes", maxPayloadBytes)
        .param("skip_owners", skipOwners)
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
                    rs.getTimestamp("run_created_at").toInstant(),
                    rs.getLong("user_id")))
        .list();
  }

  /** One attempt's outcome for {@link #completeAll}: where the run goes next, and when (for a retry). */
  public record Completion(ClaimedJob job, Attempt attempt, Next next, Instant retryAt) {}

  /**
   * Records the attempt and moves job and run to {@code next} (with {@code retryAt} for a retry). Returns false
   * when the lease was lost (another node took the job over): then nothing is written, so a late worker can never
   * overwrite a newer attempt.
   */
  public boolean complete(ClaimedJob job, Attempt attempt, Next next, Instant retryAt, Instant now) {
    return completeAll(List.of(new Completion(job, attempt, next, retryAt)), now).get(0);
  }

  /**
   * Completes a batch with ONE statement: per job, the attempt row, the job's and the run's new state (a finished
   * job is deleted, a retried one goes back to pending) and, for a run that ends failed with an on_failure_url, its
   * alert. Each job is fenced by its lease token; the result says, in
   * order, which completions took effect.
   */
  public List<Boolean> completeAll(List<Completion> batch, Instant now) {
    int n = batch.size();
    long[] ids = new long[n];
    String[] tokens = new String[n];
    String[] jobStatus = new String[n];
    String[] runStatus = new String[n];
    String[] nextAt = new String[n];
    String[] endedAt = new String[n];
    String[] errors = new String[n];
    long[] numbers = new long[n];
    String[] startedAt = new String[n];
    long[] durations = new long[n];
    String[] responseStatus = new String[n];
    String[] responseHeaders = new String[n];
    String[] responseBodies = new String[n];
    long[] workflows = new long[n];
    for (int i = 0; i < n; i++) {
      Completion c = batch.get(i);
      ids[i] = c.job().jobId();
      tokens[i] = c.job().leaseToken().toString();
      jobStatus[i] =
          switch (c.next()) {
            case SUCCEEDED -> "succeeded";
            case RETRY -> "pending";
            case FAILED -> "failed";
          };
      runStatus[i] = c.next().runStatus().wire();
      nextAt[i] = c.next() == Next.RETRY ? c.retryAt().toString() : null;
      endedAt[i] = c.next() == Next.RETRY ? null : now.toString();
      errors[i] = c.attempt().error();
      numbers[i] = c.attempt().number();
      startedAt[i] = c.attempt().startedAt().toString();
      durations[i] = c.attempt().durationMs();
      responseStatus[i] = c.attempt().statusCode() == null ? null : c.attempt().statusCode().toString();
      responseHeaders[i] = c.attempt().responseHeaders();
      responseBodies[i] = c.attempt().responseBody();
      workflows[i] = c.job().workflowId();
    }
    java.util.Set<Long> done =
        new java.util.HashSet<>(
            jdbc.sql(
                    """
                    WITH input AS (
                      SELECT * FROM unnest(:ids::bigint[], :tokens::uuid[], :job_status::text[], :run_status::text[],
                                           :next_at::timestamptz[], :ended_at::timestamptz[], :errors::text[],
                                           :numbers::int[], :started_at::timestamptz[], :durations::bigint[],
                                           :response_status::int[], :response_headers::jsonb[], :response_bodies::text[],
                                           :workflows::bigint[])
                        AS t(job_id, token, job_status, run_status, next_at, ended_at, error, number, started_at,
                             duration_ms, response_status, response_headers, response_body, workflow_id)
                    ), finished AS (
                      DELETE FROM jobs j
                       USING input i
                       WHERE j.id = i.job_id AND j.status = 'processing' AND j.lease_token = i.token
                         AND i.job_status <> 'pending'
                      RETURNING j.id, j.run_id
                    ), retried AS (
                      UPDATE jobs j
                         SET status = 'pending', run_at = i.next_at, error = i.error, lease_token = NULL,
                             lease_expires_at = NULL
                        FROM input i
                       WHERE j.id = i.job_id AND j.status = 'processing' AND j.lease_token = i.token
                         AND i.job_status = 'pending'
                      RETURNING j.id, j.run_id
                    ), job AS (
                      SELECT id, run_id FROM finished UNION ALL SELECT id, run_id FROM retried
                    ), attempt AS (
                      INSERT INTO attempts (run_id, number, started_at, duration_ms, response_status, response_headers,
                                            response_body, error)
                      SELECT job.run_id, i.number, i.started_at, i.duration_ms, i.response_status, i.response_headers,
                             i.response_body, i.error
                        FROM job JOIN input i ON i.job_id = job.id
                      ON CONFLICT (run_id, number) DO NOTHING
                    ), alert AS (
                      INSERT INTO failure_alerts (run_id, next_at, created_at)
                      SELECT job.run_id, :now, :now
                        FROM job JOIN input i ON i.job_id = job.id JOIN workflows w ON w.id = i.workflow_id
                       WHERE i.run_status = 'failed' AND w.on_failure_url IS NOT NULL
                      ON CONFLICT (run_id) DO NOTHING
                    ), run AS (
                      UPDATE workflow_runs r
                         SET status = i.run_status, ended_at = i.ended_at, error = i.error, next_attempt_at = i.next_at
                        FROM job JOIN input i ON i.job_id = job.id
                       WHERE r.id = job.run_id
                    )
                    SELECT id FROM job
                    """)
                .param("ids", ids)
                .param("tokens", tokens)
                .param("job_status", jobStatus)
                .param("run_status", runStatus)
                .param("next_at", nextAt)
                .param("ended_at", endedAt)
                .param("errors", errors)
                .param("numbers", numbers)
                .param("started_at", startedAt)
                .param("durations", durations)
                .param("response_status", responseStatus)
                .param("response_headers", responseHeaders)
                .param("response_bodies", responseBodies)
                .param("workflows", workflows)
                .param("now", Timestamp.from(now))
                .query(Long.class)
                .list());
    List<Boolean> result = new java.util.ArrayList<>(n);
    for (Completion c : batch) {
      result.add(done.contains(c.job().jobId()));
    }
    return result;
  }

  /** Extends the leases of jobs this node is still delivering; a job whose token changed is left alone. */
  public int renew(Collection<ClaimedJob> inFlight, Instant until) {
    if (inFlight.isEmpty()) {
      return 0;
    }
    long[] ids = inFlight.stream().mapToLong(ClaimedJob::jobId).toArray();
    String[] tokens = inFlight.stream().map(j -> j.leaseToken().toString()).toArray(String[]::new);
    return jdbc.sql(
            """
            WITH held AS (
              -- Rows being completed or handed back right now are locked by that statement: skipped, not waited
              -- for. Waiting would lock rows in another order than the completion does (a deadlock was seen with
              -- two executors), and a job that is finishing needs no longer lease.
              SELECT j.id FROM jobs j JOIN unnest(:ids::bigint[], :tokens::uuid[]) AS u(id, token) ON j.id = u.id
               WHERE j.lease_token = u.token AND j.status = 'processing'
               ORDER BY j.id
               FOR UPDATE OF j SKIP LOCKED
            )
            UPDATE jobs j SET lease_expires_at = :until FROM held WHERE j.id = held.id
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
  public int requeueExpired(Instant now, int limit) {
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
  public int release(Collection<ClaimedJob> jobs, Instant now) {
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

  /**
   * Cancels a pending or retrying run of this user; true if it was cancelled. Its job leaves the queue (deleted,
   * which locks the row first), so a concurrent claim either took the job (then this changes nothing) or never will.
   */
  public boolean cancel(long userId, long runId, Instant now) {
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
