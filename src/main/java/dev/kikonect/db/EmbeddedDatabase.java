package dev.kikonect.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts zonky's embedded PostgreSQL durably on a data directory that outlives the process. */
public final class EmbeddedDatabase {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabase.class);

    private EmbeddedDatabase() {}

    /**
     * Starts (initialising on first use) a PostgreSQL server whose data lives in {@code dataDir}.
     *
     * <p>zonky's builder defaults to {@code synchronous_commit=off} and passes {@code -F} (fsync off); both are turned
     * back on here because this database holds users' data: a 202 must survive a power cut.
     */
    public static EmbeddedPostgres start(Path dataDir, int port) throws IOException {
        Files.createDirectories(dataDir.getParent());
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setDataDirectory(dataDir)
                .setCleanDataDirectory(false)
                .setPGStartupWait(Duration.ofSeconds(60))
                // No JVM shutdown hook of zonky's own: it would stop PostgreSQL while the application still needs it
                // (handing unfinished jobs back, the last group commits). The Spring bean's close stops it, last.
                .setRegisterShutdownHook(false)
                .setServerConfig("fsync", "on")
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("full_page_writes", "on")
                .setServerConfig("listen_addresses", "localhost")
                .setServerConfig("unix_socket_directories", "''")
                .setServerConfig("max_connections", "200")
                .setServerConfig("shared_buffers", "128MB")
                .setServerConfig("wal_compression", "on")
                // The jobs table is a queue: every claim leaves a dead entry in the pending-jobs index that later
                // claims must step over until vacuum removes it. With the default one-minute nap, that cost grew during
                // a 500 webhooks/s run until PostgreSQL used a whole core; vacuuming the small table every second keeps
                // it flat. Production servers: see README, "Running on your own PostgreSQL".
                .setServerConfig("autovacuum_naptime", "1s")
                // The server's own log, in <data>/postgres/log: a crashed backend's "terminated by signal" and the
                // statement it was running are only there (bench/results/2026-12-08-history.md: crashes whose statement
                // was lost). One file per weekday and hour, emptied when its hour comes round again: a week at most.
                .setServerConfig("logging_collector", "on")
                .setServerConfig("log_directory", "log")
                .setServerConfig("log_filename", "postgresql-%a-%H.log")
                .setServerConfig("log_rotation_age", "60")
                .setServerConfig("log_rotation_size", "0")
                .setServerConfig("log_truncate_on_rotation", "on")
                .setServerConfig("timezone", "UTC");
        if (port > 0) {
            builder.setPort(port);
        }
        // As root, zonky 2.2 runs initdb and pg_ctl under `unshare -U` (PostgreSQL refuses to run as root).
        OrphanedPostmaster.stop(dataDir);
        EmbeddedPostgres postgres = builder.start();
        log.info("Embedded PostgreSQL on port {} with data in {}", postgres.getPort(), dataDir);
        return postgres;
    }
}
