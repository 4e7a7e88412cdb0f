package dev.kikonect.lifecycle;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The jobs table as a queue, the finishing side: a completion records the attempt and moves job, step and run on
 * together, in one statement per batch, and only while this node still holds the job's lease (the lease token is the
 * fencing token: a late worker can never overwrite a newer attempt). Untracked runs (one job is the run) complete here,
 * the steps of tracked runs in {@link StepCompletions}.
 */
@Repository
public class Completions {

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

    private final JdbcClient jdbc;
    private final StepCompletions steps;

    public Completions(JdbcClient jdbc) {
        this.jdbc = jdbc;
        this.steps = new StepCompletions(jdbc);
    }

    /**
     * Records the attempt and moves job and run to {@code next} (with {@code retryAt} for a retry). Returns false
     * when the lease was lost (another node took the job over): then nothing is written.
     */
    public boolean complete(ClaimedJob job, Attempt attempt, Next next, Instant retryAt, Instant now) {
        return completeAll(List.of(new Completion(job, attempt, next, retryAt)), now)
                .get(0)
                .applied();
    }

    /**
     * Completes a batch: the completions of untracked runs with one statement ({@link #completeUntracked}), those of
     * tracked runs' steps with another ({@link StepCompletions}); results in batch order.
     */
    public List<Done> completeAll(List<Completion> batch, Instant now) {
        List<Completion> untracked =
                batch.stream().filter(c -> !c.job().tracked()).toList();
        List<Completion> tracked = batch.stream().filter(c -> c.job().tracked()).toList();
        Map<Long, Done> done = new HashMap<>();
        if (!untracked.isEmpty()) {
            Set<Long> applied = completeUntracked(untracked, now);
            for (Completion c : untracked) {
                boolean took = applied.contains(c.job().jobId());
                done.put(
                        c.job().jobId(),
                        new Done(took, took && c.next() != Next.RETRY ? c.next().runStatus() : null));
            }
        }
        if (!tracked.isEmpty()) {
            done.putAll(steps.complete(tracked, now));
        }
        return batch.stream()
                .map(c -> done.getOrDefault(c.job().jobId(), new Done(false, null)))
                .toList();
    }

    /**
     * The columns every completion statement unnests: job, lease token, when a retry is due, and the attempt (null
     * columns when nothing was sent).
     */
    static Columns<Completion> columns(List<Completion> batch) {
        return new Columns<>(batch)
                .bigints("ids", c -> c.job().jobId())
                .texts("tokens", c -> c.job().leaseToken().toString())
                .bigints("workflows", c -> c.job().workflowId())
                .texts("next_at", c -> c.next() == Next.RETRY ? c.retryAt().toString() : null)
                .texts("errors", c -> c.attempt() == null ? null : c.attempt().error())
                .integers(
                        "numbers", c -> c.attempt() == null ? null : c.attempt().number())
                .texts(
                        "started_at",
                        c -> c.attempt() == null
                                ? null
                                : c.attempt().startedAt().toString())
                .longs(
                        "durations",
                        c -> c.attempt() == null ? null : c.attempt().durationMs())
                .integers(
                        "response_status",
                        c -> c.attempt() == null ? null : c.attempt().statusCode())
                .texts(
                        "response_headers",
                        c -> c.attempt() == null ? null : c.attempt().responseHeaders())
                .texts(
                        "response_bodies",
                        c -> c.attempt() == null ? null : c.attempt().responseBody())
                .texts("requests", c -> c.attempt() == null ? null : c.attempt().request());
    }

    /**
     * Completes a batch with ONE statement: per job, the attempt row, the job's and the run's new state (a finished
     * job is deleted, a retried one goes back to pending) and, for a run that ends failed with an on_failure_url, its
     * alert. Each job is fenced by its lease token; returns the jobs whose completion took effect.
     */
    private Set<Long> completeUntracked(List<Completion> batch, Instant now) {
        Columns<Completion> columns = columns(batch)
                .texts("job_status", c -> switch (c.next()) {
                    case SUCCEEDED -> "succeeded";
                    case RETRY -> "pending";
                    case FAILED, SKIPPED, CANCELLED -> "failed";
                })
                .texts("run_status", c -> c.next().runStatus().wire())
                .texts("ended_at", c -> c.next() == Next.RETRY ? null : now.toString());
        return new HashSet<>(jdbc.sql("""
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
                      OR EXISTS (SELECT 1 FROM push_subscriptions p WHERE p.workflow_ids @> ARRAY[w.id])
                      OR """ + RunFailures.WATCHED + """
                 )
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
                .params(columns.params())
                .param("now", Timestamp.from(now))
                .query(Long.class)
                .list());
    }
}
