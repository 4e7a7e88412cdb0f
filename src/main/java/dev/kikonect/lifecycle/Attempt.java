package dev.kikonect.lifecycle;

import java.time.Duration;
import java.time.Instant;

/**
 * What one delivery attempt came to, as stored in the attempt log. {@code statusCode} is null when no response
 * arrived; {@code retryAfter} is the receiver's Retry-After, if it sent one; {@code request} what was sent (a JSON object:
 * method, url, headers, body unless it is the run's payload), null when nothing was.
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
        Duration retryAfter,
        String request) {

    /** The same attempt with what was sent (a JSON object, see V11), or null when nothing was. */
    public Attempt withRequest(String sent) {
        return new Attempt(
                number,
                startedAt,
                durationMs,
                succeeded,
                retryable,
                statusCode,
                responseHeaders,
                responseBody,
                error,
                retryAfter,
                sent);
    }
}
