package dev.kikonect.execution;

import dev.kikonect.common.Printable;
import dev.kikonect.lifecycle.Attempt;
import dev.kikonect.lifecycle.Completions;
import dev.kikonect.steps.StepRequests;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/** A credential put on a rendered request, and taken out of what came back. */
final class CredentialRequests {

    private CredentialRequests() {}

    /** The host a request goes to, as a credential's allowed_hosts name it (lower case; an IPv6 address in brackets). */
    static String host(String url) {
        try {
            String host = URI.create(url).getHost();
            return host == null ? null : host.toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The request with the credential's headers (replacing the step's of the same name) and query parameters. */
    static StepRequests.Rendered withCredential(StepRequests.Rendered request, StepCredentials.Applied applied) {
        Set<String> replaced = new HashSet<>();
        applied.headers().forEach(h -> replaced.add(h.getKey().toLowerCase(Locale.ROOT)));
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        request.headers().stream()
                .filter(h -> !replaced.contains(h.getKey().toLowerCase(Locale.ROOT)))
                .forEach(headers::add);
        headers.addAll(applied.headers());
        String url = request.url();
        if (!applied.query().isEmpty()) {
            int hash = url.indexOf('#');
            String fragment = hash < 0 ? "" : url.substring(hash);
            StringBuilder u = new StringBuilder(hash < 0 ? url : url.substring(0, hash));
            for (Map.Entry<String, String> q : applied.query()) {
                u.append(u.indexOf("?") < 0 ? '?' : '&')
                        .append(URLEncoder.encode(q.getKey(), StandardCharsets.UTF_8))
                        .append('=')
                        .append(URLEncoder.encode(q.getValue(), StandardCharsets.UTF_8));
            }
            url = u.append(fragment).toString();
        }
        return new StepRequests.Rendered(request.method(), url, headers, request.body());
    }

    /**
     * The attempt (and kept response) with every value the credential added replaced by [redacted], wherever a receiver
     * may have echoed it (an error message, a response header or body): the attempt log never holds a secret.
     */
    static Delivery.Sent scrubbed(Delivery.Sent sent, StepCredentials.Applied applied) {
        List<String> secrets = new ArrayList<>();
        applied.headers().forEach(h -> secrets.add(h.getValue()));
        applied.query().forEach(q -> {
            secrets.add(q.getValue());
            secrets.add(URLEncoder.encode(q.getValue(), StandardCharsets.UTF_8));
        });
        applied.headers().stream()
                .filter(h -> h.getValue().startsWith("Bearer ") || h.getValue().startsWith("Basic "))
                .forEach(h -> secrets.add(h.getValue().substring(h.getValue().indexOf(' ') + 1)));
        for (String secret : List.copyOf(secrets)) {
            secrets.add(secret.replace("\\", "\\\\")
                    .replace("\"", "\\\"")); // as it appears inside the JSON of the request record
            secrets.add(Printable.of(
                    secret, Integer.MAX_VALUE)); // as an error or the log quotes it (control characters escaped)
        }
        return scrubbed(sent, Secrets.scrubber(secrets));
    }

    private static Delivery.Sent scrubbed(Delivery.Sent sent, UnaryOperator<String> scrub) {
        Attempt a = sent.attempt();
        Attempt clean = new Attempt(
                a.number(),
                a.startedAt(),
                a.durationMs(),
                a.succeeded(),
                a.retryable(),
                a.statusCode(),
                scrub.apply(a.responseHeaders()),
                scrub.apply(a.responseBody()),
                scrub.apply(a.error()),
                a.retryAfter(),
                scrub.apply(a.request()));
        Completions.KeptResponse k = sent.kept();
        return new Delivery.Sent(
                clean,
                k == null
                        ? null
                        : new Completions.KeptResponse(k.status(), scrub.apply(k.headers()), scrub.apply(k.body())));
    }
}
