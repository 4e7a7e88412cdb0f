package dev.kikonect.db;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.AlignedClock;
import dev.kikonect.common.BackgroundLoop;
import dev.kikonect.common.DatabaseHealth;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Probes the database every half second ({@code SELECT clock_timestamp()}, then a one-row update that commits: an
 * error counts as down at once, no answer after five seconds too, as a commit that waits for a missing synchronous
 * standby does) and
 * reports to {@link DatabaseHealth}: readiness ({@code /health/ready}, the {@code database} indicator) answers from
 * that at once, and hooks refuse with 503 while it is down. A probe that hangs (a paused server) is not repeated
 * until it returns, so a stuck database costs one thread, not one per probe.
 *
 * <p>With the embedded PostgreSQL, a postmaster that died (SIGKILL, the OOM killer) is started again on the same
 * data directory and port; PostgreSQL's crash recovery replays its log, so nothing committed is lost, and the pool
 * reconnects by itself.
 */
@Component("database")
class DatabaseWatch extends BackgroundLoop implements HealthIndicator {

    private static final Logger log = LoggerFactory.getLogger(DatabaseWatch.class);
    private static final Duration INTERVAL = Duration.ofMillis(500);
    private static final Duration DEADLINE = Duration.ofSeconds(1);
    /**
     * A probe that fails is "down" at once; one that is merely slow only once it has been waiting this long, so that
     * a node whose CPU is saturated (its probe queued behind the load) does not flap to unready and 503. Requests do
     * not wait for it: an ingest item still queued after 2 s is dropped with a 503 on its own.
     */
    private static final Duration SLOW = Duration.ofSeconds(5);
    /**
     * The probe's own platform thread: on a virtual thread it waited for a carrier behind a flood of requests and made a
     * merely busy node look as if its database were down (bench/abuse caught it: 503s to legitimate webhooks).
     */
    private final ExecutorService prober = Executors.newSingleThreadExecutor(r ->
            Thread.ofPlatform().name("kikonect-database-probe").daemon(true).unstarted(r));

    private final JdbcClient jdbc;
    private final DatabaseHealth health;
    private final ObjectProvider<EmbeddedServer> embedded;
    private final Path embeddedDir;
    private CompletableFuture<Void> probe = CompletableFuture.completedFuture(null);
    private long downSince;
    private long probeStarted;
    private long lastSkewWarning = System.nanoTime() - 120_000_000_000L;
    private final AlignedClock clock;

    DatabaseWatch(
            JdbcClient jdbc,
            DatabaseHealth health,
            ObjectProvider<EmbeddedServer> embedded,
            KiKonectProperties properties,
            MeterRegistry meters,
            Clock applicationClock) {
        super("kikonect-database-watch", true);
        // Tests run a settable clock instead: then there is nothing to align.
        this.clock = applicationClock instanceof AlignedClock aligned ? aligned : null;
        if (clock != null) {
            Gauge.builder("kikonect.clock.skew", clock, c -> c.skew().toNanos() / 1e9)
                    .description(
                            "The database's clock minus this node's, in seconds; beyond 1 s this node follows the database's")
                    .baseUnit("seconds")
                    .register(meters);
        }
        this.jdbc = jdbc;
        this.health = health;
        this.embedded = embedded;
        this.embeddedDir = properties.dataDir().toAbsolutePath().normalize().resolve("postgres");
        Gauge.builder("kikonect.database.up", health, h -> h.isUp() ? 1 : 0)
                .description("1 while the database answers the watch's probe within a second, else 0")
                .register(meters);
    }

    @Override
    protected Duration runOnce() {
        if (probe.isDone()) {
            probeStarted = System.nanoTime();
            probe = CompletableFuture.runAsync(this::probeOnce, prober);
        }
        String failure = null;
        try {
            probe.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            long waited = (System.nanoTime() - probeStarted) / 1_000_000;
            if (waited < SLOW.toMillis()) {
                return Duration.ZERO; // slow, not yet down: wait on the same probe at once
            }
            failure = "no answer within " + waited + " ms";
        } catch (ExecutionException e) {
            failure = String.valueOf(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return INTERVAL;
        }
        boolean wasUp = health.isUp();
        health.report(failure == null, failure);
        if (failure == null) {
            if (!wasUp) {
                log.warn("The database answers again after {} ms", (System.nanoTime() - downSince) / 1_000_000);
            }
        } else {
            if (wasUp) {
                downSince = System.nanoTime();
                log.warn(
                        "The database is down: {}; hooks answer 503 and readiness is DOWN until it answers again",
                        failure);
            }
            restartEmbeddedIfDead();
        }
        return INTERVAL;
    }

    /**
     * One probe: reads the database's clock and compares it with this node's (the midpoint of the round trip), for
     * the {@link AlignedClock} and the skew metric; a skew beyond the tolerance is logged (at most once a minute).
     */
    private void probeOnce() {
        Instant before = clock == null ? null : clock.systemInstant();
        // A server in recovery (a standby, or a primary that became one in a failover) refuses every write.
        Map<String, Object> row = jdbc.sql("SELECT clock_timestamp() AS now, pg_is_in_recovery() AS standby")
                .query()
                .singleRow();
        if (Boolean.TRUE.equals(row.get("standby"))) {
            throw new IllegalStateException("the database is read-only (in recovery): it takes no writes");
        }
        if (clock != null) {
            align(before, ((Timestamp) row.get("now")).toInstant());
        }
        // A write, committed: a primary whose commits wait for a synchronous standby that is gone answers reads but
        // hangs every write, and this probe then hangs with them (down after SLOW) instead of reporting a node ready
        // that cannot store a webhook. (A transaction that only takes a transaction id writes no WAL and does not
        // wait: PostgreSQL answers it at once.)
        jdbc.sql("UPDATE database_probe SET at = clock_timestamp() WHERE id = 1")
                .update();
    }

    /** The skew of this node's clock, from a probe sent at {@code before} that read {@code database}. */
    private void align(Instant before, Instant database) {
        Instant after = clock.systemInstant();
        Instant middle = before.plus(Duration.between(before, after).dividedBy(2));
        Duration skew = Duration.between(middle, database);
        if (!clock.measured(skew, Duration.between(before, after))) {
            return; // a slow probe (a paused database, a pause here) says too little about the skew to act on
        }
        if (skew.abs().compareTo(AlignedClock.TOLERANCE) > 0 && System.nanoTime() - lastSkewWarning > 60_000_000_000L) {
            lastSkewWarning = System.nanoTime();
            log.warn("This node's clock is {} ms off the database's; following the database's clock", -skew.toMillis());
        }
    }

    /** Starts the embedded PostgreSQL again when its postmaster is gone (not when it is only slow or paused). */
    private void restartEmbeddedIfDead() {
        EmbeddedServer server = embedded.getIfAvailable();
        if (server == null || postmasterAlive()) {
            return;
        }
        log.warn("The embedded PostgreSQL's postmaster is gone; starting it again on {}", embeddedDir);
        try {
            server.restart();
        } catch (IOException | RuntimeException e) {
            log.warn("Starting the embedded PostgreSQL again failed; retrying: {}", e.toString());
        }
    }

    private boolean postmasterAlive() {
        try {
            Path pidFile = embeddedDir.resolve("postmaster.pid");
            if (!Files.exists(pidFile)) {
                return false;
            }
            long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        } catch (IOException | RuntimeException e) {
            return true; // cannot tell: do not start a second server on the directory
        }
    }

    @Override
    public Health health() {
        return health.isUp()
                ? Health.up().build()
                : Health.down().withDetail("reason", health.reason()).build();
    }
}
