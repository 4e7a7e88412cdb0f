package dev.kikonect.execution;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.BackgroundLoop;
import dev.kikonect.common.PublicUrls;
import dev.kikonect.lifecycle.AlertQueue;
import dev.kikonect.lifecycle.Attempt;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Starts the error workflows of a failed run ({@link ErrorWorkflows}) and sends the failure alert of a workflow with
 * {@code on_failure_url}: when a run ends failed, the completion that
 * says so also queues an alert (in the same statement, so it is never lost; one per run, ever), and this loop POSTs
 * a signed summary there, retrying a few times (1, 5, 30 min) if the alert receiver is down. Browsers subscribed to
 * the workflow's failures are pushed a notification the first time the alert is handled.
 */
@Component
class FailureAlerts extends BackgroundLoop {

    private static final Logger log = LoggerFactory.getLogger(FailureAlerts.class);
    private static final List<Duration> RETRIES =
            List.of(Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(30));

    private final AlertQueue alerts;
    private final Delivery delivery;
    private final Clock clock;
    private final JsonMapper json;
    private final PublicUrls urls;
    private final PushSender pushes;
    private final ErrorWorkflows errorWorkflows;

    FailureAlerts(
            AlertQueue alerts,
            Delivery delivery,
            Clock clock,
            JsonMapper json,
            PublicUrls urls,
            PushSender pushes,
            ErrorWorkflows errorWorkflows,
            KiKonectProperties properties) {
        super(
                "kikonect-alerts",
                properties.hasRole("executor") && properties.executor().enabled());
        this.alerts = alerts;
        this.delivery = delivery;
        this.clock = clock;
        this.json = json;
        this.urls = urls;
        this.pushes = pushes;
        this.errorWorkflows = errorWorkflows;
    }

    /** Sends the alerts that are due; returns how many were tried. */
    int sendDue() {
        Instant now = clock.instant();
        // Claim: push next_at a minute ahead, so that another node does not send the same alert meanwhile.
        List<AlertQueue.Due> due = alerts.claimDue(now);
        for (AlertQueue.Due alert : due) {
            send(alert);
        }
        return due.size();
    }

    private void send(AlertQueue.Due alert) {
        try {
            errorWorkflows.start(alert.runId());
        } catch (RuntimeException e) {
            // Tried again when the claim's minute is over (with the alert, which waits for it), a few times.
            if (alert.alertAttempts() <= RETRIES.size()) {
                log.warn("Starting the error workflows of run {} failed; trying again in a minute", alert.runId(), e);
                return;
            }
            log.error("Starting the error workflows of run {} failed for good", alert.runId(), e);
        }
        if (alert.url() != null) {
            sendAlert(alert);
        }
        if (alert.alertAttempts() == 1) {
            // Browser notifications: best effort, once, when the alert is first handled (see PushSender).
            try {
                pushes.runFailed(alert);
            } catch (RuntimeException e) {
                log.warn("Push notifications for run {} failed", alert.runId(), e);
            }
        }
        if (alert.url() == null) {
            Instant now = clock.instant();
            alerts.record(alert.runId(), AlertQueue.Outcome.SENT, now, null, now);
        }
    }

    private void sendAlert(AlertQueue.Due alert) {
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
        Attempt attempt = delivery.send(
                alert.url(),
                "alert_" + alert.runId(),
                alert.secret(),
                null,
                json.writeValueAsBytes(summary),
                alert.alertAttempts());
        Instant now = clock.instant();
        AlertQueue.Outcome outcome = attempt.succeeded()
                ? AlertQueue.Outcome.SENT
                : alert.alertAttempts() > RETRIES.size() || !attempt.retryable()
                        ? AlertQueue.Outcome.FAILED
                        : AlertQueue.Outcome.RETRY;
        Instant next = outcome == AlertQueue.Outcome.RETRY ? now.plus(RETRIES.get(alert.alertAttempts() - 1)) : now;
        alerts.record(alert.runId(), outcome, next, attempt.error(), now);
        if (!attempt.succeeded()) {
            log.warn(
                    "Failure alert for run {} to workflow {}'s on_failure_url failed: {}",
                    alert.runId(),
                    alert.workflowId(),
                    attempt.error());
        }
    }

    @Override
    protected Duration runOnce() {
        return sendDue() == 0 ? Duration.ofMillis(500) : Duration.ZERO;
    }
}
