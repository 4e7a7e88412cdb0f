package dev.kikonect.lifecycle;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.BackgroundLoop;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Prunes history: succeeded runs after {@code kikonect.retention.succeeded} (30 days), failed, cancelled and
 * skipped ones after {@code kikonect.retention.failed} (90 days), with their attempts and jobs; also expired
 * Idempotency-Keys. (Login sessions are pruned by auth's own {@code SessionStore}.) Deletes in small batches with a pause between them, so that deliveries never
 * queue behind a long delete. Runs on scheduler nodes; several at once are harmless (SKIP LOCKED).
 */
@Component
public class Retention extends BackgroundLoop {

    private static final Logger log = LoggerFactory.getLogger(Retention.class);

    private final JdbcClient jdbc;
    private final Clock clock;
    private final KiKonectProperties.Retention settings;

    private final Idempotency idempotency;

    Retention(JdbcClient jdbc, Clock clock, Idempotency idempotency, KiKonectProperties properties) {
        super("kikonect-retention", properties.hasRole("scheduler"));
        this.idempotency = idempotency;
        this.jdbc = jdbc;
        this.clock = clock;
        this.settings = properties.retention();
    }

    /** One full pass; returns the number of runs deleted. */
    public int prune() {
        Instant now = clock.instant();
        int runs = 0;
        runs += deleteRuns(RunStatus.sqlList(List.of(RunStatus.SUCCEEDED)), now.minus(settings.succeeded()));
        runs += deleteRuns(
                RunStatus.sqlList(List.of(RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.SKIPPED)),
                now.minus(settings.failed()));
        idempotency.pruneExpired(now);
        if (runs > 0) {
            log.info("Retention removed {} finished runs", runs);
        }
        return runs;
    }

    private int deleteRuns(String statuses, Instant cutoff) {
        int total = 0;
        while (true) {
            int deleted = jdbc.sql(
                            "DELETE FROM workflow_runs WHERE id IN (SELECT id FROM workflow_runs WHERE status IN "
                                    + statuses
                                    + " AND ended_at < :cutoff LIMIT :batch FOR UPDATE SKIP LOCKED)")
                    .param("cutoff", Timestamp.from(cutoff))
                    .param("batch", settings.batchSize())
                    .update();
            total += deleted;
            if (deleted < settings.batchSize()) {
                return total;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return total;
            }
        }
    }

    @Override
    protected Duration runOnce() {
        prune();
        return settings.interval();
    }
}
