package dev.kikonect.lifecycle;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.BackgroundLoop;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * History's partitions (V33): {@code workflow_runs}, {@code attempts} and {@code run_steps} are range-partitioned by
 * run id with the same bounds, one partition of each per range, named by the range's first id ({@code _p1000001}; the
 * rows from before partitioning are {@code _legacy}, from the lowest id).
 *
 * <p>Every node keeps {@code kikonect.retention.partitions-ahead} empty partitions (of {@code
 * kikonect.retention.partition-runs} ids) above the run-id sequence, checked every 10 s, so an insert always finds its
 * partition. Retention ({@link Retention}) drops a whole partition once every run in it is past its retention: no
 * run still open, no job left, every succeeded run ended before {@code succeeded} ago and every other before {@code
 * failed} ago. A run is therefore kept at least its retention and at most until the last run of its partition is due
 * (a partition holds about {@code partition-runs} consecutive runs). Only partitions the sequence has passed are
 * candidates.
 *
 * <p>Partition DDL needs brief exclusive locks on busy tables (a new partition: the parent exclusively and the tables
 * whose foreign keys meet it against writes; dropping one: its parent, and {@code workflows} for the foreign key). So
 * each DDL statement runs alone in its own transaction, waits at most 50 ms for each lock and 500 ms in all (below
 * PostgreSQL's deadlock_timeout of 1 s: a claim or a completion that waits behind it never waits long enough to run
 * the deadlock check, so it is never a deadlock's victim), and is tried again after a random pause until it gets its
 * locks (bench/history found both the 2 s wait and one transaction locking all tables at once failing under load: the
 * first made deliveries deadlock victims, the second never got its locks). Note that an old partition is no quieter
 * than a new one: PostgreSQL locks every partition of a generic plan, so each hot statement takes a weak lock on all of
 * them, and any strong lock on any partition queues every delivery behind it. A pass first waits until no transaction
 * older than its start still runs (so every run with an id below the sequence is committed; a bulk insert still
 * running once made its partition look empty). A drop goes: check that every run is due (no table lock), delete the
 * {@code failure_alerts} and {@code sub_runs} rows pointing into the range after checking again that no job or open
 * run appeared, drop {@code attempts} and {@code run_steps}' partitions, detach {@code workflow_runs}' partition
 * CONCURRENTLY (the foreign key from {@code jobs} makes it fail, rather than lose a run, if a run was reopened since),
 * drop its foreign key to {@code workflows}, drop it. A drop interrupted half-way is finished by the next pass (a
 * pending detach is finalized, a detached table dropped).
 *
 * <p>Each change runs under one transaction-scoped advisory lock, so several nodes (and pgbouncer in transaction mode)
 * are safe. Partitioning by id, not time: every hot statement reaches history by run id, so each prunes to one
 * partition and the keys stay as they were (docs/scaling.md).
 */
@Component
public class RunPartitions extends BackgroundLoop {

    private static final Logger log = LoggerFactory.getLogger(RunPartitions.class);

    /** The partitioned tables, in the order a partition is dropped (the referencing ones first). */
    static final List<String> TABLES = List.of("attempts", "run_steps", "workflow_runs");

    /** The advisory lock that serialises partition changes across nodes ("kkparts"). */
    private static final long LOCK = 0x6b6b7061727473L;

    private static final Pattern BOUND = Pattern.compile("FROM \\((MINVALUE|'?(-?\\d+)'?)\\) TO \\('?(-?\\d+)'?\\)");

    /** One range: {@code from} null for the legacy partition (from MINVALUE). */
    public record Partition(String suffix, Long from, long to) {
        String range(String column) {
            return from == null ? column + " < " + to : column + " >= " + from + " AND " + column + " < " + to;
        }
    }

    /** What a pass of {@link #dropDue} did: partitions and runs dropped. */
    public record Dropped(int partitions, long runs) {}

    private final JdbcTemplate template;
    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;
    private final long size;
    private final int ahead;

    @Autowired
    RunPartitions(JdbcTemplate template, TransactionTemplate transactions, KiKonectProperties properties) {
        this(
                template,
                transactions,
                properties.retention().partitionRuns(),
                properties.retention().partitionsAhead(),
                !properties.hasRole("none"));
    }

    RunPartitions(JdbcTemplate template, TransactionTemplate transactions, long size, int ahead, boolean loop) {
        super("kikonect-partitions", loop);
        this.template = template;
        this.jdbc = JdbcClient.create(template);
        this.transactions = transactions;
        this.size = size;
        this.ahead = ahead;
    }

    /** The partitions of {@code workflow_runs}, lowest first. */
    public List<Partition> partitions() {
        List<Partition> all = new ArrayList<>(jdbc.sql("""
                SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
                  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'workflow_runs'::regclass
                """)
                .query((rs, n) -> {
                    String name = rs.getString("relname");
                    Matcher m = BOUND.matcher(rs.getString("bound"));
                    if (!m.find()) {
                        throw new IllegalStateException("unexpected partition bound of " + name);
                    }
                    Long from = m.group(2) == null ? null : Long.parseLong(m.group(2));
                    return new Partition(name.substring("workflow_runs_".length()), from, Long.parseLong(m.group(3)));
                })
                .list());
        all.sort(Comparator.comparing(Partition::to));
        return all;
    }

    /** The id the next run will get. */
    public long nextRunId() {
        return jdbc.sql("""
                SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('workflow_runs', 'id')::regclass) + 1,
                                (SELECT start_value FROM pg_sequences
                                  WHERE schemaname || '.' || sequencename = pg_get_serial_sequence('workflow_runs', 'id')))
                """).query(Long.class).single();
    }

    /**
     * Creates partitions until {@code ahead} whole empty ones lie above the next run id; returns how many ranges it
     * made. Each table's partition is one short transaction ({@link #ddl}); a range's {@code attempts} and {@code
     * run_steps} partitions come before its {@code workflow_runs} one, so a range that has a run partition has all.
     */
    public int ensureAhead() {
        int made = 0;
        while (true) {
            String created = ddl(() -> {
                List<Partition> all = partitions();
                long top = all.isEmpty() ? 1 : all.getLast().to();
                long next = nextRunId();
                if (top - next >= ahead * size) {
                    return null;
                }
                long to = next >= top ? next + size : top + size;
                for (String table : TABLES) {
                    String name = table + "_p" + top;
                    if (!exists(name)) {
                        jdbc.sql("CREATE TABLE %s PARTITION OF %s FOR VALUES FROM (%d) TO (%d)"
                                        .formatted(name, table, top, to))
                                .update();
                        return name;
                    }
                }
                throw new IllegalStateException("workflow_runs_p" + top + " exists but is not a partition");
            });
            if (created == null) {
                break;
            }
            if (created.startsWith("workflow_runs_")) {
                made++;
            }
        }
        if (made > 0) {
            log.info("Created {} history partition(s) of {} runs ahead of run id {}", made, size, nextRunId());
        }
        return made;
    }

    private boolean exists(String table) {
        return jdbc.sql("SELECT to_regclass(:name) IS NOT NULL")
                .param("name", table)
                .query(Boolean.class)
                .single();
    }

    /**
     * Moves the next run id to the start of the next partition (ids between are never used), so the partition in
     * use now is closed: for tests and the history benchmark, which need runs in partitions of their own. Nothing
     * changes when no run has an id in the partition yet.
     */
    public void rollOver() {
        transactions.executeWithoutResult(status -> {
            lock();
            long next = nextRunId();
            Partition current = partitions().stream()
                    .filter(p -> (p.from() == null || p.from() <= next) && next < p.to())
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("no partition holds run id " + next));
            if (current.from() != null && current.from() == next) {
                return;
            }
            jdbc.sql("SELECT setval(pg_get_serial_sequence('workflow_runs', 'id'), :last)")
                    .param("last", current.to() - 1)
                    .query(Long.class)
                    .single();
        });
        ensureAhead();
    }

    /**
     * Drops every partition whose runs are all past their retention (succeeded before {@code succeededBefore}, others
     * before {@code failedBefore}, none open, no job). Stops at the first partition with a succeeded run that ended
     * after {@code succeededBefore} (the later ones are newer still), so a pass reads few partitions.
     */
    public Dropped dropDue(Instant succeededBefore, Instant failedBefore) {
        long started = System.nanoTime();
        finishInterruptedDrops();
        // Every id below next was handed out before now; once no transaction that began before now is still running,
        // every run below next is committed (or never will be), so a partition below it cannot look emptier, or
        // older, than it is (a bulk insert still running once made one look empty).
        var seen = jdbc.sql("SELECT now() AS at")
                .query((rs, n) -> rs.getTimestamp("at"))
                .single();
        long next = nextRunId();
        if (!olderTransactionsEnded(seen)) {
            log.info("Retention waits for transactions older than its pass to end; trying next pass");
            return new Dropped(0, 0);
        }
        int partitions = 0;
        long runs = 0;
        for (Partition p : partitions()) {
            if (p.to() > next) {
                break; // still being filled
            }
            Result result = dropIfDue(p, succeededBefore, failedBefore);
            if (result instanceof Result.Kept kept && kept.newer()) {
                break;
            }
            if (result instanceof Result.Gone gone) {
                partitions++;
                runs += gone.runs();
            }
        }
        if (partitions > 0) {
            log.info(
                    "Retention dropped {} history partition(s), {} runs, in {} ms",
                    partitions,
                    runs,
                    (System.nanoTime() - started) / 1_000_000);
        }
        return new Dropped(partitions, runs);
    }

    /** A partition kept ({@code NEWER}: and the later ones are newer still, so the pass stops) or dropped. */
    private sealed interface Result {
        Result NEWER = new Kept(true);
        Result KEPT = new Kept(false);

        record Kept(boolean newer) implements Result {}

        record Gone(long runs) implements Result {}
    }

    private Result dropIfDue(Partition p, Instant succeededBefore, Instant failedBefore) {
        Result checked = transactions.execute(status -> {
            // Two index probes first, so that a pass over partitions that are not due reads little: a job left
            // (jobs_run_idx), and the partition's last run (its newest), which ended within the shorter retention, or
            // not at all, when the partition is surely not due. Only then the partition is read whole.
            boolean jobs = jdbc.sql("SELECT EXISTS (SELECT 1 FROM jobs WHERE " + p.range("run_id") + ")")
                    .query(Boolean.class)
                    .single();
            if (jobs) {
                return Result.KEPT;
            }
            Instant recent = succeededBefore.isAfter(failedBefore) ? succeededBefore : failedBefore;
            List<Timestamp> last = jdbc.sql("SELECT ended_at FROM workflow_runs WHERE" + " " + p.range("id")
                            + " ORDER BY id DESC LIMIT 1")
                    .query(Timestamp.class)
                    .list();
            if (!last.isEmpty() && last.getFirst() == null) {
                return Result.KEPT;
            }
            if (!last.isEmpty() && !last.getFirst().toInstant().isBefore(recent)) {
                return Result.NEWER;
            }
            var state = jdbc.sql("""
                    SELECT count(*) AS runs,
                           count(*) FILTER (WHERE ended_at IS NULL) AS open,
                           max(ended_at) FILTER (WHERE status = 'succeeded') AS newest_succeeded,
                           max(ended_at) FILTER (WHERE status <> 'succeeded') AS newest_other
                      FROM workflow_runs WHERE""" + " " + p.range("id"))
                    .query((rs, n) -> new Object[] {
                        rs.getLong("runs"),
                        rs.getLong("open"),
                        rs.getTimestamp("newest_succeeded"),
                        rs.getTimestamp("newest_other")
                    })
                    .single();
            Timestamp newestSucceeded = (Timestamp) state[2];
            Timestamp newestOther = (Timestamp) state[3];
            if (newestSucceeded != null && !newestSucceeded.toInstant().isBefore(succeededBefore)) {
                return Result.NEWER;
            }
            if ((Long) state[1] > 0
                    || (newestOther != null && !newestOther.toInstant().isBefore(failedBefore))) {
                return Result.KEPT;
            }
            return new Result.Gone((Long) state[0]);
        });
        if (!(checked instanceof Result.Gone)) {
            return checked;
        }
        return drop(p) ? checked : Result.KEPT;
    }

    /** Drops partition {@code p}'s three tables (see the class comment); false when a job or open run appeared. */
    private boolean drop(Partition p) {
        Boolean clear = transactions.execute(status -> {
            lock();
            boolean busy = jdbc.sql("SELECT EXISTS (SELECT 1 FROM jobs WHERE " + p.range("run_id") + ")"
                            + " OR EXISTS (SELECT 1 FROM workflow_runs WHERE " + p.range("id")
                            + " AND status IN ('pending', 'running', 'retrying'))")
                    .query(Boolean.class)
                    .single();
            if (busy) {
                return false;
            }
            jdbc.sql("DELETE FROM failure_alerts WHERE " + p.range("run_id")).update();
            jdbc.sql("DELETE FROM sub_runs WHERE " + p.range("parent_run_id")).update();
            return true;
        });
        if (!Boolean.TRUE.equals(clear)) {
            return false;
        }
        for (String table : List.of("attempts", "run_steps")) {
            String name = table + "_" + p.suffix();
            ddl(() -> jdbc.sql("DROP TABLE IF EXISTS " + name).update());
        }
        try {
            detach("workflow_runs_" + p.suffix());
        } catch (DataAccessException e) {
            if (e.getMostSpecificCause() instanceof SQLException sql && "23503".equals(sql.getSQLState())) {
                log.warn(
                        "History partition {} got a job while it was dropped (a run retried past its retention):"
                                + " its runs stay, their attempts and steps are gone",
                        p.suffix());
                return false;
            }
            throw e;
        }
        dropDetached("workflow_runs_" + p.suffix());
        return true;
    }

    /** Waits up to 10 s until no client transaction that began before {@code at} is running; false if one still is. */
    private boolean olderTransactionsEnded(Timestamp at) {
        for (int i = 0; i < 100; i++) {
            boolean older = jdbc.sql("""
                    SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                                    WHERE datname = current_database() AND backend_type = 'client backend'
                                      AND pid <> pg_backend_pid() AND xact_start < :at)
                    """).param("at", at).query(Boolean.class).single();
            if (!older) {
                return true;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    /**
     * {@code ALTER TABLE workflow_runs DETACH PARTITION name CONCURRENTLY}, outside any transaction as PostgreSQL
     * requires. Its first step takes no lock that stops deliveries and waits for the transactions that may still read
     * the partition; its last takes the partition exclusively, which every statement with a generic plan over {@code
     * workflow_runs} also locks (PostgreSQL locks all partitions of such a plan), and checks the tables whose foreign
     * keys point at it. Each lock waits at most 300 ms (50 ms failed 20 times in a row at 500 webhooks/s in
     * bench/history), tried up to 30 times; when the last step times out the detach stays pending and is finalized in
     * a short transaction instead.
     */
    private void detach(String name) {
        for (int attempt = 1; ; attempt++) {
            try {
                template.execute((ConnectionCallback<Void>) connection -> {
                    try (Statement statement = connection.createStatement()) {
                        statement.execute("SET lock_timeout = '300ms'");
                        statement.execute("SET statement_timeout = '60s'");
                        try {
                            statement.execute("ALTER TABLE workflow_runs DETACH PARTITION " + name + " CONCURRENTLY");
                        } finally {
                            statement.execute("RESET lock_timeout");
                            statement.execute("RESET statement_timeout");
                        }
                    }
                    return null;
                });
                return;
            } catch (DataAccessException e) {
                if (!lockTimedOut(e)) {
                    throw e;
                }
                if (pendingDetach(name)) {
                    finalizeDetach(name);
                    return;
                }
                if (attempt == 30) {
                    throw e;
                }
                pauseBeforeRetry(e);
            }
        }
    }

    private boolean pendingDetach(String name) {
        return jdbc.sql("""
                SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                                WHERE i.inhparent = 'workflow_runs'::regclass AND c.relname = :name AND i.inhdetachpending)
                """).param("name", name).query(Boolean.class).single();
    }

    private void finalizeDetach(String name) {
        ddl(() -> jdbc.sql("ALTER TABLE workflow_runs DETACH PARTITION " + name + " FINALIZE")
                .update());
    }

    /** Drops a detached {@code workflow_runs} partition: first its foreign key to {@code workflows}, then the table. */
    private void dropDetached(String name) {
        ddl(() -> jdbc.sql(
                        "ALTER TABLE IF EXISTS " + name + " DROP CONSTRAINT IF EXISTS workflow_runs_workflow_id_fkey")
                .update());
        ddl(() -> jdbc.sql("DROP TABLE IF EXISTS " + name).update());
    }

    /**
     * Finishes drops a stopped node left half-way: a detach still pending is finalized, and a {@code workflow_runs}
     * partition already detached (a table of that name that is no partition) is dropped.
     */
    private void finishInterruptedDrops() {
        for (String pending : jdbc.sql("""
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'workflow_runs'::regclass AND i.inhdetachpending
                """).query(String.class).list()) {
            finalizeDetach(pending);
        }
        for (String detached : jdbc.sql("""
                SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = current_schema() AND c.relkind = 'r' AND NOT c.relispartition
                   AND c.relname ~ '^workflow_runs_(p[0-9]+|legacy)$'
                """).query(String.class).list()) {
            dropDetached(detached);
        }
    }

    /**
     * Runs {@code statement} in a transaction of its own under the advisory lock, waiting at most 50 ms for each lock
     * and 500 ms in all, and tries again after a pause of 20 to 200 ms while those time out (up to 100 times). A
     * statement that queues behind it therefore waits less than deadlock_timeout (1 s) and never runs the deadlock check:
     * if the two deadlock, this DDL is the one that gives up. Every try delays the deliveries queued behind it by up to
     * its wait: 900 ms tries, back to back under load, queued deliveries for 23 s in bench/history; 50 ms ones cost
     * little but may not get their locks while the database is saturated (the drop then waits for a later pass).
     */
    private <T> T ddl(Supplier<T> statement) {
        for (int attempt = 1; ; attempt++) {
            try {
                return transactions.execute(status -> {
                    lock();
                    jdbc.sql("SET LOCAL lock_timeout = '50ms'").update();
                    jdbc.sql("SET LOCAL statement_timeout = '500ms'").update();
                    return statement.get();
                });
            } catch (DataAccessException e) {
                if (!lockTimedOut(e) || attempt == 100) {
                    throw e;
                }
                pauseBeforeRetry(e);
            }
        }
    }

    /** A random 20 to 200 ms before trying DDL again, so that nodes and deliveries interleave; {@code e} if interrupted. */
    private static void pauseBeforeRetry(DataAccessException e) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(20, 200));
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw e;
        }
    }

    private static boolean lockTimedOut(DataAccessException e) {
        return e.getMostSpecificCause() instanceof SQLException sql
                && ("55P03".equals(sql.getSQLState()) // lock_timeout
                        || "57014".equals(sql.getSQLState()) // statement_timeout
                        || "40P01".equals(sql.getSQLState())); // chosen as a deadlock's victim: the DDL, as it should
    }

    /**
     * The slots of schedules' runs older than {@code before} and the causes of run_failed runs whose failed run is
     * gone: the two small tables that keep "at most once" for runs (V33), pruned with the history they guard.
     */
    public int pruneKeys(Instant before) {
        int slots = jdbc.sql("DELETE FROM schedule_slots WHERE scheduled_for < :before")
                .param("before", Timestamp.from(before))
                .update();
        List<Partition> all = partitions();
        if (all.isEmpty() || all.getFirst().from() == null) {
            return slots;
        }
        return slots
                + jdbc.sql("DELETE FROM run_failed_causes WHERE caused_by_run_id < :lowest")
                        .param("lowest", all.getFirst().from())
                        .update();
    }

    private void lock() {
        jdbc.sql("SELECT pg_advisory_xact_lock(:key)")
                .param("key", LOCK)
                .query()
                .singleRow();
    }

    @Override
    protected Duration runOnce() {
        ensureAhead();
        return Duration.ofSeconds(10);
    }
}
