package dev.kikonect.workflow;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonRawValue;
import java.time.Instant;

/**
 * A workflow as the API shows it. {@code steps} is raw JSON (the shorthand {@code action_url} shows as one step
 * {@code deliver}). {@code triggerConfig} is raw JSON; {@code webhookUrl} is set for webhook
 * workflows only; {@code signingSecret} only in the answer that creates it (it is shown once).
 */
public record Workflow(
        long id,
        String name,
        String triggerType,
        String actionUrl,
        @JsonRawValue String steps,
        @JsonRawValue String triggerConfig,
        boolean enabled,
        Integer maxAttempts,
        String misfire,
        String overlap,
        String onFailureUrl,
        String filter,
        /** A JSONata expression: what a run of this workflow answers the step that ran it (sub-workflows). */
        String output,
        Instant nextRunAt,
        Instant lastFiredAt,
        String lastRunStatus,
        Instant lastRunAt,
        String webhookUrl,
        Instant createdAt,
        Instant updatedAt,
        @JsonInclude(JsonInclude.Include.NON_NULL) String signingSecret) {

    /** Without the webhook URL, with {@code config} (the trigger config without its token) instead. */
    Workflow forViewer(String config) {
        return new Workflow(
                id,
                name,
                triggerType,
                actionUrl,
                steps,
                config,
                enabled,
                maxAttempts,
                misfire,
                overlap,
                onFailureUrl,
                filter,
                output,
                nextRunAt,
                lastFiredAt,
                lastRunStatus,
                lastRunAt,
                null,
                createdAt,
                updatedAt,
                signingSecret);
    }

    Workflow withSigningSecret(String secret) {
        return new Workflow(
                id,
                name,
                triggerType,
                actionUrl,
                steps,
                triggerConfig,
                enabled,
                maxAttempts,
                misfire,
                overlap,
                onFailureUrl,
                filter,
                output,
                nextRunAt,
                lastFiredAt,
                lastRunStatus,
                lastRunAt,
                webhookUrl,
                createdAt,
                updatedAt,
                secret);
    }
}
