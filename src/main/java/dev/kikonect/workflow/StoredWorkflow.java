package dev.kikonect.workflow;

import java.time.Instant;

/** A workflow row as the other features need it (trigger, scheduling); owner included. */
public record StoredWorkflow(
        long id,
        long workspaceId,
        String name,
        TriggerType triggerType,
        String actionUrl,
        String steps,
        boolean keepsRequest,
        String triggerConfig,
        boolean enabled,
        Integer maxAttempts,
        String misfire,
        String overlap,
        String onFailureUrl,
        String filter,
        String output,
        Instant nextRunAt,
        Instant lastFiredAt,
        String lastRunStatus,
        Instant lastRunAt,
        Instant createdAt,
        Instant updatedAt) {}
