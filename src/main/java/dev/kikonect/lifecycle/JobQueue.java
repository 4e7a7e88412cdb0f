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

  /**
   * Where a step goes after an attempt (for an untracked run, the run with it). SKIPPED: its {@code when} was false,
   * nothing was sent; CANCELLED: its run was cancelled before it was sent (both only for tracked runs, with no attempt).
   */
  public enum Next {
    SUCCEEDED(RunStatus.SUCCEEDED),
    RETRY(RunStatus.RETRYING),
    FAILED(RunStatus.FAILED),
    SKIPPED(RunStatus.SKIPPED),
    CANCELLED(RunStatus.CANCELLED);

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
  /** kikonect.delivery.retry-delays in milliseconds: the wait after a lost attempt, as after a failed one. */
  private final long[] retryDelaysMs;

  private final org.springframework.transaction.support.TransactionTemplate transactions;

  JobQueue(JdbcClient jdbc, dev.kikonect.KiKonectProperties properties, org.springframework.transaction.support.TransactionTemplate transactions) {
    this.jdbc = jdbc;
    this.transactions = transactions;
    this.defaultMaxAttempts = properties.delivery().maxAttempts();
    this.retryDelaysMs = properties.delivery().retryDelays().stream().mapToLong(java.time.Duration::toMillis).toArray();
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
    return claim(limit, maxPayloadBytes, skipOwners, null, now, lease, node);
  }

  /**
   * As {@link #claim(int, long, long[], Instant, Duration, String)}, for a node that shares payloads between the jobs of
   * a run ({@code heldRuns} not null): a job's payload comes back only when it is the first claimed job of its run and
   * its run is not in {@code heldRuns} (the runs whose payload the node holds already); the others' is null. A run of 20
   * steps then reads and sends its payload once, not 20 times.
   */
  public List<ClaimedJob> claim(int limit, long maxPayloadBytes, long[] skipOwners, long[] heldRuns, Instant now, Duration lease, String node) {
    return jdbc.sql(
            """
            WITH no_fsync AS (
              -- This statement's commit does not wait for the disk (see the method's comment).
              SELECT set_config('synchronous_commit', 'off', true)
            ), due AS (
              SELECT id, run_id, run_at, step FROM jobs, no_fsync
              WHERE status = 'pending' AND run_at <= :now
                AND workflow_id NOT IN (SELECT w.id FROM workflows w WHERE w.workspace_id = ANY(:skip_owners::bigint[]))
              ORDER BY run_at, id
              LIMIT :limit
              FOR UPDATE OF jobs SKIP LOCKED
            ), each_due AS (
              -- What each due job adds: its payload (once per run when payloads are shared, none for a run held), plus,
              -- for a step of a tracked run, the responses of its run's steps that it may read.
              SELECT due.id, due.run_at,
                     CASE WHEN :share AND (due.run_id = ANY(:held_runs::bigint[])
                                           OR row_number() OVER (PARTITION BY due.run_id ORDER BY due.run_at, due.id) > 1)
                          THEN 0 ELSE r.payload_bytes END
                     + CASE WHEN due.step IS NULL THEN 0
                            ELSE coalesce((SELECT sum(octet_length(s.response_body)) FROM run_steps s
                                            WHERE s.run_id = due.run_id), 0) END AS bytes
                FROM due JOIN workflow_runs r ON r.id = due.run_id
            ), sized AS (
              -- The running total, oldest first: the memory budget cuts the batch there.
              SELECT id, sum(bytes) OVER (ORDER BY run_at, id) AS total, row_number() OVER (ORDER BY run_at, id) AS n
                FROM each_due
            ), claimed AS (
              UPDATE jobs j
                 SET status = 'processing', attempt = j.attempt + 1, lease_token = gen_random_uuid(),
                     lease_expires_at = :lease_until, locked_by = :node, started_at = :now
                FROM sized
               WHERE j.id = sized.id AND (sized.total <= :max_bytes OR sized.n = 1)
              RETURNING j.id, j.run_id, j.workflow_id, j.attempt, j.attempt_offset, j.lease_token, j.step
            ), step_row AS (
              UPDATE run_steps s
                 SET status = 'running', attempts = claimed.attempt_offset + claimed.attempt,
                     started_at = coalesce(s.started_at, :now), next_attempt_at = NULL
                FROM claimed
               WHERE claimed.step IS NOT NULL AND s.run_id = claimed.run_id AND s.key = claimed.step
                 AND s.status IN ('pending', 'retrying')
              RETURNING s.run_id, s.key, s.webhook_id
            ), run AS (
              UPDATE workflow_runs r
                 SET status = CASE WHEN r.status = 'cancelled' THEN r.status ELSE 'running' END,
                     started_at = coalesce(r.started_at, :now),
                     attempts = CASE WHEN r.open_steps IS NULL THEN claimed.attempt_offset + claimed.attempt ELSE r.attempts END,
                     next_attempt_at = NULL
                FROM claimed
               WHERE r.id = claimed.run_id
              RETURNING r.id, r.status, CASE WHEN :share AND r.id = ANY(:held_runs::bigint[]) THEN NULL ELSE r.payload::text END AS payload,
                        r.webhook_id, r.trigger, r.created_at, r.scheduled_for,
                        r.request::text AS request
            )
            SELECT claimed.id, claimed.run_id, claimed.workflow_id, claimed.attempt, claimed.attempt_offset, claimed.lease_token,
                   claimed.step, w.workspace_id, w.name AS workflow_name, w.action_url,
                   CASE WHEN w.action_url IS NULL THEN w.steps::text END AS steps,
                   coalesce(w.max_attempts, :default_max_attempts) AS max_attempts,
                   CASE WHEN :share AND row_number() OVER (PARTITION BY claimed.run_id ORDER BY claimed.id) > 1
                        THEN NULL ELSE run.payload END AS payload,
                   coalesce(step_row.webhook_id, run.webhook_id) AS webhook_id, run.trigger,
                   run.created_at AS run_created_at, run.scheduled_for, run.request, w.signing_secret,
                   claimed.step IS NOT NULL AND (run.status = 'cancelled' OR step_row.key IS NULL) AS run_cancelled,
                   CASE WHEN w.previous_secret_expires_at > :now THEN w.previous_signing_secret END AS previous_secret
              FROM claimed
              JOIN run ON run.id = claimed.run_id
              JOIN workflows w ON w.id = claimed.workflow_id
              LEFT JOIN step_row ON step_row.run_id = claimed.run_id AND step_row.key = claimed.step
             ORDER BY claimed.id
            """)
        .param("now", Timestamp.from(now))
        .param("limit", limit)
        .param("max_bytes", maxPayloadBytes)
        .param("skip_owners", skipOwners)
        .param("share", heldRuns != null)
        .param("held_runs", heldRuns == null ? new long[0] : heldRuns)
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
                    rs.getInt("attempt_offset"),
                    rs.getInt("max_attempts"),
                    rs.getObject("lease_token", UUID.class),
                    rs.getString("step"),
                    rs.getString("action_url"),
                    rs.getString("steps"),
                    rs.getString("payload"),
                    rs.getString("webhook_id"),
                    rs.getString("signing_secret"),
                    rs.getString("previous_secret"),
                    rs.getString("trigger"),
                    rs.getTimestamp("run_created_at").toInstant(),
                    Run.instant(rs.getTimestamp("scheduled_for")),
                    rs.getString("request"),
                    rs.getString("workflow_name"),
                    rs.getLong("workspace_id"),
                    rs.getBoolean("run_cancelled")))
        .list();
  }

  /**
   * One attempt's outcome for {@link #completeAll}: where the step goes next, and when (for a retry). {@code attempt}
   * is null when nothing was sent (SKIPPED, CANCELLED, or an expression that failed before sending: then it is the
   * error without a request). {@code kept} is the response kept for the steps that need this one (tracked runs).
   */
  public record Completion(ClaimedJob job, Attempt attempt, Next next, Instant retryAt, KeptResponse kept) {
    public Completion(ClaimedJob job, Attempt attempt, Next next, Instant retryAt) {
      this(job, attempt, next, retryAt, null);
    }
  }

  /** A step's response as its dependants read it: status, headers (JSON object), body (up to the configured cap). */
  public record KeptResponse(int status, String headers, String body) {}

  /** What a completion did: {@code applied} false when the lease was lost; {@code runEnded} the run's final status if it ended. */
  public record Done(boolean applied, RunStatus runEnded) {}

  /**
   * Records the attempt and moves job and run to {@code next} (with {@code retryAt} for a retry). Returns false
   * when the lease was lost (another node took the job over): then nothing is written, so a late worker can never
   * overwrite a newer attempt.
   */
  public boolean complete(ClaimedJob job, Attempt attempt, Next next, Instant retryAt, Instant now) {
    return completeAll(List.of(new Completion(job, attempt, next, retryAt)), now).get(0).applied();
  }

  /**
   * Completes a batch: the completions of untracked runs with one statement ({@link #completeUntracked}), those of
   * tracked runs' steps with another ({@link #completeSteps}); results in batch order.
   */
  public List<Done> completeAll(List<Completion> batch, Instant now) {
    List<Completion> untracked = batch.stream().filter(c -> !c.job().tracked()).toList();
    List<Completion> steps = batch.stream().filter(c -> c.job().tracked()).toList();
    java.util.Map<Long, Done> done = new java.util.HashMap<>();
    if (!untracked.isEmpty()) {
      List<Boolean> applied = completeUntracked(untracked, now);
      for (int i = 0; i < untracked.size(); i++) {
        Completion c = untracked.get(i);
        done.put(c.job().jobId(), new Done(applied.get(i), applied.get(i) && c.next() != Next.RETRY ? c.next().runStatus() : null));
      }
    }
    if (!steps.isEmpty()) {
      done.putAll(completeSteps(steps, now));
    }
    return batch.stream().map(c -> done.getOrDefault(c.job().jobId(), new Done(false, null))).toList();
  }

  /**
   * Completes a batch with ONE statement: per job, the attempt row, the job's and the run's new state (a finished
   * job is deleted, a retried one goes back to pending) and, for a run that ends failed with an on_failure_url, its
   * alert. Each job is fenced by its lease token; the result says, in
   * order, which completions took effect.
   */
  private List<Boolean> completeUntracked(List<Completion> batch, Instant now) {
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
    String[] requests = new String[n];
    long[] workflows = new long[n];
    for (int i = 0; i < n; i++) {
      Completion c = batch.get(i);
      ids[i] = c.job().jobId();
      tokens[i] = c.job().leaseToken().toString();
      jobStatus[i] =
          switch (c.next()) {
            case SUCCEEDED -> "succeeded";
            case RETRY -> "pending";
            case FAILED, SKIPPED, CANCELLED -> "failed";
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
      requests[i] = c.attempt().request();
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
                                           :workflows::bigint[], :requests::jsonb[])
                        AS t(job_id, token, job_status, run_status, next_at, ended_at, error, number, started_at,
                             duration_ms, response_status, response_headers, response_body, workflow_id, request)
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
                                            response_body, error, request)
                      SELECT job.run_id, i.number, i.started_at, i.duration_ms, i.response_status, i.response_headers,
                             i.response_body, i.error, i.request
                        FROM job JOIN input i ON i.job_id = job.id
                      ON CONFLICT (run_id, step, number) DO NOTHING
                    ), alert AS (
                      INSERT INTO failure_alerts (run_id, next_at, created_at)
                      SELECT job.run_id, :now, :now
                        FROM job JOIN input i ON i.job_id = job.id JOIN workflows w ON w.id = i.workflow_id
                       WHERE i.run_status = 'failed'
                         AND (w.on_failure_url IS NOT NULL
                              OR EXISTS (SELECT 1 FROM push_subscriptions p WHERE p.workflow_ids @> ARRAY[w.id]))
                      ON CONFLICT (run_id) DO NOTHING
                    ), run AS (
                      UPDATE workflow_runs r
                         SET status = i.run_status, ended_at = i.ended_at, error = i.error, next_attempt_at = i.next_at,
                             attempts = i.number -- as the claim counted, but a lost last attempt's verdict is not one
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
                .param("requests", requests)
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

  /**
   * Completes steps of tracked runs with ONE statement. Per completion: the attempt row (if one was made), the job
   * (deleted, or back to pending for a retry) and the step's new state. A step that succeeded starts each step that
   * needs it once all its needs have succeeded: the decrement of the child's {@code waiting_for} is a row update, so
   * of two parents finishing at the same instant (on two nodes) exactly one sees it reach 0 and inserts the child's
   * job. A step that failed for good (or was skipped) marks every step that needs it, directly or indirectly,
   * skipped ("needs ticket, which failed"). The run counts its open steps down; the completion that takes them to 0
   * ends it: failed when any step failed, succeeded otherwise. The run's row is locked first, so a cancel or a retry
   * of the run never interleaves with a completion (a completion for a cancelled run records its attempt and starts
   * nothing).
   */
  private java.util.Map<Long, Done> completeSteps(List<Completion> batch, Instant now) {
    int n = batch.size();
    long[] ids = new long[n];
    String[] tokens = new String[n];
    long[] runs = new long[n];
    String[] steps = new String[n];
    String[] outcomes = new String[n];
    String[] nextAt = new String[n];
    String[] errors = new String[n];
    Integer[] numbers = new Integer[n];
    String[] startedAt = new String[n];
    Long[] durations = new Long[n];
    Integer[] responseStatus = new Integer[n];
    String[] responseHeaders = new String[n];
    String[] responseBodies = new String[n];
    String[] requests = new String[n];
    Integer[] keptStatus = new Integer[n];
    String[] keptHeaders = new String[n];
    String[] keptBodies = new String[n];
    long[] workflows = new long[n];
    for (int i = 0; i < n; i++) {
      Completion c = batch.get(i);
      ids[i] = c.job().jobId();
      tokens[i] = c.job().leaseToken().toString();
      runs[i] = c.job().runId();
      steps[i] = c.job().step();
      outcomes[i] =
          switch (c.next()) {
            case SUCCEEDED -> "succeeded";
            case RETRY -> "retrying";
            case FAILED -> "failed";
            case SKIPPED -> "skipped";
            case CANCELLED -> "cancelled";
          };
      nextAt[i] = c.next() == Next.RETRY ? c.retryAt().toString() : null;
      Attempt a = c.attempt();
      errors[i] = a == null ? null : a.error();
      numbers[i] = a == null ? null : a.number();
      startedAt[i] = a == null ? null : a.startedAt().toString();
      durations[i] = a == null ? null : a.durationMs();
      responseStatus[i] = a == null ? null : a.statusCode();
      responseHeaders[i] = a == null ? null : a.responseHeaders();
      responseBodies[i] = a == null ? null : a.responseBody();
      requests[i] = a == null ? null : a.request();
      keptStatus[i] = c.kept() == null ? null : c.kept().status();
      keptHeaders[i] = c.kept() == null ? null : c.kept().headers();
      keptBodies[i] = c.kept() == null ? null : c.kept().body();
      workflows[i] = c.job().workflowId();
    }
    java.util.Map<Long, Done> result = new java.util.HashMap<>();
    jdbc.sql(
            """
            WITH RECURSIVE input AS (
              SELECT * FROM unnest(:ids::bigint[], :tokens::uuid[], :runs::bigint[], :steps::text[], :outcomes::text[],
                                   :next_at::timestamptz[], :errors::text[], :numbers::int[], :started_at::timestamptz[],
                                   :durations::bigint[], :response_status::int[], :response_headers::jsonb[],
                                   :response_bodies::text[], :kept_status::int[], :kept_headers::jsonb[], :kept_bodies::text[],
                                   :workflows::bigint[], :requests::jsonb[])
                AS t(job_id, token, run_id, step, outcome, next_at, error, number, started_at, duration_ms, response_status,
                     response_headers, response_body, kept_status, kept_headers, kept_body, workflow_id, request)
            ), locked AS (
              SELECT r.id, r.status FROM workflow_runs r WHERE r.id IN (SELECT run_id FROM input) ORDER BY r.id FOR UPDATE
            ), finished AS (
              DELETE FROM jobs j USING input i, locked l
               WHERE j.id = i.job_id AND j.status = 'processing' AND j.lease_token = i.token AND l.id = i.run_id
                 AND (i.outcome <> 'retrying' OR l.status = 'cancelled')
              RETURNING j.id
            ), retried AS (
              UPDATE jobs j
                 SET status = 'pending', run_at = i.next_at, error = i.error, lease_token = NULL, lease_expires_at = NULL
                FROM input i, locked l
               WHERE j.id = i.job_id AND j.status = 'processing' AND j.lease_token = i.token AND l.id = i.run_id
                 AND i.outcome = 'retrying' AND l.status <> 'cancelled'
              RETURNING j.id
            ), done AS (
              SELECT i.*, l.status = 'cancelled' AS run_cancelled,
                     CASE WHEN l.status = 'cancelled' AND i.outcome = 'retrying' THEN 'cancelled' ELSE i.outcome END AS result
                FROM input i JOIN locked l ON l.id = i.run_id
               WHERE i.job_id IN (SELECT id FROM finished UNION ALL SELECT id FROM retried)
            ), attempt AS (
              INSERT INTO attempts (run_id, step, number, started_at, duration_ms, response_status, response_headers,
                                    response_body, error, request)
              SELECT run_id, step, number, started_at, duration_ms, response_status, response_headers, response_body, error,
                     request
                FROM done WHERE number IS NOT NULL
              ON CONFLICT (run_id, step, number) DO NOTHING
              RETURNING run_id
            ), step_row AS (
              UPDATE run_steps s
                 SET status = d.result, error = d.error, attempts = coalesce(d.number, s.attempts),
                     ended_at = CASE WHEN d.result = 'retrying' THEN NULL ELSE CAST(:now AS timestamptz) END,
                     next_attempt_at = CASE WHEN d.result = 'retrying' THEN d.next_at END,
                     response_status = d.kept_status, response_headers = d.kept_headers, response_body = d.kept_body
                FROM done d
               WHERE s.run_id = d.run_id AND s.key = d.step AND s.status IN ('running', 'pending', 'retrying')
            ), ready AS (
              -- Children of steps that succeeded: one fewer need to wait for; at 0 they start. The decrement reads the
              -- row's newest version (a concurrent completion's decrement counts), so exactly one completion starts it.
              UPDATE run_steps c
                 SET waiting_for = c.waiting_for - p.parents,
                     status = CASE WHEN c.waiting_for - p.parents = 0 THEN 'pending' ELSE c.status END
                FROM (SELECT c2.run_id, c2.key, count(*) AS parents
                        FROM done d JOIN run_steps c2 ON c2.run_id = d.run_id AND d.step = ANY(c2.needs)
                       WHERE d.result = 'succeeded' AND NOT d.run_cancelled
                       GROUP BY c2.run_id, c2.key) p
               WHERE c.run_id = p.run_id AND c.key = p.key AND c.status = 'waiting'
              RETURNING c.run_id, c.key, c.status
            ), child_job AS (
              INSERT INTO jobs (run_id, workflow_id, step, run_at, created_at)
              SELECT ready.run_id, w.workflow_id, ready.key, :now, :now
                FROM ready JOIN (SELECT DISTINCT run_id, workflow_id FROM done) w ON w.run_id = ready.run_id
               WHERE ready.status = 'pending'
            ), doomed(run_id, key, reason, after_failure) AS (
              -- Every step that needs a failed (or skipped) step, directly or through others: skipped.
              SELECT c.run_id, c.key,
                     'needs ' || d.step || CASE WHEN d.result = 'failed' THEN ', which failed' ELSE ', which was skipped' END,
                     d.result = 'failed'
                FROM done d JOIN run_steps c ON c.run_id = d.run_id AND d.step = ANY(c.needs)
               WHERE d.result IN ('failed', 'skipped') AND NOT d.run_cancelled
              UNION
              SELECT c.run_id, c.key, 'needs ' || dm.key || ', which was skipped', dm.after_failure
                FROM doomed dm JOIN run_steps c ON c.run_id = dm.run_id AND dm.key = ANY(c.needs)
            ), skipped AS (
              UPDATE run_steps c
                 SET status = 'skipped', after_failure = x.after_failure, error = x.reason, ended_at = :now
                FROM (SELECT DISTINCT ON (run_id, key) * FROM doomed ORDER BY run_id, key, after_failure DESC) x
               WHERE c.run_id = x.run_id AND c.key = x.key AND c.status = 'waiting'
              RETURNING c.run_id
            ), tally AS (
              SELECT run_id, sum(ended) AS ended, sum(failed) AS failed, sum(attempts) AS attempts,
                     min(error) FILTER (WHERE failed = 1) AS error
                FROM (SELECT run_id, (result <> 'retrying')::int AS ended, (result = 'failed')::int AS failed,
                             (number IS NOT NULL)::int AS attempts, step || ': ' || coalesce(error, 'failed') AS error
                        FROM done
                      UNION ALL
                      SELECT run_id, 1, 0, 0, NULL FROM skipped) x
               GROUP BY run_id
            ), logged AS (
              -- the attempt rows this statement wrote, per run (a lost last attempt's verdict writes none: the sweeper
              -- logged and counted it)
              SELECT run_id, count(*) AS n FROM attempt GROUP BY run_id
            ), run AS (
              UPDATE workflow_runs r
                 SET open_steps = r.open_steps - t.ended, failed_steps = r.failed_steps + t.failed,
                     attempts = r.attempts + coalesce(l.n, 0),
                     status = CASE WHEN r.status = 'cancelled' THEN r.status
                                   WHEN r.open_steps - t.ended > 0 THEN 'running'
                                   WHEN r.failed_steps + t.failed > 0 THEN 'failed'
                                   ELSE 'succeeded' END,
                     ended_at = CASE WHEN r.status <> 'cancelled' AND r.open_steps - t.ended <= 0 THEN CAST(:now AS timestamptz)
                                     ELSE r.ended_at END,
                     error = coalesce(r.error, t.error)
                FROM tally t LEFT JOIN logged l ON l.run_id = t.run_id
               WHERE r.id = t.run_id
              RETURNING r.id, r.status, r.workflow_id, r.open_steps, (SELECT l.status FROM locked l WHERE l.id = r.id) AS was
            ), alert AS (
              INSERT INTO failure_alerts (run_id, next_at, created_at)
              SELECT run.id, :now, :now FROM run JOIN workflows w ON w.id = run.workflow_id
               WHERE run.status = 'failed' AND run.was <> 'failed'
                 AND (w.on_failure_url IS NOT NULL
                      OR EXISTS (SELECT 1 FROM push_subscriptions p WHERE p.workflow_ids @> ARRAY[w.id]))
              ON CONFLICT (run_id) DO NOTHING
            )
            SELECT d.job_id, CASE WHEN run.was NOT IN ('succeeded', 'failed', 'cancelled')
                                   AND run.status IN ('succeeded', 'failed') THEN run.status END AS ended
              FROM done d LEFT JOIN run ON run.id = d.run_id
            """)
        .param("ids", ids)
        .param("tokens", tokens)
        .param("runs", runs)
        .param("steps", steps)
        .param("outcomes", outcomes)
        .param("next_at", nextAt)
        .param("errors", errors)
        .param("numbers", numbers)
        .param("started_at", startedAt)
        .param("durations", durations)
        .param("response_status", responseStatus)
        .param("response_headers", responseHeaders)
        .param("response_bodies", responseBodies)
        .param("requests", requests)
        .param("kept_status", keptStatus)
        .param("kept_headers", keptHeaders)
        .param("kept_bodies", keptBodies)
        .param("workflows", workflows)
        .param("now", Timestamp.from(now))
        .query(
            (rs, i) -> {
              String ended = rs.getString("ended");
              result.put(rs.getLong("job_id"), new Done(true, ended == null ? null : RunStatus.of(ended)));
              return null;
            })
        .list();
    // A run that ended is reported once, with the first of its completions in the batch.
    java.util.Set<Long> reported = new java.util.HashSet<>();
    for (Completion c : batch) {
      Done d = result.get(c.job().jobId());
      if (d != null && d.runEnded() != null && !reported.add(c.job().runId())) {
        result.put(c.job().jobId(), new Done(true, null));
      }
    }
    return result;
  }

  /** A step of a run as a dependant's expressions read it: its status and, once it succeeded, its kept response. */
  public record StepResponse(String status, Integer responseStatus, String headers, String body) {}

  /** The steps {@code keys} of run {@code runId}, by key. */
  public java.util.Map<String, StepResponse> stepResponses(long runId, List<String> keys) {
    java.util.Map<String, StepResponse> out = new java.util.LinkedHashMap<>();
    jdbc.sql(
            """
            SELECT key, status, response_status, response_headers::text AS response_headers, response_body
              FROM run_steps WHERE run_id = :run AND key = ANY(:keys::text[]) ORDER BY position
            """)
        .param("run", runId)
        .param("keys", keys.toArray(String[]::new))
        .query(
            (rs, n) ->
                out.put(
                    rs.getString("key"),
                    new StepResponse(
                        rs.getString("status"), (Integer) rs.getObject("response_status"), rs.getString("response_headers"),
                        rs.getString("response_body"))))
        .list();
    return out;
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
   * The delivery may or may not have reached the receiver. A lost attempt counts as an attempt (River's rescuer and
   * db-scheduler's dead-execution policy do the same): the job waits out the retry policy's delay for that attempt
   * (with its jitter), and when it was the last of the step's {@code max_attempts} it is due at once, for the executor
   * to fail it without sending anything ({@code Executor}: "lease expired"). A job whose delivery kills its node thus
   * stops after its budget instead of circling the cluster.
   */
  public int requeueExpired(Instant now, int limit) {
    return jdbc.sql(
            """
            WITH expired AS (
              SELECT j.id, j.attempt,
                     coalesce((SELECT (s ->> 'max_attempts')::int FROM jsonb_array_elements(w.steps) s
                                WHERE w.action_url IS NULL AND s ->> 'key' = coalesce(j.step, w.steps -> 0 ->> 'key')),
                              w.max_attempts, :default_max_attempts) AS budget
                FROM jobs j JOIN workflows w ON w.id = j.workflow_id
               WHERE j.status = 'processing' AND j.lease_expires_at < :now
               ORDER BY j.lease_expires_at
               LIMIT :limit
               FOR UPDATE OF j SKIP LOCKED
            ), job AS (
              UPDATE jobs j
                 SET status = 'pending', lease_token = NULL, lease_expires_at = NULL, locked_by = NULL,
                     run_at = CASE WHEN expired.attempt >= expired.budget THEN :now
                                   ELSE CAST(:now AS timestamptz) + make_interval(secs => (:delays_ms::bigint[])[least(expired.attempt, cardinality(:delays_ms::bigint[]))]
                                                                     / 1000.0 * (0.8 + random() * 0.4)) END
                FROM expired
               WHERE j.id = expired.id
              RETURNING j.id, j.run_id, j.step, j.attempt_offset + j.attempt AS number, j.started_at, j.run_at,
                        expired.attempt >= expired.budget AS last
            ), attempt AS (
              INSERT INTO attempts (run_id, step, number, started_at, duration_ms, error)
              SELECT run_id, step, number, started_at, (extract(epoch FROM (:now - started_at)) * 1000)::bigint,
                     CASE WHEN last THEN 'lease expired: the node delivering it stopped (crash or lost connection); outcome unknown, and that was the last attempt'
                          ELSE 'lease expired: the node delivering it stopped (crash or lost connection); outcome unknown, retrying' END
                FROM job
              ON CONFLICT (run_id, step, number) DO NOTHING
              RETURNING run_id
            ), step_row AS (
              UPDATE run_steps s SET status = 'retrying', next_attempt_at = job.run_at
                FROM job WHERE job.step IS NOT NULL AND s.run_id = job.run_id AND s.key = job.step AND s.status = 'running'
            )
            -- An untracked run is its one job (status and attempts follow it; the claim counted the attempt); a tracked
            -- run counts the attempts logged for its steps.
            UPDATE workflow_runs r
               SET status = CASE WHEN job.step IS NULL THEN 'retrying' ELSE r.status END,
                   next_attempt_at = CASE WHEN job.step IS NULL THEN job.run_at ELSE r.next_attempt_at END,
                   attempts = CASE WHEN job.step IS NULL THEN r.attempts
                                   ELSE r.attempts + (SELECT count(*) FROM attempt a WHERE a.run_id = r.id) END
              FROM job WHERE r.id = job.run_id
            """)
        .param("now", Timestamp.from(now))
        .param("limit", limit)
        .param("default_max_attempts", defaultMaxAttempts)
        .param("delays_ms", retryDelaysMs)
        .update();
  }

  /**
   * Hands jobs this node cannot finish (shutdown, no room) straight back to the queue, as if they had never been
   * claimed (their place in it too: a job handed back is not sent behind the ones that came after it), so that another
   * node, or the next claim, takes them at once instead of after the lease.
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
                 SET status = 'pending', run_at = least(j.run_at, :now), attempt = j.attempt - 1, lease_token = NULL,
                     lease_expires_at = NULL, locked_by = NULL
                FROM unnest(:ids::bigint[], :tokens::uuid[]) AS u(id, token)
               WHERE j.id = u.id AND j.lease_token = u.token AND j.status = 'processing'
              RETURNING j.run_id, j.step, j.attempt, j.attempt_offset
            ), step_row AS (
              UPDATE run_steps s
                 SET status = CASE WHEN job.attempt = 0 AND job.attempt_offset = 0 THEN 'pending' ELSE 'retrying' END,
                     attempts = job.attempt_offset + job.attempt, next_attempt_at = :now
                FROM job WHERE job.step IS NOT NULL AND s.run_id = job.run_id AND s.key = job.step AND s.status = 'running'
            )
            UPDATE workflow_runs r
               SET status = CASE WHEN job.attempt = 0 AND job.attempt_offset = 0 THEN 'pending' ELSE 'retrying' END,
                   attempts = job.attempt_offset + job.attempt, next_attempt_at = :now
              FROM job WHERE r.id = job.run_id AND job.step IS NULL
            """)
        .param("now", Timestamp.from(now))
        .param("ids", ids)
        .param("tokens", tokens)
        .update();
  }

  /**
   * Cancels a run of this user; true if it was cancelled. An untracked run can be cancelled while pending or
   * retrying: its job leaves the queue (deleted, which locks the row first), so a concurrent claim either took the job
   * (then this changes nothing) or never will. A tracked run can be cancelled until it ends: every step not yet sent
   * is cancelled; a step being sent right now finishes and records its attempt, and starts nothing after it. A job a
   * claim is taking at this very moment is skipped here and recognised by the claim (its run is cancelled), so it is
   * never sent either.
   */
  public boolean cancel(long workspaceId, long runId, Instant now) {
    Boolean tracked =
        jdbc.sql("SELECT open_steps IS NOT NULL FROM workflow_runs WHERE id = :run AND workspace_id = :workspace")
            .param("run", runId)
            .param("workspace", workspaceId)
            .query(Boolean.class)
            .optional()
            .orElse(null);
    if (tracked == null) {
      return false;
    }
    if (!tracked) {
      return jdbc.sql(
                  """
                  WITH job AS (
                    DELETE FROM jobs
                     WHERE run_id = :run AND status = 'pending'
                       AND EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = :run AND r.workspace_id = :workspace)
                    RETURNING run_id
                  )
                  UPDATE workflow_runs r SET status = 'cancelled', ended_at = :now, next_attempt_at = NULL
                    FROM job WHERE r.id = job.run_id
                  """)
              .param("now", Timestamp.from(now))
              .param("run", runId)
              .param("workspace", workspaceId)
              .update()
          == 1;
    }
    Boolean cancelled =
        transactions.execute(
            status -> {
              // The run's row first, as a completion takes it: the statement below then sees every step and job
              // that completions before it started.
              boolean open = lockRun(workspaceId, runId, new String[] {"pending", "running", "retrying"});
              if (!open) {
                return false;
              }
              jdbc.sql(
                      """
                      WITH job AS (
                        DELETE FROM jobs
                         WHERE id IN (SELECT id FROM jobs WHERE run_id = :run AND status = 'pending' FOR UPDATE SKIP LOCKED)
                      ), step AS (
                        UPDATE run_steps SET status = 'cancelled', ended_at = :now, next_attempt_at = NULL
                         WHERE (run_id, key) IN (SELECT run_id, key FROM run_steps
                                                  WHERE run_id = :run AND status IN ('waiting', 'pending', 'retrying')
                                                    FOR UPDATE SKIP LOCKED)
                      )
                      UPDATE workflow_runs SET status = 'cancelled', ended_at = :now, next_attempt_at = NULL WHERE id = :run
                      """)
                  .param("now", Timestamp.from(now))
                  .param("run", runId)
                  .update();
              return true;
            });
    return Boolean.TRUE.equals(cancelled);
  }

  /**
   * Locks the run's row (inside the caller's transaction) if it is this user's and in one of {@code statuses}: the
   * row a completion of its steps locks first, so that what follows never interleaves with one.
   */
  private boolean lockRun(long workspaceId, long runId, String[] statuses) {
    return jdbc.sql("SELECT 1 FROM workflow_runs WHERE id = :run AND workspace_id = :workspace AND status = ANY(:statuses::text[]) FOR UPDATE")
        .param("run", runId)
        .param("workspace", workspaceId)
        .param("statuses", statuses)
        .query(Integer.class)
        .optional()
        .isPresent();
  }

  /** Why a run cannot be retried from its failure, or empty when the retry was enqueued. */
  public enum RetryRefusal {
    NOT_FOUND,
    NOT_FAILED,
    FILTER_FAILED
  }

  /**
   * Retries a failed run from its failure: an untracked run's step gets a new job (its attempt numbers going on);
   * a tracked run re-runs only its failed steps and those skipped because of a failure, each starting once the steps
   * it needs have succeeded, reusing the responses of the steps that succeeded (they are not sent again). Every
   * retried step gets a fresh attempt budget and keeps its webhook-id. Empty when it was enqueued.
   */
  public java.util.Optional<RetryRefusal> retry(long workspaceId, long runId, Instant now) {
    record Current(String status, boolean tracked, boolean filterFailed) {}
    Current current =
        jdbc.sql("SELECT status, open_steps IS NOT NULL AS tracked, filter_failed FROM workflow_runs WHERE id = :run AND workspace_id = :workspace")
            .param("run", runId)
            .param("workspace", workspaceId)
            .query((rs, n) -> new Current(rs.getString("status"), rs.getBoolean("tracked"), rs.getBoolean("filter_failed")))
            .optional()
            .orElse(null);
    if (current == null) {
      return java.util.Optional.of(RetryRefusal.NOT_FOUND);
    }
    if (!"failed".equals(current.status())) {
      return java.util.Optional.of(RetryRefusal.NOT_FAILED);
    }
    if (current.filterFailed()) {
      return java.util.Optional.of(RetryRefusal.FILTER_FAILED);
    }
    if (!current.tracked()) {
      int updated =
          jdbc.sql(
                  """
                  WITH run AS (
                    UPDATE workflow_runs SET status = 'pending', error = NULL, ended_at = NULL, next_attempt_at = NULL
                     WHERE id = :run AND workspace_id = :workspace AND status = 'failed' AND open_steps IS NULL
                    RETURNING id, workflow_id, attempts
                  )
                  INSERT INTO jobs (run_id, workflow_id, attempt_offset, run_at, created_at)
                  SELECT id, workflow_id, attempts, :now, :now FROM run
                  """)
              .param("run", runId)
              .param("workspace", workspaceId)
              .param("now", Timestamp.from(now))
              .update();
      return updated == 1 ? java.util.Optional.empty() : java.util.Optional.of(RetryRefusal.NOT_FAILED);
    }
    Boolean retried =
        transactions.execute(
            status -> {
              boolean failed = lockRun(workspaceId, runId, new String[] {"failed"});
              if (!failed) {
                return false;
              }
              jdbc.sql(
                      """
                      WITH target AS (
                        SELECT s.run_id, s.key,
                               (SELECT count(*) FROM unnest(s.needs) AS need(key)
                                  JOIN run_steps p ON p.run_id = s.run_id AND p.key = need.key
                                 WHERE p.status <> 'succeeded') AS waiting
                          FROM run_steps s
                         WHERE s.run_id = :run AND (s.status = 'failed' OR (s.status = 'skipped' AND s.after_failure))
                      ), reset AS (
                        UPDATE run_steps s
                           SET status = CASE WHEN t.waiting = 0 THEN 'pending' ELSE 'waiting' END, waiting_for = t.waiting,
                               after_failure = false, error = NULL, ended_at = NULL, next_attempt_at = NULL,
                               response_status = NULL, response_headers = NULL, response_body = NULL
                          FROM target t
                         WHERE s.run_id = t.run_id AND s.key = t.key
                        RETURNING s.run_id, s.key, s.status, s.attempts
                      ), job AS (
                        INSERT INTO jobs (run_id, workflow_id, step, attempt_offset, run_at, created_at)
                        SELECT reset.run_id, r.workflow_id, reset.key, reset.attempts, :now, :now
                          FROM reset JOIN workflow_runs r ON r.id = reset.run_id
                         WHERE reset.status = 'pending'
                      )
                      UPDATE workflow_runs
                         SET status = 'pending', open_steps = (SELECT count(*) FROM reset), failed_steps = 0, error = NULL,
                             ended_at = NULL, next_attempt_at = NULL
                       WHERE id = :run
                      """)
                  .param("run", runId)
                  .param("now", Timestamp.from(now))
                  .update();
              return true;
            });
    return Boolean.TRUE.equals(retried) ? java.util.Optional.empty() : java.util.Optional.of(RetryRefusal.NOT_FAILED);
  }
}
