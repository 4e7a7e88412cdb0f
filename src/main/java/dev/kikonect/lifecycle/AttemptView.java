package dev.kikonect.lifecycle;

import com.fasterxml.jackson.annotation.JsonRawValue;
import java.time.Instant;

/**
 * One delivery attempt of a run (of its step {@code step}; null for an untracked run's one step): when, how long, and what came back (status, headers with credentials redacted, the
 * first 4 KiB of the body) or what went wrong, and what was sent ({@code request}: method, URL, headers with the
 * signature, and the body unless it was the run's payload byte for byte).
 */
public record AttemptView(
        String step,
        int number,
        Instant startedAt,
        long durationMs,
        Integer responseStatus,
        @JsonRawValue String responseHeaders,
        String responseBody,
        String error,
        @JsonRawValue String request) {}
