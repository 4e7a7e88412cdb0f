package dev.kikonect.notify;

import com.interaso.webpush.WebPush;
import dev.kikonect.auth.Role;
import dev.kikonect.common.Printable;
import dev.kikonect.common.PublicUrls;
import dev.kikonect.execution.PushNotifications;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Builds the "run failed" notification for each browser subscribed to the workflow: a small JSON message (title,
 * body, the run's link) encrypted for that browser (RFC 8291, aes128gcm) with a VAPID header (RFC 8292) signed with
 * the installation's key, kept 24 h by the push service, urgency high. A push service answering 404 or 410 means the
 * browser is gone: its subscription is forgotten.
 */
@Component
class WebPushMessages implements PushNotifications {

    private static final Logger log = LoggerFactory.getLogger(WebPushMessages.class);
    /** How long a push service keeps an undelivered notification (a failure a day old is still worth seeing). */
    static final int TTL_SECONDS = 24 * 3600;

    private final PushSubscriptions subscriptions;
    private final VapidKeyPair keys;
    private final JsonMapper json;
    private final PublicUrls urls;
    private final Clock clock;
    private final String subject;

    WebPushMessages(
            PushSubscriptions subscriptions,
            VapidKeyPair keys,
            JsonMapper json,
            PublicUrls urls,
            Clock clock,
            @Value("${kikonect.push.subject:}") String subject) {
        this.subscriptions = subscriptions;
        this.keys = keys;
        this.json = json;
        this.urls = urls;
        this.clock = clock;
        this.subject = subject;
    }

    /** RFC 8292's contact: kikonect.push.subject, else the public base URL when it is https, else a mailto. */
    String subject() {
        if (!subject.isBlank()) {
            return subject;
        }
        return urls.base().startsWith("https://") ? urls.base() : "mailto:kikonect@localhost";
    }

    @Override
    public List<Push> forFailedRun(FailedRun run) {
        List<PushSubscriptions.Target> targets = subscriptions.forWorkflow(run.workflowId());
        if (targets.isEmpty()) {
            return List.of();
        }
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("title", "Run failed: " + Printable.of(run.workflowName(), 80));
        message.put("body", run.error() == null ? "Run " + run.runId() + " failed" : Printable.of(run.error(), 200));
        message.put("url", urls.base() + "/app/#/runs/" + run.runId()); // the web app's run inspector
        message.put("run_id", run.runId());
        message.put("workflow_id", run.workflowId());
        return encrypt(json.writeValueAsBytes(message), targets);
    }

    /** {@code plain} encrypted for each of {@code targets}, with its VAPID header; a browser whose keys fail is noted. */
    private List<Push> encrypt(byte[] plain, List<PushSubscriptions.Target> targets) {
        WebPush push = new WebPush(subject(), keys.keys());
        List<Push> out = new ArrayList<>(targets.size());
        for (PushSubscriptions.Target target : targets) {
            try {
                byte[] body = push.getBody(
                        plain,
                        Base64.getUrlDecoder().decode(target.p256dh()),
                        Base64.getUrlDecoder().decode(target.auth()));
                Map<String, String> headers =
                        push.getHeaders(target.endpoint(), TTL_SECONDS, null, WebPush.Urgency.High);
                out.add(new Push(target.id(), target.endpoint(), new ArrayList<>(headers.entrySet()), body));
            } catch (RuntimeException e) {
                // keys that passed validation but are not a point on the curve, say: that browser cannot be told
                log.info(
                        "Push subscription {} cannot be sent to: {}",
                        target.id(),
                        e.getClass().getSimpleName());
                subscriptions.recordSent(
                        target.id(),
                        "could not encrypt for this browser: " + e.getClass().getSimpleName(),
                        clock.instant());
            }
        }
        return out;
    }

    @Override
    public List<Push> forApproval(ApprovalWaiting approval) {
        List<PushSubscriptions.Target> targets = subscriptions.approvers(approval.workspaceId()).stream()
                .filter(a -> Role.parse(a.role())
                        .map(role -> approval.roles().stream()
                                .map(Role::parse)
                                .flatMap(Optional::stream)
                                .anyMatch(role::atLeast))
                        .orElse(false))
                .map(PushSubscriptions.Approver::target)
                .toList();
        if (targets.isEmpty()) {
            return List.of();
        }
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("title", "Approval needed: " + Printable.of(approval.workflowName(), 80));
        message.put(
                "body",
                approval.message() == null || approval.message().isBlank()
                        ? "Step " + approval.step() + " of run " + approval.runId() + " waits for your decision"
                        : Printable.of(approval.message(), 200));
        message.put("url", urls.base() + "/app/#/approvals"); // the web app's Approvals page
        message.put("run_id", approval.runId());
        message.put("step", approval.step());
        return encrypt(json.writeValueAsBytes(message), targets);
    }

    @Override
    public void outcome(Push push, Integer status, String error) {
        if (status != null && (status == 404 || status == 410)) {
            subscriptions.forget(push.subscriptionId()); // the browser unsubscribed or the subscription expired
            return;
        }
        boolean ok = status != null && status >= 200 && status < 300;
        subscriptions.recordSent(
                push.subscriptionId(), ok ? null : status != null ? "HTTP " + status : error, clock.instant());
    }
}
