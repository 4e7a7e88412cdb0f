package dev.kikonect.lifecycle;

import java.time.Instant;
import java.util.List;

/**
 * One step of a run as {@code GET /runs/{id}} shows it: its status (waiting, pending, running, retrying, succeeded,
 * failed, skipped, cancelled), what it needs, its own webhook-id, its attempts, timing, error and next attempt.
 */
public record StepView(
        String key,
        String status,
        List<String> needs,
        String webhookId,
        int attemptCount,
        String error,
        Instant nextAttemptAt,
        Instant startedAt,
        Instant endedAt,
        /** The run this step started when it runs a workflow (its current one), else null. */
        Long childRunId,
        /** A wait that reached its timeout and went on (on_timeout continue): the step succeeded with no response. */
        boolean timedOut,
        List<AttemptView> attempts) {}
