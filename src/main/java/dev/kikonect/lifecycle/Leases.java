package dev.kikonect.lifecycle;

import dev.kikonect.KiKonectProperties;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The leases of claimed jobs: renewed while a node delivers them, rescued when their node died (the lost attempt
 * counts, as River's rescuer and db-scheduler's dead-execution policy count it), and handed back by a node that cannot
 * finish them.
 */
@Repository
public class Leases {

    private final JdbcClient jdbc;
    private final int defaultMaxAttempts;
    /** kikonect.delivery.retry-delays in milliseconds: the wait after a lost attempt, as after a failed one. */
    private final long[] retryDelaysMs;

    @Autowired
    Leases(JdbcClient jdbc, KiKonectProperties properties) {
        this(
                jdbc,
                properties.delivery().maxAttempts(),
                properties.delivery().retryDelays().stream()
                        .mapToLong(Duration::toMillis)
                        .toArray());
    }

    public Leases(JdbcClient jdbc, int defaultMaxAttempts, long[] retryDelaysMs) {
        this.jdbc = jdbc;
        this.defaultMaxAttempts = defaultMaxAttempts;
        this.retryDelaysMs = retryDelaysMs.clone();
    }

    /** Extends the leases of jobs this node is still delivering; a job whose token changed is left alone. */
    public int renew(Collection<ClaimedJob> inFlight, Instant until) {
        if (inFlight.isEmpty()) {
            return 0;
        }
        long[] ids = inFlight.stream().mapToLong(ClaimedJob::jobId).toArray();
        String[] tokens = inFlight.stream().map(j -> j.leaseToken().toString()).toArray(String[]::new);
        return jdbc.sql("""
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
     * stops after its budget instead of circling the cluster. Returns how many jobs (not runs) went back, at most
     * {@code limit}: the lease keeper sweeps again until it is zero.
     */
    public int requeueExpired(Instant now, int limit) {
        return jdbc.sql("""
            WITH expired AS (
              SELECT j.id, j.attempt,
                     coalesce((SELECT (s ->> 'max_attempts')::int FROM jsonb_array_elements(w.steps) s
                                WHERE w.action_url IS NULL
                                  AND s ->> 'key' = split_part(coalesce(j.step, w.steps -> 0 ->> 'key'), '#', 1)),
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
            ), run AS (
              -- An untracked run is its one job (status and attempts follow it; the claim counted the attempt); a
              -- tracked run counts the attempts logged for its steps.
              UPDATE workflow_runs r
                 SET status = CASE WHEN job.step IS NULL THEN 'retrying' ELSE r.status END,
                     next_attempt_at = CASE WHEN job.step IS NULL THEN job.run_at ELSE r.next_attempt_at END,
                     attempts = CASE WHEN job.step IS NULL THEN r.attempts
                                     ELSE r.attempts + (SELECT count(*) FROM attempt a WHERE a.run_id = r.id) END
                FROM job WHERE r.id = job.run_id
            )
            -- the jobs, not the runs (a run with steps has several): the caller sweeps again while this is not zero
            SELECT count(*) FROM job
            """)
                .param("now", Timestamp.from(now))
                .param("limit", limit)
                .param("default_max_attempts", defaultMaxAttempts)
                .param("delays_ms", retryDelaysMs)
                .query(Integer.class)
                .single();
    }

    /**
     * Hands jobs this node cannot finish (shutdown, no room) straight back to the queue, as if they had never been
     * claimed (their place in it too: a job handed back is not sent behind the ones that came after it), so that another
     * node, or the next claim, takes them at once instead of after the lease.
     */
    /**
     * Gives {@code job} back to the queue until {@code until}, its step's wait ({@code wait: {for: delay}}) having begun:
     * no attempt spent, no lease held, the step pending with {@code next_attempt_at} at the end of the wait, and
     * {@code waited_until} set, so that the claim at that time sends it (fenced by the lease: false when it was lost).
     */
    public boolean waitUntil(ClaimedJob job, Instant until) {
        return jdbc.sql("""
            WITH job AS (
              UPDATE jobs j
                 SET status = 'pending', run_at = :until, waited_until = :until, attempt = j.attempt - 1,
                     lease_token = NULL, lease_expires_at = NULL, locked_by = NULL
               WHERE j.id = :id AND j.lease_token = :token AND j.status = 'processing'
              RETURNING j.run_id, j.step, j.attempt, j.attempt_offset
            )
            UPDATE run_steps s
               SET status = CASE WHEN job.attempt = 0 AND job.attempt_offset = 0 THEN 'pending' ELSE 'retrying' END,
                   attempts = job.attempt_offset + job.attempt, next_attempt_at = :until
              FROM job WHERE s.run_id = job.run_id AND s.key = job.step AND s.status = 'running'
            """)
                        .param("id", job.jobId())
                        .param("token", job.leaseToken())
                        .param("until", Timestamp.from(until))
                        .update()
                == 1;
    }

    public int release(Collection<ClaimedJob> jobs, Instant now) {
        if (jobs.isEmpty()) {
            return 0;
        }
        long[] ids = jobs.stream().mapToLong(ClaimedJob::jobId).toArray();
        String[] tokens = jobs.stream().map(j -> j.leaseToken().toString()).toArray(String[]::new);
        return jdbc.sql("""
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
}
