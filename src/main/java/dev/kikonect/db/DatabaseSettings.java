package dev.kikonect.db;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Warns at start-up about server settings of an external PostgreSQL that KiKonect's guarantees or speed depend on
 * (the embedded one is configured by KiKonect itself): {@code synchronous_commit} off loses acknowledged webhooks on
 * a crash (a 202 must mean stored), and an {@code autovacuum_naptime} above 1 s lets the queue tables' dead rows pile
 * up between vacuums, which slows every claim (measured in bench/results: the queue is insert-delete heavy). A primary
 * that streams to standbys with an empty {@code synchronous_standby_names} acknowledges commits before any standby has
 * them: a failover to one of them loses the webhooks answered 202 just before it.
 */
@Component
class DatabaseSettings {

    private static final Logger log = LoggerFactory.getLogger(DatabaseSettings.class);

    private final JdbcClient jdbc;
    private final boolean external;

    DatabaseSettings(JdbcClient jdbc, Environment environment) {
        this.jdbc = jdbc;
        this.external = environment.getProperty("spring.datasource.url") != null;
    }

    @EventListener(ApplicationReadyEvent.class)
    void warnAtStart() {
        if (!external) {
            return;
        }
        try {
            warnings().forEach(log::warn);
        } catch (RuntimeException e) {
            log.info("Could not read the database's settings to check them: {}", e.getMessage());
        }
    }

    /** What is wrong with the server's settings, one sentence each (empty: nothing). */
    List<String> warnings() {
        Map<String, String> settings =
                jdbc.sql("""
            SELECT name, setting FROM pg_settings
             WHERE name IN ('synchronous_commit', 'autovacuum_naptime', 'autovacuum', 'fsync', 'synchronous_standby_names')
            UNION ALL
            SELECT 'standbys', count(*)::text FROM pg_stat_replication
            """).query((rs, n) -> Map.entry(rs.getString(1), rs.getString(2))).list().stream()
                        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        return warnings(settings);
    }

    static List<String> warnings(Map<String, String> settings) {
        List<String> out = new ArrayList<>();
        if ("off".equals(settings.get("synchronous_commit"))) {
            out.add(
                    "PostgreSQL has synchronous_commit = off: a webhook answered 202 may be lost if the database crashes right after."
                            + " Set synchronous_commit = on (ALTER SYSTEM SET synchronous_commit = on; SELECT pg_reload_conf()).");
        }
        if ("off".equals(settings.get("fsync"))) {
            out.add(
                    "PostgreSQL has fsync = off: a crash of its machine can lose or corrupt stored runs. Set fsync = on.");
        }
        if ("off".equals(settings.get("autovacuum"))) {
            out.add(
                    "PostgreSQL has autovacuum = off: the queue tables' dead rows are never cleaned and claims slow down. Set autovacuum = on.");
        }
        String standbys = settings.getOrDefault("standbys", "0");
        if (!"0".equals(standbys)
                && settings.getOrDefault("synchronous_standby_names", "").isBlank()) {
            out.add("PostgreSQL streams to " + standbys
                    + " standby(s) with synchronous_standby_names empty: a commit is"
                    + " acknowledged before any standby has it, so a failover to one loses the webhooks answered 202 just"
                    + " before. Name them (ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 (standby1, standby2)';"
                    + " SELECT pg_reload_conf()).");
        }
        String naptime = settings.get("autovacuum_naptime"); // seconds
        if (naptime != null && naptime.matches("\\d+") && Integer.parseInt(naptime) > 1) {
            out.add("PostgreSQL has autovacuum_naptime = " + naptime
                    + " s: KiKonect's queue tables churn fast and want 1s"
                    + " (ALTER SYSTEM SET autovacuum_naptime = '1s'; SELECT pg_reload_conf()).");
        }
        return out;
    }
}
