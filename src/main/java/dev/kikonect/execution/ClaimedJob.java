package dev.kikonect.execution;

import java.util.UUID;

/** A job this node holds a lease on, with everything needed to deliver it. */
record ClaimedJob(
    long jobId, long runId, long workflowId, int attempt, UUID leaseToken, String actionUrl, String payload, String webhookId) {}
