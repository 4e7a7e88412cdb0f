package dev.kikonect.run;

import dev.kikonect.lifecycle.RunStatus;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.postgresql.util.PGInterval;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * What the dashboard and the workflow list show, counted by the database over every run of the window (never from a
 * page of runs): runs per hour by outcome, totals per status, success rate, latency, and the same per workflow. Read
 * in one repeatable-read transaction, so the figures agree with each other.
 */
@Repository
class RunStats {

    /** How far back the figures go. */
    static final Duration WINDOW = Duration.ofHours(24);

    /** One hour of the window; {@code other} counts every status but succeeded and failed. */
    record Hour(Instant hour, long succeeded, long failed, long other) {}

    /** One workflow's runs in the window; {@code successRate} is succeeded / (succeeded + failed), null if neither. */
    record PerWorkflow(
            long workflowId, long runs, long succeeded, long failed, Double successRate, Instant lastRunAt) {}

    /** Delivery latency of the window's succeeded runs, from created to ended; null when there are none. */
    record Latency(Long p50Ms, Long p95Ms, Long maxMs) {}

    record Stats(
            Instant since,
            Instant until,
            long runs,
            Map<String, Long> byStatus,
            Double successRate,
            Latency latency,
            List<Hour> hourly,
            List<PerWorkflow> workflows) {}

    private final JdbcClient jdbc;
    private final TransactionTemplate readOnly;

    RunStats(JdbcClient jdbc, TransactionTemplate transactions) {
        this.jdbc = jdbc;
        this.readOnly = new TransactionTemplate(transactions.getTransactionManager());
        readOnly.setReadOnly(true);
        // Repeatable read is asked for by the transaction's first statement, not by the template's isolation level:
        // that one makes the driver send SET SESSION CHARACTERISTICS before BEGIN (and again after), session state
        // that pgbouncer in transaction mode would leave on whichever server connection it ran (issue 26).
    }

    /**
     * The figures of the current hour and the 23 before it (24 hourly buckets, the last one partial), so that the
     * buckets add up to the totals exactly.
     */
    Stats of(long workspaceId, Instant now) {
        Instant since = now.truncatedTo(ChronoUnit.HOURS).minus(WINDOW).plus(Duration.ofHours(1));
        return readOnly.execute(status -> {
            jdbc.sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").update();
            return read(workspaceId, since, now, since);
        });
    }

    private Stats read(long workspaceId, Instant since, Instant until, Instant firstHour) {
        Map<String, Object> params = Map.of(
                "workspace",
                workspaceId,
                "since",
                Timestamp.from(since),
                "until",
                Timestamp.from(until),
                "first_hour",
                Timestamp.from(firstHour),
                "succeeded",
                RunStatus.SUCCEEDED.wire(),
                "failed",
                RunStatus.FAILED.wire());
        Map<String, Long> byStatus = new LinkedHashMap<>();
        for (RunStatus s : RunStatus.values()) {
            byStatus.put(s.wire(), 0L);
        }
        jdbc.sql("""
            SELECT status, count(*) AS runs FROM workflow_runs
             WHERE workspace_id = :workspace AND created_at >= :since AND created_at <= :until
             GROUP BY status
            """)
                .params(params)
                .query((rs, n) -> byStatus.put(rs.getString("status"), rs.getLong("runs")))
                .list();
        long runs = byStatus.values().stream().mapToLong(Long::longValue).sum();
        long succeeded = byStatus.get(RunStatus.SUCCEEDED.wire());
        long failed = byStatus.get(RunStatus.FAILED.wire());

        Latency latency = jdbc.sql("""
                SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY ended_at - created_at) AS p50,
                       percentile_disc(0.95) WITHIN GROUP (ORDER BY ended_at - created_at) AS p95,
                       max(ended_at - created_at) AS max
                  FROM workflow_runs
                 WHERE workspace_id = :workspace AND created_at >= :since AND created_at <= :until AND status = :succeeded
                """)
                .params(params)
                .query((rs, n) -> new Latency(
                        millis(rs.getObject("p50")), millis(rs.getObject("p95")), millis(rs.getObject("max"))))
                .single();

        List<Hour> hourly = jdbc.sql("""
                SELECT h.hour,
                       count(r.status) FILTER (WHERE r.status = :succeeded) AS succeeded,
                       count(r.status) FILTER (WHERE r.status = :failed) AS failed,
                       count(r.status) FILTER (WHERE r.status NOT IN (:succeeded, :failed)) AS other
                  FROM generate_series(CAST(:first_hour AS timestamptz), CAST(:first_hour AS timestamptz) + interval '23 hours',
                                       interval '1 hour') AS h(hour)
                  LEFT JOIN workflow_runs r
                    ON r.workspace_id = :workspace AND r.created_at >= :since AND r.created_at <= :until
                   AND r.created_at >= h.hour AND r.created_at < h.hour + interval '1 hour'
                 GROUP BY h.hour ORDER BY h.hour
                """)
                .params(params)
                .query((rs, n) -> new Hour(
                        rs.getTimestamp("hour").toInstant(),
                        rs.getLong("succeeded"),
                        rs.getLong("failed"),
                        rs.getLong("other")))
                .list();

        List<PerWorkflow> workflows = jdbc.sql("""
                SELECT workflow_id, count(*) AS runs,
                       count(*) FILTER (WHERE status = :succeeded) AS succeeded,
                       count(*) FILTER (WHERE status = :failed) AS failed,
                       max(created_at) AS last_run_at
                  FROM workflow_runs
                 WHERE workspace_id = :workspace AND created_at >= :since AND created_at <= :until
                 GROUP BY workflow_id ORDER BY workflow_id
                """)
                .params(params)
                .query((rs, n) -> new PerWorkflow(
                        rs.getLong("workflow_id"),
                        rs.getLong("runs"),
                        rs.getLong("succeeded"),
                        rs.getLong("failed"),
                        rate(rs.getLong("succeeded"), rs.getLong("failed")),
                        rs.getTimestamp("last_run_at").toInstant()))
                .list();

        return new Stats(since, until, runs, byStatus, rate(succeeded, failed), latency, hourly, workflows);
    }

    private static Double rate(long succeeded, long failed) {
        return succeeded + failed == 0 ? null : (double) succeeded / (succeeded + failed);
    }

    private static Long millis(Object interval) {
        if (interval == null) {
            return null;
        }
        PGInterval i = (PGInterval) interval;
        double seconds = ((i.getDays() * 24.0 + i.getHours()) * 60 + i.getMinutes()) * 60 + i.getSeconds();
        return Math.round(seconds * 1000);
    }
}
