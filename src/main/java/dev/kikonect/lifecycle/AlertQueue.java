package dev.kikonect.lifecycle;

import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The failure alerts of runs that ended failed. The completion that fails a run queues its alert (in
 * {@link Completions#completeAll}, so it is never lost) when its workflow has an {@code on_failure_url} or a browser
 * subscribed to its failures (Web Push; then {@link Due#url()} may be null); these statements hand due alerts to a
 * sender and record what came of them. Owns {@code failure_alerts}.
 */
@Repository
public class AlertQueue {

    /** An alert to send now, with what the summary needs. */
    public record Due(
            long runId,
            long workflowId,
            String workflowName,
            String url,
            String status,
            String trigger,
            String error,
            int attemptCount,
            Instant createdAt,
            Instant endedAt,
            int alertAttempts,
            String secret) {}

    /** Where an alert goes after one try. */
    public enum Outcome {
        SENT,
        RETRY,
        FAILED
    }

    private final JdbcClient jdbc;

    AlertQueue(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * Claims up to 50 due alerts: pushes their next_at a minute ahead (a lease), so that another node does not send the
     * same alert meanwhile.
     */
    public List<Due> claimDue(Instant now) {
        return jdbc.sql("""
                WITH due AS (
                  SELECT run_id FROM failure_alerts WHERE status = 'pending' AND next_at <= :now
                   ORDER BY next_at LIMIT 50 FOR UPDATE SKIP LOCKED
                ), claimed AS (
                  UPDATE failure_alerts a SET attempts = a.attempts + 1, next_at = :lease
                    FROM due WHERE a.run_id = due.run_id
                  RETURNING a.run_id, a.attempts
                )
                SELECT r.id, r.workflow_id, w.name, w.on_failure_url, r.status, r.trigger, r.error, r.attempts AS attempt_count,
                       r.created_at, r.ended_at, claimed.attempts AS alert_attempts, w.signing_secret
                  FROM claimed JOIN workflow_runs r ON r.id = claimed.run_id JOIN workflows w ON w.id = r.workflow_id
                """)
                .param("now", Timestamp.from(now))
                .param("lease", Timestamp.from(now.plus(Duration.ofMinutes(1))))
                .query((rs, n) -> new Due(
                        rs.getLong("id"),
                        rs.getLong("workflow_id"),
                        rs.getString("name"),
                        rs.getString("on_failure_url"),
                        rs.getString("status"),
                        rs.getString("trigger"),
                        rs.getString("error"),
                        rs.getInt("attempt_count"),
                        rs.getTimestamp("created_at").toInstant(),
                        rs.getTimestamp("ended_at") == null
                                ? null
                                : rs.getTimestamp("ended_at").toInstant(),
                        rs.getInt("alert_attempts"),
                        rs.getString("signing_secret")))
                .list();
    }

    /** Records one try: sent, failed for good, or to be retried at {@code next}. */
    public void record(long runId, Outcome outcome, Instant next, String error, Instant now) {
        String status = outcome == Outcome.RETRY ? "pending" : outcome.name().toLowerCase(Locale.ROOT);
        jdbc.sql("""
            UPDATE failure_alerts SET status = :status, next_at = :next, last_error = :error,
                   sent_at = CASE WHEN :status = 'sent' THEN CAST(:now AS timestamptz) END
             WHERE run_id = :run
            """)
                .param("status", status)
                .param("next", Timestamp.from(next))
                .param("error", error, Types.VARCHAR)
                .param("now", Timestamp.from(now))
                .param("run", runId)
                .update();
    }
}
