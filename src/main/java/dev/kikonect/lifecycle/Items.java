package dev.kikonect.lifecycle;

import dev.kikonect.KiKonectProperties;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The items of a {@code for_each} step. At its first claim the step expands ({@link #expand}): one run_steps row per
 * item ({@code <step>#<index>}, {@code item_of}, {@code item}), each a step of its own (its webhook-id, attempts,
 * retries, attempt log, lease), the first {@code concurrency} with a job, item i after item i - concurrency has
 * finished ({@code run_if always}); the step itself waits for all of them ({@code always}) and gives its job up, all in
 * one statement. Claimed again once every item finished, it reads them ({@link #of}) to succeed or fail.
 */
@Repository
public class Items {

    /**
     * An item of a step: its index, status, error and kept response; {@code cut}: its response's headers and body were
     * left out, the items before it having used up what the steps after the loop may read.
     */
    public record Item(
            int index,
            String status,
            String error,
            Integer responseStatus,
            String responseHeaders,
            String responseBody,
            boolean cut) {}

    private final JdbcClient jdbc;
    private final long maxGatheredBytes;

    @Autowired
    Items(JdbcClient jdbc, KiKonectProperties properties) {
        this(jdbc, properties.steps().maxGatheredResponse().toBytes());
    }

    /** {@code maxGatheredBytes}: what the steps after a loop read of its items' responses at most. */
    public Items(JdbcClient jdbc, long maxGatheredBytes) {
        this.jdbc = jdbc;
        this.maxGatheredBytes = maxGatheredBytes;
    }

    /**
     * Expands {@code job}'s step into the items of {@code itemsJson} (a JSON array, not empty) with at most {@code
     * concurrency} in flight, and removes the job (fenced by its lease). False when the lease was lost (nothing done).
     */
    public boolean expand(ClaimedJob job, String itemsJson, int concurrency, Instant now) {
        return jdbc.sql("""
            WITH locked AS (
              SELECT id FROM workflow_runs WHERE id = :run FOR UPDATE
            ), parked AS (
              DELETE FROM jobs WHERE id = :job AND lease_token = :token AND status = 'processing'
                 AND EXISTS (SELECT 1 FROM locked)
              RETURNING run_id
            ), items AS (
              SELECT (i.ord - 1)::int AS idx, i.value
                FROM jsonb_array_elements(CAST(:items AS jsonb)) WITH ORDINALITY AS i(value, ord)
               WHERE EXISTS (SELECT 1 FROM parked)
            ), base AS (
              SELECT position FROM run_steps WHERE run_id = :run AND key = :step
            ), item_rows AS (
              INSERT INTO run_steps (run_id, key, position, needs, waiting_for, status, run_if, item_of, item, created_at)
              SELECT :run, :step || '#' || idx, base.position,
                     CASE WHEN idx < :concurrency THEN ARRAY[]::text[] ELSE ARRAY[:step || '#' || (idx - :concurrency)] END,
                     CASE WHEN idx < :concurrency THEN 0 ELSE 1 END,
                     CASE WHEN idx < :concurrency THEN 'pending' ELSE 'waiting' END,
                     CASE WHEN idx < :concurrency THEN NULL ELSE 'always' END,
                     :step, value, :now
                FROM items, base
              RETURNING key, status
            ), item_jobs AS (
              INSERT INTO jobs (run_id, workflow_id, step, run_at, created_at)
              SELECT :run, :workflow, key, :now, :now FROM item_rows WHERE status = 'pending'
            ), gather AS (
              UPDATE run_steps
                 SET status = 'waiting', run_if = 'always', waiting_for = (SELECT count(*) FROM items),
                     needs = ARRAY(SELECT :step || '#' || idx FROM items ORDER BY idx)
               WHERE run_id = :run AND key = :step AND EXISTS (SELECT 1 FROM parked)
            ), run AS (
              UPDATE workflow_runs SET open_steps = open_steps + (SELECT count(*) FROM items)
               WHERE id = :run AND EXISTS (SELECT 1 FROM parked)
            )
            SELECT count(*) FROM parked
            """)
                        .param("run", job.runId())
                        .param("job", job.jobId())
                        .param("token", job.leaseToken())
                        .param("items", itemsJson)
                        .param("step", job.step())
                        .param("workflow", job.workflowId())
                        .param("concurrency", concurrency)
                        .param("now", Timestamp.from(now))
                        .query(Integer.class)
                        .single()
                == 1;
    }

    /**
     * The items of step {@code step} of run {@code runId}, in order; empty when it has not expanded. Their responses
     * (headers and body) are read in item order up to {@code kikonect.steps.max-gathered-response} in all (the claim
     * reserves as much for the loop step, see {@link Claims}); the items past it come without.
     */
    public List<Item> of(long runId, String step) {
        return jdbc.sql("""
            SELECT idx, status, error, response_status,
                   CASE WHEN kept THEN response_headers::text END AS response_headers,
                   CASE WHEN kept THEN response_body END AS response_body, NOT kept AS cut
              FROM (SELECT split_part(key, '#', 2)::int AS idx, status, error, response_status, response_headers,
                           response_body,
                           sum(coalesce(octet_length(response_body), 0) + coalesce(octet_length(response_headers::text), 0))
                             OVER (ORDER BY split_part(key, '#', 2)::int) <= :max_bytes AS kept
                      FROM run_steps WHERE run_id = :run AND item_of = :step) items
             ORDER BY idx
            """)
                .param("run", runId)
                .param("step", step)
                .param("max_bytes", maxGatheredBytes)
                .query((rs, n) -> new Item(
                        rs.getInt("idx"),
                        rs.getString("status"),
                        rs.getString("error"),
                        (Integer) rs.getObject("response_status"),
                        rs.getString("response_headers"),
                        rs.getString("response_body"),
                        rs.getBoolean("cut")))
                .list();
    }

    /** The value (JSON) of item {@code itemKey} ({@code <step>#<index>}) of run {@code runId}. */
    public Optional<String> value(long runId, String itemKey) {
        return jdbc.sql("SELECT item::text FROM run_steps WHERE run_id = :run AND key = :key AND item_of IS NOT NULL")
                .param("run", runId)
                .param("key", itemKey)
                .query(String.class)
                .optional();
    }
}
