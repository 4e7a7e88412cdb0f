package dev.kikonect.execution;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.Printable;
import dev.kikonect.lifecycle.Attempt;
import dev.kikonect.lifecycle.Completions;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLException;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * One delivery attempt: POST the payload, signed per Standard Webhooks, to the action URL through the SSRF guard,
 * and describe the result for the attempt log. Never throws for anything the network or the receiver does.
 */
@Component
class Delivery implements AutoCloseable {

    private final DeliveryClient client;
    private final Duration timeout;
    private final Duration maxRetryAfter;
    private final String userAgent;
    private final Clock clock;
    private final JsonMapper json;
    private final Listeners listeners;

    Delivery(
            KiKonectProperties properties,
            AddressGuard guard,
            Clock clock,
            JsonMapper json,
            DeliveryClient.Tls tls,
            Listeners listeners,
            @Value("${kikonect.build.version:dev}") String version) {
        this.listeners = listeners;
        this.timeout = properties.delivery().timeout();
        this.maxRetryAfter = properties.delivery().maxRetryAfter();
        this.userAgent = "KiKonect/" + version;
        this.clock = clock;
        this.json = json;
        Duration connectTimeout = timeout.compareTo(Duration.ofSeconds(5)) < 0 ? timeout : Duration.ofSeconds(5);
        this.client = new DeliveryClient(guard, tls, connectTimeout);
    }

    /** An attempt and, when asked for, the response kept for the steps that need this one. */
    record Sent(Attempt attempt, Completions.KeptResponse kept) {}

    /** One signed POST of {@code body} (a JSON text in UTF-8) to {@code url}; the secrets may be null (unsigned). */
    Attempt send(String url, String webhookId, String signingSecret, String previousSecret, byte[] body, int number) {
        return send(
                        "POST",
                        url,
                        List.of(),
                        webhookId,
                        signingSecret,
                        previousSecret,
                        body,
                        false,
                        number,
                        timeout,
                        0,
                        0)
                .attempt();
    }

