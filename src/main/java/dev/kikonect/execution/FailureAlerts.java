package dev.kikonect.execution;

import dev.kikonect.KiKonectProperties;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.kikonect.common.BackgroundLoop;
import dev.kikonect.common.PublicUrls;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Sends the failure alert of a workflow with {@code on_failure_url}: when a run ends failed, the completion that
 * says so also queues an alert (in the same statement, so it is never lost; one per run, ever), and this loop POSTs
 * a signed summary there, retrying a few times (1, 5, 30 min) if the alert receiver is down.
 */
@Component
class FailureAlerts extends BackgroundLoop {

  private static final Logger log = LoggerFactory.getLogger(FailureAlerts.class);
  private static final List<Duration> RETRIES = List.of(Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(30));

  private record Due(long runId, long workflowId, String workflowName, String url, String status, String trigger, String error,
      int attemptCount, Instant createdAt, Instant endedAt, int alertAttempts, String secret) {}

  private final JdbcClient jdbc;
  private final Delivery delivery;
  private final Clock clock;
  private final JsonMapper json;
  private final PublicUrls urls;

  FailureAlerts(JdbcClient jdbc, Delivery delivery, Clock clock, JsonMapper json, PublicUrls urls, KiKonectProperties properties) {
    super("kikonect-alerts", properties.hasRole("executor") && properties.executor().enabled());
    this.jdbc = jdbc;
    this.delivery = delivery;
    this.clock = clock;
    this.json = json;
    this.urls = urls;
  }

  /** Sends the alerts that are due; returns how many were tried. */
  int sendDue() {
    Instant now = clock.instant();
    // Claim: push next_at a minute ahead, so that another node does not send the same alert meanwhile.
    List<Due> due =
        jdbc.sql(
                """
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
            .query(
                (rs, n) ->
                    new Due(
                        rs.getLong("id"), rs.getLong("workflow_id"), rs.getString("name"), rs.getString("on_failure_url"),
                        rs.getString("status"), rs.getString("trigger"), rs.getString("error"), rs.getInt("attempt_count"),
                        rs.getTimestamp("created_at").toInstant(),
                        rs.getTimestamp("ended_at") == null ? null : rs.getTimestamp("ended_at").toInstant(),
                        rs.getInt("alert_attempts"), rs.getString("signing_secret")))
            .list();
    for (Due alert : due) {
      send(alert);
    }
    return due.size();
  }

  private void send(Due alert) {
    Map<String, Object> run = new LinkedHashMap<>();
    run.put("id", alert.runId());
    run.put("status", alert.status());
    run.put("trigger", alert.trigger());
    run.put("error", alert.error());
    run.put("attempt_count", alert.attemptCount());
    run.put("created_at", alert.createdAt().toString());
    run.put("ended_at", alert.endedAt() == null ? null : alert.endedAt().toString());
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("type", "run.failed");
    summary.put("workflow", Map.of("id", alert.workflowId(), "name", alert.workflowName()));
    summary.put("run", run);
    summary.put("link", urls.base() + "/runs/" + alert.runId());
    Attempt attempt =
        delivery.send(alert.url(), "alert_" + alert.runId(), alert.secret(), null, json.writeValueAsString(summary), alert.alertAttempts());
    Instant now = clock.instant();
    String status = attempt.succeeded() ? "sent" : alert.alertAttempts() > RETRIES.size() || !attempt.retryable() ? "failed" : "pending";
    Instant next = status.equals("pending") ? now.plus(RETRIES.get(alert.alertAttempts() - 1)) : now;
    jdbc.sql(
            """
            UPDATE failure_alerts SET status = :status, next_at = :next, last_error = :error,
                   sent_at = CASE WHEN :status = 'sent' THEN CAST(:now AS timestamptz) END
             WHERE run_id = :run
            """)
        .param("status", status)
        .param("next", Timestamp.from(next))
        .param("error", attempt.error(), java.sql.Types.VARCHAR)
        .param("now", Timestamp.from(now))
        .param("run", alert.runId())
        .update();
    if (!attempt.succeeded()) {
      log.warn("Failure alert for run {} to workflow {}'s on_failure_url failed: {}", alert.runId(), alert.workflowId(), attempt.error());
    }
  }

  @Override
  protected Duration runOnce() {
    return sendDue() == 0 ? Duration.ofMillis(500) : Duration.ZERO;
  }
}
