package dev.kikonect.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded PostgreSQL this node runs, which {@link DatabaseWatch} may start again (same directory, same port)
 * when its postmaster died. Closing it (the Spring bean's destroy, after the data source) stops whichever server
 * runs now.
 */
final class EmbeddedServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedServer.class);

    private final Path dataDir;
    private final DataDirLock lock;
    private volatile EmbeddedPostgres current;

    /**
     * Takes the data directory's lock first (a second KiKonect on it stops here, and the first's PostgreSQL is never
     * mistaken for an orphan), then starts PostgreSQL.
     */
    EmbeddedServer(Path dataDir, int port) throws IOException {
        this.dataDir = dataDir;
        this.lock = DataDirLock.take(dataDir.getParent());
        try {
            this.current = EmbeddedDatabase.start(dataDir, port);
            lock.describe(
                    "pid " + ProcessHandle.current().pid() + " (its PostgreSQL on port " + current.getPort() + ")");
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** Says in the lock which HTTP port this KiKonect serves, once it does: a second start names it. */
    void serving(int httpPort) {
        try {
            lock.describe("pid " + ProcessHandle.current().pid() + " on port " + httpPort + " (its PostgreSQL on port "
                    + current.getPort() + ")");
        } catch (IOException e) {
            log.debug("Could not describe the data directory's holder: {}", e.toString());
        }
    }

    String jdbcUrl() {
        return current.getJdbcUrl("postgres", "postgres");
    }

    int port() {
        return current.getPort();
    }

    Path dataDir() {
        return dataDir;
    }

    /** Starts PostgreSQL again on the same directory and port, its dead predecessor's lock released first. */
    synchronized void restart() throws IOException {
        try {
            current.close(); // pg_ctl stop fails on a dead server; the directory lock is released either way
        } catch (IOException | RuntimeException e) {
            log.debug("Closing the dead embedded PostgreSQL: {}", e.toString());
        }
        current = EmbeddedDatabase.start(dataDir, current.getPort());
    }

    @Override
    public synchronized void close() throws IOException {
        try {
            current.close();
        } finally {
            lock.close(); // after PostgreSQL stopped: the next start may take the directory
        }
    }
}
