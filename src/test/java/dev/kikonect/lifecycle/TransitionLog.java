package dev.kikonect.lifecycle;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import org.springframework.dao.PessimisticLockingFailureException;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Records every insert and status change of {@code workflow_runs}, {@code run_steps} and {@code jobs} (a trigger per
 * table) and judges them by the three machines ({@link RunStatus#TRANSITIONS}, {@link StepStatus#TRANSITIONS},
 * {@link JobStatus#TRANSITIONS}).
 */
final class TransitionLog {

    private static final List<String> TABLES = List.of("workflow_runs", "run_steps", "jobs");

    /** What was recorded: every distinct change ("jobs: processing -> pending"), and those the machines lack. */
    record Seen(Set<String> changes, List<String> illegal) {}

    private final JdbcClient jdbc;

    TransitionLog(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** Starts recording (from empty). */
    void start() {
        jdbc.sql("CREATE TABLE IF NOT EXISTS test_transitions (tbl text, old_status text, new_status text)")
                .update();
        jdbc.sql("TRUNCATE test_transitions").update();
        jdbc.sql("""
            CREATE OR REPLACE FUNCTION test_log_transition() RETURNS trigger AS $$
            BEGIN
              IF TG_OP = 'INSERT' THEN
                INSERT INTO test_transitions VALUES (regexp_replace(TG_TABLE_NAME, '_(p[0-9]+|legacy)$', ''), NULL, NEW.status);
              ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
                INSERT INTO test_transitions VALUES (regexp_replace(TG_TABLE_NAME, '_(p[0-9]+|legacy)$', ''), OLD.status, NEW.status);
              END IF;
              RETURN NULL;
            END $$ LANGUAGE plpgsql
            """).update();
        for (String table : TABLES) {
            ddl("CREATE OR REPLACE TRIGGER test_transitions AFTER INSERT OR UPDATE OF status ON " + table
                    + " FOR EACH ROW EXECUTE FUNCTION test_log_transition()");
        }
    }

    void stop() {
        for (String table : TABLES) {
            ddl("DROP TRIGGER IF EXISTS test_transitions ON " + table);
        }
    }

    /**
     * A trigger on a partitioned table is one on each partition, locked one after another while the application's
     * loops keep writing: the DDL can be a deadlock's victim. It is tried again then (up to 20 times).
     */
    private void ddl(String sql) {
        for (int attempt = 1; ; attempt++) {
            try {
                jdbc.sql(sql).update();
                return;
            } catch (PessimisticLockingFailureException e) {
                if (attempt == 20) {
                    throw e;
                }
                LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(20_000_000, 200_000_000));
            }
        }
    }

    Seen seen() {
        List<String> illegal = new ArrayList<>();
        Set<String> changes = new LinkedHashSet<>();
        jdbc.sql("SELECT DISTINCT tbl, old_status, new_status FROM test_transitions")
                .query((rs, n) -> {
                    String table = rs.getString(1);
                    String from = rs.getString(2);
                    String to = rs.getString(3);
                    changes.add(table + ": " + from + " -> " + to);
                    if (!allowed(table, from, to)) {
                        illegal.add(table + ": " + (from == null ? "(inserted)" : from) + " -> " + to);
                    }
                    return null;
                })
                .list();
        return new Seen(changes, illegal);
    }

    private static boolean allowed(String table, String from, String to) {
        return switch (table) {
            case "workflow_runs" ->
                from == null
                        ? RunStatus.INITIAL.contains(RunStatus.of(to))
                        : RunStatus.allows(RunStatus.of(from), RunStatus.of(to));
            case "run_steps" ->
                from == null ? StepStatus.INITIAL.contains(step(to)) : StepStatus.allows(step(from), step(to));
            case "jobs" -> from == null ? JobStatus.INITIAL.contains(job(to)) : JobStatus.allows(job(from), job(to));
            default -> false;
        };
    }

    private static StepStatus step(String wire) {
        return StepStatus.valueOf(wire.toUpperCase(Locale.ROOT));
    }

    private static JobStatus job(String wire) {
        return JobStatus.valueOf(wire.toUpperCase(Locale.ROOT));
    }
}
