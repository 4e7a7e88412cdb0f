package dev.kikonect.lifecycle;

import dev.kikonect.KiKonectProperties;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The jobs table as a queue, the taking side: a claim takes a batch of due jobs, leases them to this node and marks
 * their runs (and steps) running, in one statement; and what a claimed step reads of its run's earlier steps.
 *
 * <p>The table holds only work still to do: a job that ends (succeeded, failed, cancelled) is deleted by the statement
 * that ends its run ({@link Completions}), so the queue stays as small as the backlog however long the history grows;
 * the history is in workflow_runs and attempts. Leases are renewed and rescued by {@link Leases}.
 */
@Repository
public class Claims {

    /** The claim (see {@link #claim(int, long, long[], long[], Instant, Duration, String)}), made once. */
    private static final String CLAIM = """
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
              -- What each due job costs (JobCost): it brings its run's payload when it is the first of its run and the
              -- run is not held (payloads shared), and a step reads the saved responses of its run's steps.
              SELECT due.id, due.run_at, due.read_bytes, %s AS bytes
                FROM (SELECT due.*,
                             NOT (:share AND (due.run_id = ANY(:held_runs::bigint[])
                                              OR row_number() OVER (PARTITION BY due.run_id ORDER BY due.run_at, due.id) > 1))
                               AS brings_payload,
                             CASE WHEN due.step IS NULL THEN 0
                                  ELSE (SELECT coalesce(sum(octet_length(s.response_body)) FILTER (WHERE s.item_of IS NULL), 0)
                                               -- a loop's items are read by the loop step alone (it gathers them), up
                                               -- to the ceiling of what it gathers (Items.of)
                                               + least(coalesce(sum(coalesce(octet_length(s.response_body), 0)
                                                                    + coalesce(octet_length(s.response_headers::text), 0))
                                                                  FILTER (WHERE s.item_of = due.step), 0), :max_gathered)
                                          FROM run_steps s
                                         WHERE s.run_id = due.run_id AND (s.item_of IS NULL OR s.item_of = due.step))
                             END AS read_bytes
                        FROM due) due
                JOIN workflow_runs r ON r.id = due.run_id
            ), sized AS (
              -- The running total, oldest first: the memory budget cuts the batch there.
              SELECT id, read_bytes, sum(bytes) OVER (ORDER BY run_at, id) AS total, row_number() OVER (ORDER BY run_at, id) AS n
                FROM each_due
            ), claimed AS (
              UPDATE jobs j
                 SET status = 'processing', attempt = j.attempt + 1, lease_token = gen_random_uuid(),
                     lease_expires_at = :lease_until, locked_by = :node, started_at = :now
                FROM sized
               WHERE j.id = sized.id AND (sized.total <= :max_bytes OR sized.n = 1)
              RETURNING j.id, j.run_id, j.workflow_id, j.attempt, j.attempt_offset, j.lease_token, j.step, sized.read_bytes,
                        j.waited_until
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
                   claimed.read_bytes, claimed.waited_until,
                   claimed.step, w.workspace_id, w.name AS workflow_name, w.action_url,
                   CASE WHEN w.action_url IS NULL THEN w.steps::text END AS steps,
                   coalesce(w.max_attempts, :default_max_attempts) AS max_attempts,
                   CASE WHEN :share AND row_number() OVER (PARTITION BY claimed.run_id ORDER BY claimed.id) > 1
                        THEN NULL ELSE run.payload END AS payload,
                   coalesce(step_row.webhook_id, run.webhook_id) AS webhook_id, run.trigger,
                   run.created_at AS run_created_at, run.scheduled_for, run.request, w.signing_secret,
                   claimed.step IS NOT NULL AND (run.status = 'cancelled' OR step_row.key IS NULL) AS run_cancelled,
                   CASE WHEN w.previous_secret_expires_at > :now THEN w.previous_signing_secret END AS previous_secret,
                   CASE WHEN w.trigger_config->'respond'->>'mode' = 'step' THEN w.trigger_config->'respond'->>'step' END
                     AS answer_step
              FROM claimed
              JOIN run ON run.id = claimed.run_id
              JOIN workflows w ON w.id = claimed.workflow_id
              LEFT JOIN step_row ON step_row.run_id = claimed.run_id AND step_row.key = claimed.step
             ORDER BY claimed.id
            """.formatted(JobCost.SQL);

