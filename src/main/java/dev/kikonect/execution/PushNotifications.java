package dev.kikonect.execution;

import java.util.List;
import java.util.Map;

/**
 * The browser notifications a failed run causes (Web Push), built elsewhere (notify: subscriptions, keys, encryption)
 * and sent here, through the guarded delivery client, because a subscription's endpoint is a URL a user gave.
 */
public interface PushNotifications {

    /** A run that ended failed. */
    record FailedRun(long runId, long workflowId, String workflowName, String error) {}

    /** One encrypted, signed message for one browser's push service. */
    record Push(long subscriptionId, String endpoint, List<Map.Entry<String, String>> headers, byte[] body) {}

    /** The messages to send for {@code run}: one per browser subscribed to its workflow (none is the usual case). */
    List<Push> forFailedRun(FailedRun run);

    /** An approval that began to wait: who may decide it ({@code roles}) and what they are told. */
    record ApprovalWaiting(
            long workspaceId, long runId, String workflowName, String step, List<String> roles, String message) {}

    /** The messages to send for {@code approval}: one per browser of a member who may decide it that hears about them. */
    List<Push> forApproval(ApprovalWaiting approval);

    /** What came of one: the push service's status, or why there was none ({@code status} null). */
    void outcome(Push push, Integer status, String error);
}
