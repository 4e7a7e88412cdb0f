package dev.kikonect.lifecycle;

import java.util.UUID;

/**
 * A job this node holds a lease on, with everything needed to deliver it. {@code previousSecret} is set while a
 * rotated-out signing secret still signs (24 hours after rotation).
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
    java.time.Instant runCreatedAt) {}