    private final JdbcClient jdbc;
    private final int defaultMaxAttempts;

    private final long maxGatheredBytes;

    @Autowired
    Claims(JdbcClient jdbc, KiKonectProperties properties) {
        this(
                jdbc,
                properties.delivery().maxAttempts(),
                properties.steps().maxGatheredResponse().toBytes());
    }

    /** {@code defaultMaxAttempts}: a workflow's budget when it sets none ({@code kikonect.delivery.max-attempts}). */
    public Claims(JdbcClient jdbc, int defaultMaxAttempts) {
        this(jdbc, defaultMaxAttempts, 4L << 20);
    }

    /** {@code maxGatheredBytes}: what a loop step reads of its items' responses at most ({@link Items#of}). */
    public Claims(JdbcClient jdbc, int defaultMaxAttempts, long maxGatheredBytes) {
        this.jdbc = jdbc;
        this.defaultMaxAttempts = defaultMaxAttempts;
        this.maxGatheredBytes = maxGatheredBytes;
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
    public List<ClaimedJob> claim(
            int limit, long maxPayloadBytes, long[] skipOwners, Instant now, Duration lease, String node) {
        return claim(limit, maxPayloadBytes, skipOwners, null, now, lease, node);
    }

    /**
     * As {@link #claim(int, long, long[], Instant, Duration, String)}, for a node that shares payloads between the jobs of
     * a run ({@code heldRuns} not null): a job's payload comes back only when it is the first claimed job of its run and
     * its run is not in {@code heldRuns} (the runs whose payload the node holds already); the others' is null. A run of 20
     * steps then reads and sends its payload once, not 20 times.
     */
    public List<ClaimedJob> claim(
            int limit,
            long maxPayloadBytes,
            long[] skipOwners,
            long[] heldRuns,
            Instant now,
            Duration lease,
            String node) {
        return jdbc.sql(CLAIM)
                .param("now", Timestamp.from(now))
                .param("limit", limit)
                .param("max_bytes", maxPayloadBytes)
                .param("skip_owners", skipOwners)
                .param("share", heldRuns != null)
                .param("held_runs", heldRuns == null ? new long[0] : heldRuns)
                .param("lease_until", Timestamp.from(now.plus(lease)))
                .param("node", node)
                .param("default_max_attempts", defaultMaxAttempts)
                .param("max_gathered", maxGatheredBytes)
                .query((rs, n) -> new ClaimedJob(
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
                        rs.getBoolean("run_cancelled"),
                        rs.getLong("read_bytes"),
                        Run.instant(rs.getTimestamp("waited_until")),
                        rs.getString("answer_step")))
                .list();
    }

    /** A step of a run as a dependant's expressions read it: its status, its error and its kept response. */
    public record StepResponse(
            String status, Integer responseStatus, String headers, String body, String error, boolean timedOut) {

        public StepResponse(String status, Integer responseStatus, String headers, String body) {
            this(status, responseStatus, headers, body, null, false);
        }
    }

    /** The steps {@code keys} of run {@code runId}, by key. */
    public Map<String, StepResponse> stepResponses(long runId, List<String> keys) {
        Map<String, StepResponse> out = new LinkedHashMap<>();
        jdbc.sql("""
            SELECT key, status, response_status, response_headers::text AS response_headers, response_body, error, timed_out
              FROM run_steps WHERE run_id = :run AND key = ANY(:keys::text[]) ORDER BY position
            """)
                .param("run", runId)
                .param("keys", keys.toArray(String[]::new))
                .query((rs, n) -> out.put(
                        rs.getString("key"),
                        new StepResponse(
                                rs.getString("status"),
                                (Integer) rs.getObject("response_status"),
                                rs.getString("response_headers"),
                                rs.getString("response_body"),
                                rs.getString("error"),
                                rs.getBoolean("timed_out"))))
                .list();
        return out;
    }
}
