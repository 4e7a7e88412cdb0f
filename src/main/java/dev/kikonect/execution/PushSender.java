package dev.kikonect.execution;

import dev.kikonect.lifecycle.AlertQueue;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Sends the browser notifications of a failed run and of an approval that began to wait ({@link PushNotifications})
 * through the delivery client: SSRF guard, a connect and a whole-exchange deadline (5 s). Best effort, as push is: one
 * try per browser, when the run's failure alert is first handled, or when the approval's wait begins; a push service
 * that is down loses that notification, the run, its alert and the approval stay. Approval pushes leave the executor's
 * thread at once: two threads send them from a queue of at most 1,000 (beyond it they are dropped and counted in
 * {@code kikonect.push.dropped}).
 */
@Component
class PushSender implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PushSender.class);
    private static final Duration DEADLINE = Duration.ofSeconds(5);

    private final PushNotifications notifications;
    private final Delivery delivery;
    private final Counter dropped;
    private final ThreadPoolExecutor approvals;

    PushSender(PushNotifications notifications, Delivery delivery, MeterRegistry meters) {
        this.notifications = notifications;
        this.delivery = delivery;
        this.dropped = Counter.builder("kikonect.push.dropped")
                .description("Approval notifications not sent because the queue of pushes was full")
                .register(meters);
        this.approvals = new ThreadPoolExecutor(
                2,
                2,
                0,
                TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(1000),
                Thread.ofVirtual().name("kikonect-push-", 0).factory(),
                (task, pool) -> dropped.increment());
    }

    /** Pushes "approval needed" to the browsers of the members who may decide it, off this thread. */
    void approvalWaiting(PushNotifications.ApprovalWaiting approval) {
        approvals.execute(() -> {
            try {
                for (PushNotifications.Push push : notifications.forApproval(approval)) {
                    send(push, "approval of run " + approval.runId());
                }
            } catch (RuntimeException e) {
                log.warn("Push notifications for the approval of run {} failed", approval.runId(), e);
            }
        });
    }

    private boolean send(PushNotifications.Push push, String what) {
        Delivery.Plain answer = delivery.post(push.endpoint(), push.headers(), push.body(), DEADLINE);
        notifications.outcome(push, answer.status(), answer.error());
        if (answer.status() != null && answer.status() >= 200 && answer.status() < 300) {
            return true;
        }
        log.info(
                "Push notification for {} to subscription {} failed: {}",
                what,
                push.subscriptionId(),
                answer.status() != null ? "HTTP " + answer.status() : answer.error());
        return false;
    }

    @Override
    public void close() {
        approvals.shutdownNow();
    }

    /** Pushes "run failed" to every browser subscribed to the run's workflow; returns how many push services took it. */
    int runFailed(AlertQueue.Due alert) {
        List<PushNotifications.Push> pushes = notifications.forFailedRun(new PushNotifications.FailedRun(
                alert.runId(), alert.workflowId(), alert.workflowName(), alert.error()));
        int taken = 0;
        for (PushNotifications.Push push : pushes) {
            if (send(push, "run " + alert.runId())) {
                taken++;
            }
        }
        return taken;
    }
}
