package dev.kikonect.execution;

import dev.kikonect.lifecycle.AlertQueue;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Sends the browser notifications of a failed run ({@link PushNotifications}) through the delivery client: SSRF
 * guard, a connect and a whole-exchange deadline (5 s). Best effort, as push is: one try per browser, when the run's
 * failure alert is first handled; a push service that is down loses that notification, the run and its alert stay.
 */
@Component
class PushSender {

    private static final Logger log = LoggerFactory.getLogger(PushSender.class);
    private static final Duration DEADLINE = Duration.ofSeconds(5);

    private final PushNotifications notifications;
    private final Delivery delivery;

    PushSender(PushNotifications notifications, Delivery delivery) {
        this.notifications = notifications;
        this.delivery = delivery;
    }

    /** Pushes "run failed" to every browser subscribed to the run's workflow; returns how many push services took it. */
    int runFailed(AlertQueue.Due alert) {
        List<PushNotifications.Push> pushes = notifications.forFailedRun(new PushNotifications.FailedRun(
                alert.runId(), alert.workflowId(), alert.workflowName(), alert.error()));
        int taken = 0;
        for (PushNotifications.Push push : pushes) {
            Delivery.Plain answer = delivery.post(push.endpoint(), push.headers(), push.body(), DEADLINE);
            notifications.outcome(push, answer.status(), answer.error());
            if (answer.status() != null && answer.status() >= 200 && answer.status() < 300) {
                taken++;
            } else {
                log.info(
                        "Push notification for run {} to subscription {} failed: {}",
                        alert.runId(),
                        push.subscriptionId(),
                        answer.status() != null ? "HTTP " + answer.status() : answer.error());
            }
        }
        return taken;
    }
}
