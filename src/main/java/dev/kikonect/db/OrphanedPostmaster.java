package dev.kikonect.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A KiKonect killed with SIGKILL leaves its embedded PostgreSQL running (pg_ctl daemonises it) on the data
 * directory. The next start would then fail on the stale server; instead it is asked to shut down (SIGINT, the
 * "fast" mode that still writes a clean checkpoint) and the new start takes the directory over.
 */
final class OrphanedPostmaster {

    private static final Logger log = LoggerFactory.getLogger(OrphanedPostmaster.class);

    private OrphanedPostmaster() {}

    static void stop(Path dataDir) throws IOException {
        Path pidFile = dataDir.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        List<String> lines = Files.readAllLines(pidFile);
        if (lines.isEmpty()) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(lines.get(0).strip());
        } catch (NumberFormatException e) {
            return;
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(OrphanedPostmaster::isPostgres);
        if (process.isEmpty()) {
            return; // stale file of a server that is gone; PostgreSQL itself copes with that
        }
        log.warn("PostgreSQL (pid {}) from an earlier run still serves {}; shutting it down first", pid, dataDir);
        try {
            new ProcessBuilder("kill", "-INT", Long.toString(pid))
                    .inheritIO()
                    .start()
                    .waitFor();
            Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
            while (process.get().isAlive() && Instant.now().isBefore(deadline)) {
                Thread.sleep(100);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (process.get().isAlive()) {
            throw new IllegalStateException(
                    "PostgreSQL pid " + pid + " on " + dataDir + " did not shut down; stop it by hand");
        }
    }

    private static boolean isPostgres(ProcessHandle handle) {
        return handle.info()
                .command()
                .map(c -> c.endsWith("/postgres") || c.endsWith("postgres"))
                .orElse(false);
    }
}
