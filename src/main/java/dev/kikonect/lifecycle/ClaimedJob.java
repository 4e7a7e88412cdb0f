package dev.kikonect.lifecycle;

import java.util.UUID;

/**
 * A job this node holds a lease on, with everything needed to deliver it. {@code previousSecret} is set while a
 * rotated-out signing secret still signs (24 hours after rotation). {@code payload} is null once the executor has
 * turned it into the bytes it sends ({@link #withoutPayload}), so that a delivery holds its payload once.
 */
public record ClaimedJob(
    long jobId,
    long runId,
    long workflowId,
    int attempt,
    int maxAttempts,
    UUID leaseToken,
    String actionUrl,
    String payload,
    String webhookId,
    String signingSecret,
    String previousSecret,
    String trigger,
    java.time.Instant runCreatedAt,
    long userId) {

  /** This job without its payload. */
  public ClaimedJob withoutPayload() {
    return new ClaimedJob(
        jobId, runId, workflowId, attempt, maxAttempts, leaseToken, actionUrl, null, webhookId, signingSecret, previousSecret,
        trigger, runCreatedAt, userId);
  }
}
