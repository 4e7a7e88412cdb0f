package dev.kikonect.audit;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.BackgroundLoop;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.springframework.stereotype.Component;

/** Removes audit entries older than {@code kikonect.audit.retention} (default 365 days), in batches of 1,000. */
@Component
class AuditRetention extends BackgroundLoop {

    private final AuditLog log;
    private final Clock clock;
    private final Duration retention;

    AuditRetention(AuditLog log, Clock clock, KiKonectProperties properties) {
        super("kikonect-audit-retention", properties.hasRole("scheduler"));
        this.log = log;
        this.clock = clock;
        this.retention = properties.audit().retention();
    }

    /** One pass; returns how many entries it removed. */
    int prune() {
        Instant cutoff = clock.instant().minus(retention);
        int total = 0;
        int deleted;
        do {
            deleted = log.prune(cutoff, 1000);
            total += deleted;
        } while (deleted == 1000);
        return total;
    }

    @Override
    protected Duration runOnce() {
        prune();
        return Duration.ofHours(1);
    }
}
