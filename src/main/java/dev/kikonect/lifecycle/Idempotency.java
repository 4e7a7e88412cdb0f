package dev.kikonect.lifecycle;

import dev.kikonect.common.DomainException;
import dev.kikonect.common.SecureTokens;
import java.security.MessageDigest;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Triggers with an {@code Idempotency-Key}: the first request with a key creates the run, every repeat within
 * {@link #WINDOW} gets that run back. Owns {@code idempotency_keys}.
 */
@Component
public class Idempotency {

    /** How long an Idempotency-Key keeps answering with the run it created. */
    public static final Duration WINDOW = Duration.ofHours(24);

    /** The run an enqueue produced; {@code repeated}: the key matched, the run is the earlier one. */
    public record Enqueued(Run run, boolean repeated) {}

    private static final String INSERT_ONE = """
      WITH run AS (
        INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, created_at, open_steps, request)
        SELECT w.id, :workspace, 'pending', :trigger, :payload::json, :now, CASE WHEN w.tracked THEN jsonb_array_length(w.steps) END, CAST(:request AS jsonb)
          FROM workflows w WHERE w.id = :workflow
        RETURNING *
      )
      """ + RunSteps.START + """
      SELECT
      """ + Run.COLUMNS + " FROM run";

    private final JdbcClient jdbc;
    private final Clock clock;
    private final WorkSignal signal;
    private final TransactionTemplate transactions;

    Idempotency(JdbcClient jdbc, Clock clock, WorkSignal signal, TransactionTemplate transactions) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.signal = signal;
        this.transactions = transactions;
    }

    /**
     * Enqueues one run unless {@code key} was used on this workflow within 24 hours; then the run that request created
     * is returned instead, when the payload is the same (else a 409: the key is not a way to read another caller's run). Two requests racing with one key get one run: the second waits on the key's unique index
     * until the first commits, then finds its run.
     */
    public Enqueued enqueue(
            long workflowId, long workspaceId, String trigger, String payload, String key, String request) {
        byte[] hash = SecureTokens.sha256(payload);
        Enqueued result = transactions.execute(status -> {
            Instant now = clock.instant();
            boolean claimed = jdbc.sql("""
                              INSERT INTO idempotency_keys (workflow_id, key, created_at, payload_hash) VALUES (:workflow, :key, :now, :hash)
                              ON CONFLICT (workflow_id, key) DO UPDATE SET created_at = EXCLUDED.created_at, run_id = NULL,
                                                                           payload_hash = EXCLUDED.payload_hash
                               WHERE idempotency_keys.created_at < :expired
                              RETURNING 1
                              """)
                    .param("workflow", workflowId)
                    .param("key", key)
                    .param("now", Timestamp.from(now))
                    .param("hash", hash)
                    .param("expired", Timestamp.from(now.minus(WINDOW)))
                    .query(Integer.class)
                    .optional()
                    .isPresent();
            if (!claimed) {
                byte[] first = jdbc.sql(
                                "SELECT payload_hash FROM idempotency_keys WHERE workflow_id = :workflow AND key = :key")
                        .param("workflow", workflowId)
                        .param("key", key)
                        .query(byte[].class)
                        .optional()
                        .orElse(null);
                if (first != null && !MessageDigest.isEqual(first, hash)) {
                    // Another request's key (or a mistake): its run, and its payload, are not this caller's to see.
                    throw new DomainException.Conflict(
                            "idempotency-key-mismatch",
                            "This Idempotency-Key was used with another payload within 24 hours; use a new key.");
                }
                Run earlier = jdbc.sql("SELECT " + Run.COLUMNS + " FROM workflow_runs WHERE id ="
                                + " (SELECT run_id FROM idempotency_keys WHERE workflow_id = :workflow AND key = :key)")
                        .param("workflow", workflowId)
                        .param("key", key)
                        .query(Run::fromRow)
                        .optional()
                        .orElseThrow(() -> new DomainException.Conflict(
                                "idempotency-key-reused",
                                "The run this Idempotency-Key created no longer exists; use a new key."));
                return new Enqueued(earlier, true);
            }
            Run run = insert(workflowId, workspaceId, trigger, payload, request, now);
            jdbc.sql("UPDATE idempotency_keys SET run_id = :run WHERE workflow_id = :workflow AND key = :key")
                    .param("run", run.id())
                    .param("workflow", workflowId)
                    .param("key", key)
                    .update();
            return new Enqueued(run, false);
        });
        if (!result.repeated()) {
            signal.wake();
        }
        return result;
    }

    private Run insert(long workflowId, long workspaceId, String trigger, String payload, String request, Instant now) {
        return jdbc.sql(INSERT_ONE)
                .param("request", request, Types.VARCHAR)
                .param("workflow", workflowId)
                .param("workspace", workspaceId)
                .param("trigger", trigger)
                .param("payload", payload)
                .param("now", Timestamp.from(now))
                .query(Run::fromRow)
                .single();
    }

    /** Forgets keys older than the window; returns how many. */
    int pruneExpired(Instant now) {
        return jdbc.sql("DELETE FROM idempotency_keys WHERE created_at < :cutoff")
                .param("cutoff", Timestamp.from(now.minus(WINDOW)))
                .update();
    }
}
