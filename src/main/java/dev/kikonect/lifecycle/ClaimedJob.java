package dev.kikonect.lifecycle;

import java.time.Instant;
import java.util.UUID;

/**
 * A job this node holds a lease on, with everything needed to deliver it. {@code previousSecret} is set while a
 * rotated-out signing secret still signs (24 hours after rotation). {@code payload} is null once the executor has
 * turned it into the bytes it sends ({@link #withoutPayload}), so that a delivery holds its payload once.
 *
 * <p>{@code step} is the key of the step this job delivers, or null for an untracked run (its workflow's one step,
 * whose state is the run's own). {@code actionUrl} is set for a workflow that is the one-step shorthand (POST the
 * payload byte for byte there): then {@code steps} is null; otherwise {@code steps} is the workflow's step list as JSON. {@code attempt} counts this job's
 * claims; the attempt's number is {@link #number()}: a retry from the failure gives a step a fresh budget, and its
 * numbers go on from {@code attemptOffset}. {@code webhookId} is the step's own (a tracked run's steps each have one).
 * {@code runCancelled}: the run was cancelled while this job was being claimed; it is not to be sent. {@code readBytes}:
 * the saved responses of its run's steps, which its expressions may read (see {@link JobCost}). {@code waitedUntil}: its
 * step's wait ({@code wait}) ended then (null: it has not waited yet).
 */
public record ClaimedJob(
        long jobId,
        long runId,
        long workflowId,
        int attempt,
        int attemptOffset,
        int maxAttempts,
        UUID leaseToken,
        String step,
        String actionUrl,
        String steps,
        String payload,
        String webhookId,
        String signingSecret,
        String previousSecret,
        String trigger,
        Instant runCreatedAt,
        Instant scheduledFor,
        String request,
        String workflowName,
        long workspaceId,
        boolean runCancelled,
        long readBytes,
        Instant waitedUntil,
        /** The step whose answer the webhook's caller may be waiting for ({@code respond.mode = step}), else null. */
        String answerStep) {

    /** This attempt's number in the step's attempt log. */
    public int number() {
        return attemptOffset + attempt;
    }

    /** Whether the run keeps per-step state (more than one step, or a step with a when). */
    public boolean tracked() {
        return step != null;
    }

    /** This job without its payload. */
    public ClaimedJob withoutPayload() {
        return new ClaimedJob(
                jobId,
                runId,
                workflowId,
                attempt,
                attemptOffset,
                maxAttempts,
                leaseToken,
                step,
                actionUrl,
                steps,
                null,
                webhookId,
                signingSecret,
                previousSecret,
                trigger,
                runCreatedAt,
                scheduledFor,
                request,
                workflowName,
                workspaceId,
                runCancelled,
                readBytes,
                waitedUntil,
                answerStep);
    }
}
