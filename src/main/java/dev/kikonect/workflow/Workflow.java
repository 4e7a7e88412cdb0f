package dev.kikonect.workflow;

import com.fasterxml.jackson.annotation.JsonRawValue;
import java.time.Instant;

/**
 * A workflow as the API shows it. {@code triggerConfig} is raw JSON; {@code webhookUrl} is set for webhook
 * workflows only.
 */
public record Workflow(
    long id,
    String name,
    String triggerType,
    String actionUrl,
    @JsonRawValue String triggerConfig,
    boolean enabled,
    Instant nextRunAt,
    Instant lastFiredAt,
    String webhookUrl,
    Instant createdAt,
    Instant updatedAt) {}
