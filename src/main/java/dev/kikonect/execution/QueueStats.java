package dev.kikonect.execution;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Queue depth and the age of the oldest due job, as gauges. Read from the database at most every 5 seconds, when
 * a scrape asks, so that an idle node costs nothing.
 */
@Component
class QueueStats {

    private final JdbcClient jdbc;
    private final Clock clock;
    private final AtomicLong depth = new AtomicLong();
    private final AtomicLong oldestAgeMillis = new AtomicLong();
    private volatile Instant readAt = Instant.EPOCH;

    QueueStats(JdbcClient jdbc, Clock clock, MeterRegistry meters) {
        this.jdbc = jdbc;
        this.clock = clock;
        Gauge.builder("kikonect.queue.depth", this, s -> s.refresh().depth.get())
                .description("Jobs waiting to be delivered (due now or later)")
                .register(meters);
        Gauge.builder(
                        "kikonect.queue.oldest.age",
                        this,
                        s -> s.refresh().oldestAgeMillis.get() / 1000.0)
                .description("Seconds the oldest due job has been waiting")
                .baseUnit("seconds")
                .register(meters);
    }

    private synchronized QueueStats refresh() {
        Instant now = clock.instant();
        if (Duration.between(readAt, now).toSeconds() < 5) {
            return this;
        }
        readAt = now;
        jdbc.sql("""
            SELECT count(*) AS depth, min(run_at) FILTER (WHERE run_at <= :now) AS oldest
              FROM jobs WHERE status = 'pending'
            """)
                .param("now", Timestamp.from(now))
                .query((rs, n) -> {
                    // (a ResultSetExtractor that returned null here made JdbcClient throw "No result from
                    // ResultSetExtractor" at every scrape, and Prometheus read NaN)
                    depth.set(rs.getLong("depth"));
                    Timestamp oldest = rs.getTimestamp("oldest");
                    oldestAgeMillis.set(
                            oldest == null
                                    ? 0
                                    : Math.max(
                                            0,
                                            Duration.between(oldest.toInstant(), now)
                                                    .toMillis()));
                    return n;
                })
                .single();
        return this;
    }
}
