package dev.kikonect.execution;

import dev.kikonect.lifecycle.Attempt;
import dev.kikonect.lifecycle.ClaimedJob;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/** What the attempt log keeps of an exchange: the request as sent and the response, with credentials redacted. */
final class AttemptRecords {

    private AttemptRecords() {}

    /** A body as an expression reads it: parsed when it is JSON, else the text; null when there is none. */
    static Object parsedBody(JsonMapper json, String body) {
        if (body == null || body.isEmpty()) {
            return null;
        }
        try {
            return json.readValue(body, Object.class);
        } catch (JacksonException e) {
            return body;
        }
    }

    /** An attempt that failed for good before anything was sent (the error says why). */
    static Attempt failedBeforeSending(ClaimedJob job, Instant started, Instant now, String error) {
        return new Attempt(
                job.number(),
                started,
                Duration.between(started, now).toMillis(),
                false,
                false,
                null,
                null,
                null,
                error,
                null,
                null);
    }

    /**
     * Response headers that may carry credentials; the attempt log shows that they came, not what they said: these,
     * and any header whose name contains one of {@link #SECRET_WORDS}.
     */
    private static final Set<String> SECRET_HEADERS = Set.of(
            "set-cookie",
            "set-cookie2",
            "authorization",
            "proxy-authorization",
            "cookie",
            "x-api-key",
            "x-auth-token",
            "x-vault-token",
            "x-amz-security-token");

    private static final List<String> SECRET_WORDS =
            List.of("token", "secret", "key", "auth", "cookie", "session", "password");

    static boolean secretHeader(String lowerCaseName) {
        return SECRET_HEADERS.contains(lowerCaseName) || SECRET_WORDS.stream().anyMatch(lowerCaseName::contains);
    }

    /**
     * What an attempt sent, for the attempt log and the inspector's request tab: method, URL, headers as sent (the
     * signature included; names that look like credentials {@link #secretHeader redacted}), and the body's first 4 KiB
     * unless it is the run's payload byte for byte ({@code body_is_payload}).
     */
    static String requestJson(
            JsonMapper json,
            String method,
            String url,
            List<Map.Entry<String, String>> headers,
            byte[] body,
            boolean bodyIsPayload) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("method", method);
        out.put("url", url);
        Map<String, String> sentHeaders = new LinkedHashMap<>();
        for (Map.Entry<String, String> h : headers) {
            String value = secretHeader(h.getKey().toLowerCase(Locale.ROOT)) ? "[redacted]" : h.getValue();
            sentHeaders.merge(h.getKey(), value, (a, b) -> a + ", " + b);
        }
        out.put("headers", sentHeaders);
        if (body == null || bodyIsPayload) {
            out.put("body", null);
            out.put("body_is_payload", body != null);
        } else {
            boolean truncated = body.length > DeliveryClient.BODY_PREFIX;
            out.put(
                    "body",
                    new String(body, 0, Math.min(body.length, DeliveryClient.BODY_PREFIX), StandardCharsets.UTF_8)
                            .replace('\u0000', '\uFFFD'));
            out.put("body_is_payload", false);
            out.put("body_truncated", truncated);
        }
        return json.writeValueAsString(out);
    }

    /** Response headers as the attempt log keeps them: names lower-cased, credentials {@link #secretHeader redacted}. */
    static String headersJson(JsonMapper json, List<Map.Entry<String, String>> headers) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> h : headers) {
            String name = h.getKey().toLowerCase(Locale.ROOT);
            String value = secretHeader(name) ? "[redacted]" : h.getValue();
            out.merge(name, value, (a, b) -> a + ", " + b);
        }
        return json.writeValueAsString(out);
    }

    /** A response body's first bytes as text, for the attempt log. */
    static String bodyText(byte[] body, boolean truncated) {
        if (body.length == 0) {
            return "";
        }
        // Lenient decoding (bad bytes become U+FFFD); PostgreSQL text cannot hold NUL.
        String text = new String(body, StandardCharsets.UTF_8).replace('\u0000', '\uFFFD');
        return truncated ? text + "\n[truncated to 4 KiB]" : text;
    }
}