    /**
     * One signed request: {@code method} with {@code body} (null: none, signed as empty) to {@code url}, KiKonect's
     * headers (Content-Type when there is a body, User-Agent, the Standard Webhooks headers) and then the step's own
     * {@code stepHeaders} (which may replace Content-Type or User-Agent). {@code keep} > 0: the response's status,
     * headers and up to that many bytes of its body are kept for dependants. The attempt records what was sent
     * ({@link AttemptRecords#requestJson}); {@code bodyIsPayload}: the body is the run's payload byte for byte, already stored, so
     * the record says so instead of holding it again.
     */
    Sent send(
            String method,
            String url,
            List<Map.Entry<String, String>> stepHeaders,
            String webhookId,
            String signingSecret,
            String previousSecret,
            byte[] body,
            boolean bodyIsPayload,
            int number,
            Duration timeout,
            int keep,
            long workspaceId) {
        Instant started = clock.instant();
        long startNanos = System.nanoTime();
        long timestamp = started.getEpochSecond();
        List<Map.Entry<String, String>> headers = new ArrayList<>(6 + stepHeaders.size());
        Set<String> given = new HashSet<>();
        stepHeaders.forEach(h -> given.add(h.getKey().toLowerCase(Locale.ROOT)));
        if (body != null && !given.contains("content-type")) {
            headers.add(Map.entry("Content-Type", "application/json"));
        }
        if (!given.contains("user-agent")) {
            headers.add(Map.entry("User-Agent", userAgent));
        }
        headers.addAll(stepHeaders);
        byte[] signed = body == null ? new byte[0] : body;
        headers.add(Map.entry("webhook-id", webhookId));
        headers.add(Map.entry("webhook-timestamp", Long.toString(timestamp)));
        if (signingSecret != null) {
            String signature = Signatures.sign(signingSecret, webhookId, timestamp, signed);
            if (previousSecret != null) {
                signature += " " + Signatures.sign(previousSecret, webhookId, timestamp, signed);
            }
            headers.add(Map.entry("webhook-signature", signature));
        }
        String sent = AttemptRecords.requestJson(json, method, url, headers, body, bodyIsPayload);
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            return failure(number, started, startNanos, false, "invalid URL: " + e.getMessage(), sent);
        }
        try {
            DeliveryClient.Response response;
            if ("listen".equalsIgnoreCase(uri.getScheme())) {
                // kikonect listen: the listener of this workspace takes the request and answers with its local server's
                // answer
                String name = uri.getAuthority() == null ? "" : uri.getAuthority();
                if (workspaceId == 0 || !Listeners.validName(name)) {
                    return failure(
                            number,
                            started,
                            startNanos,
                            false,
                            "invalid URL: listen://<name> needs a listener name",
                            sent);
                }
                Listeners.Answer answer;
                try {
                    answer = listeners.exchange(workspaceId, name, method, headers, body, timeout);
                } catch (Listeners.NoAnswer e) {
                    return failure(number, started, startNanos, true, e.getMessage(), sent);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return failure(
                            number, started, startNanos, true, "interrupted while waiting for the listener", sent);
                }
                int max = Math.max(keep, DeliveryClient.BODY_PREFIX);
                response = new DeliveryClient.Response(
                        answer.status(),
                        answer.headers(),
                        Arrays.copyOf(answer.body(), Math.min(max, answer.body().length)),
                        answer.body().length > max);
            } else {
                response = client.send(method, uri, headers, body, timeout, Math.max(keep, DeliveryClient.BODY_PREFIX));
            }
            int status = response.status();
            boolean ok = status >= 200 && status < 300;
            boolean retryable = status == 408 || status == 425 || status == 429 || status >= 500;
            byte[] logged = response.body();
            boolean loggedTruncated = response.bodyTruncated();
            if (logged.length > DeliveryClient.BODY_PREFIX) {
                logged = Arrays.copyOf(logged, DeliveryClient.BODY_PREFIX);
                loggedTruncated = true;
            }
            // Kept whatever its status: an error path (run_if any_failed) reads the failed step's response too.
            Completions.KeptResponse kept = keep > 0
                    ? new Completions.KeptResponse(
                            status,
                            AttemptRecords.headersJson(json, response.headers()),
                            AttemptRecords.bodyText(response.body(), false))
                    : null;
            return new Sent(
                    new Attempt(
                            number,
                            started,
                            elapsedMs(startNanos),
                            ok,
                            !ok && retryable,
                            status,
                            AttemptRecords.headersJson(json, response.headers()),
                            AttemptRecords.bodyText(logged, loggedTruncated),
                            ok ? null : "HTTP " + status,
                            ok ? null : retryAfter(response),
                            sent),
                    kept);
        } catch (IllegalArgumentException e) {
            return failure(number, started, startNanos, false, "invalid URL: " + e.getMessage(), sent);
        } catch (DeliveryClient.RefusedAddressException e) {
            return failure(
                    number,
                    started,
                    startNanos,
                    false,
                    "refused: " + e.getMessage() + " (see kikonect.delivery.allow-private-networks)",
                    sent);
        } catch (DeliveryClient.DeadlineException e) {
            return failure(
                    number,
                    started,
                    startNanos,
                    true,
                    (e.connected ? "timed out after " : "connect timed out after ") + seconds(timeout),
                    sent);
        } catch (UnknownHostException e) {
            return failure(number, started, startNanos, true, "could not resolve host " + uri.getHost(), sent);
        } catch (ConnectException e) {
            return failure(number, started, startNanos, true, "connection refused", sent);
        } catch (SSLException e) {
            return failure(number, started, startNanos, true, "TLS error: " + e.getMessage(), sent);
        } catch (IOException e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return failure(number, started, startNanos, true, "I/O error: " + message, sent);
        }
    }

    private Sent failure(int number, Instant started, long startNanos, boolean retryable, String error, String sent) {
        // Exception messages may quote the receiver's bytes (OkHttp: "Unexpected status line: ..."): escaped, so that
        // they cannot forge log lines or terminal escapes where the error is logged and shown.
        return new Sent(
                new Attempt(
                        number,
                        started,
                        elapsedMs(startNanos),
                        false,
                        retryable,
                        null,
                        null,
                        null,
                        Printable.of(error, 500),
                        null,
                        sent),
                null);
    }

    /** What an unsigned POST came to: the response's status, or why there was none. */
    record Plain(Integer status, String error) {}

    /**
     * One unsigned POST of {@code body} with exactly {@code headers} (Web Push messages), through the same guarded
     * client as deliveries (SSRF guard, connect and whole-exchange deadlines); never throws for the network's doings.
     */
    Plain post(String url, List<Map.Entry<String, String>> headers, byte[] body, Duration deadline) {
        try {
            DeliveryClient.Response response = client.send("POST", URI.create(url), headers, body, deadline, 1024);
            return new Plain(response.status(), null);
        } catch (IllegalArgumentException e) {
            return new Plain(null, "invalid URL");
        } catch (DeliveryClient.RefusedAddressException e) {
            return new Plain(null, "refused: " + e.getMessage());
        } catch (DeliveryClient.DeadlineException e) {
            return new Plain(null, "timed out after " + seconds(deadline));
        } catch (UnknownHostException e) {
            return new Plain(null, "could not resolve host");
        } catch (IOException e) {
            return new Plain(null, Printable.of("I/O error: " + e.getMessage(), 300));
        }
    }

    private static long elapsedMs(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    /** Retry-After as seconds or an HTTP date, capped at kikonect.delivery.max-retry-after; null when absent. */
    private Duration retryAfter(DeliveryClient.Response response) {
        return response.header("Retry-After")
                .map(v -> parseRetryAfter(v, clock.instant(), maxRetryAfter))
                .orElse(null);
    }

    /** Seconds or an RFC 1123 date; a date in the past means now; null when unreadable. */
    static Duration parseRetryAfter(String value, Instant now, Duration maxRetryAfter) {
        String v = value.strip();
        Duration wait;
        if (v.matches("\\d{1,10}")) {
            wait = Duration.ofSeconds(Long.parseLong(v));
        } else {
            try {
                Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME)
                        .toInstant();
                wait = Duration.between(now, at);
            } catch (DateTimeParseException e) {
                return null;
            }
        }
        if (wait.isNegative()) {
            return Duration.ZERO;
        }
        return wait.compareTo(maxRetryAfter) > 0 ? maxRetryAfter : wait;
    }

    static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    @Override
    public void close() {
        client.close();
    }
}
