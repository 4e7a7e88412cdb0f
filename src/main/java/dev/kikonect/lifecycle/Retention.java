package dev.kikonect.lifecycle;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.BackgroundLoop;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.springframework.stereotype.Component;

/**
 * Prunes history: succeeded runs after {@code kikonect.retention.succeeded} (30 days), failed, cancelled and
 * skipped ones after {@code kikonect.retention.failed} (90 days), with their attempts and steps, by dropping whole
 * partitions ({@link RunPartitions}: a run is kept at least its retention and at most until the last run of its
 * partition is due); also the slots and causes that guard "at most once" for those runs, and expired
 * Idempotency-Keys. (Login sessions are pruned by auth's own {@code SessionStore}.) Runs on scheduler nodes; several
 * at once are harmless (the partition changes take one advisory lock).
 */
@Component
public class Retention extends BackgroundLoop {

    private final Clock clock;
    private final KiKonectProperties.Retention settings;
    private final RunPartitions partitions;
    private final Idempotency idempotency;

    Retention(Clock clock, RunPartitions partitions, Idempotency idempotency, KiKonectProperties properties) {
        super("kikonect-retention", properties.hasRole("scheduler"));
        this.partitions = partitions;
        this.idempotency = idempotency;
        this.clock = clock;
        this.settings = properties.retention();
    }

    /** One full pass; returns the number of runs dropped. */
    public long prune() {
        Instant now = clock.instant();
        Instant succeededBefore = now.minus(settings.succeeded());
        Instant failedBefore = now.minus(settings.failed());
        RunPartitions.Dropped dropped = partitions.dropDue(succeededBefore, failedBefore);
        partitions.pruneKeys(succeededBefore.isBefore(failedBefore) ? succeededBefore : failedBefore);
        idempotency.pruneExpired(now);
        return dropped.runs();
    }

    @Override
    protected Duration runOnce() {
        prune();
        return settings.interval();
    }
}
