package dev.kikonect.credentials;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A credential as the API shows it: name, type, the fields that are not secret, times, and the workflows that use it.
 * Never a secret value.
 */
public record Credential(
        long id,
        String name,
        String type,
        Map<String, Object> fields,
        List<String> allowedHosts,
        Instant createdAt,
        Instant updatedAt,
        Instant lastUsedAt,
        @JsonInclude(JsonInclude.Include.NON_NULL) List<Map<String, Object>> usedBy) {}
