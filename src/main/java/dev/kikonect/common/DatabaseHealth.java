package dev.kikonect.common;

import java.sql.SQLException;
import java.time.Duration;
import org.springframework.stereotype.Component;

/**
 * Whether the database takes work now: as the last probe found it (db/DatabaseWatch probes every half second; an
 * error, or five seconds without an answer, is "down"), and whether writes were just refused for want of resources
 * (disk full: SQLSTATE class 53) or because the server is read-only (25006) while reads still work. Readiness
 * reports it, and ingest refuses at once with 503 while it is down instead of letting requests queue behind a
 * database that will not take them. A refused write holds "down" for {@link #HOLD}; then writes are tried again.
 */
@Component
public class DatabaseHealth {

    static final Duration HOLD = Duration.ofSeconds(10);

    private final long holdNanos;
    private volatile boolean up = true;
    private volatile String reason = "";
    private volatile long writesRefusedUntil = System.nanoTime();
    private volatile String writeRefusal = "";

    public DatabaseHealth() {
        this(HOLD);
    }

    DatabaseHealth(Duration hold) {
        this.holdNanos = hold.toNanos();
    }

    public boolean isUp() {
        return up && !writesRefused();
    }

    public String reason() {
        return writesRefused() ? writeRefusal : reason;
    }

    private boolean writesRefused() {
        return System.nanoTime() - writesRefusedUntil < 0;
    }

    public void report(boolean up, String reason) {
        this.up = up;
        this.reason = reason == null ? "" : reason;
    }

    /** Looks at a failed write: one the database refused for want of resources or as read-only marks it down a while. */
    public void observe(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql
                    && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("53") || sql.getSQLState().equals("25006"))) {
                writeRefusal = "the database refuses writes (SQLSTATE " + sql.getSQLState() + ")";
                writesRefusedUntil = System.nanoTime() + holdNanos;
                return;
            }
        }
    }

    /** Throws 503 database-unavailable (Retry-After 2 s) while the database is down. */
    public void requireUp() {
        if (!isUp()) {
            throw new DomainException.Unavailable(
                    "database-unavailable",
                    "The database cannot take this request now; nothing was stored. Retry shortly.",
                    Duration.ofSeconds(2));
        }
    }
}
