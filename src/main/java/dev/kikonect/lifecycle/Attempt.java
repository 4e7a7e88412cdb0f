package dev.kikonect.lifecycle;

import java.time.Duration;
import java.time.Instant;

/**
 * What one delivery attempt came to, as stored in the attempt log. {@code statusCode} is null when no response
 * arrived; {@code retryAfter} is the receiver's Retry-After, if it sent one.
 */
public record Attempt(
    int number,
    Instant startedAt,
    long durationMs,
    boolean succeeded,
    boolean retryable,
    Integer statusCode,
    String responseHeaders,
    String responseBody,
    String error,
    Duration retryAfter) {}
