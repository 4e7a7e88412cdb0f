package dev.kikonect.credentials;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.kikonect.common.Printable;
import dev.kikonect.execution.StepCredentials;
import dev.kikonect.execution.TokenClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * Applies a step's credential: bearer and OAuth2 as {@code Authorization: Bearer}, basic as {@code Authorization:
 * Basic}, header as its header, query as its parameter. OAuth2 tokens are cached per credential (and version: a PUT
 * starts afresh) on this node until 60 s before they expire (5 minutes when the server gives no lifetime), shared by
 * every step that uses the credential; concurrent deliveries wait for one token request rather than each making one.
 */
@Component
class CredentialResolver implements StepCredentials {

    static final Duration EARLY = Duration.ofSeconds(60);
    static final Duration NO_LIFETIME = Duration.ofMinutes(5);

    /** A token and when to stop using it. */
    private record CachedToken(String token, Instant useUntil) {}

    private final Credentials credentials;
    private final TokenClient tokens;
    private final Clock clock;
    private final Cache<String, CachedToken> cache =
            Caffeine.newBuilder().maximumSize(10_000).build();

    CredentialResolver(Credentials credentials, TokenClient tokens, Clock clock) {
        this.credentials = credentials;
        this.tokens = tokens;
        this.clock = clock;
    }

    @Override
    public Applied apply(long workspaceId, String name, String host, Object refused) throws Failure {
        Credentials.Opened c = credentials
                .open(workspaceId, name)
                .orElseThrow(() -> new Failure("credential '" + name + "' does not exist", false));
        if (!c.allows(host)) {
            // Bound to its hosts (as n8n's allowed domains): an editor's step cannot send the secret anywhere else.
            throw new Failure(
                    "'" + name + "' may not be sent to " + Printable.of(host, 200) + " (allowed_hosts: "
                            + (c.allowedHosts().isEmpty()
                                    ? "none; add the hosts it may be sent to"
                                    : String.join(", ", c.allowedHosts()))
                            + ")",
                    false);
        }
        return switch (c.type()) {
            case "bearer" ->
                new Applied(
                        List.of(Map.entry(
                                "Authorization", "Bearer " + c.secret().get("token"))),
                        List.of(),
                        null);
            case "basic" -> {
                String pair = c.fields().get("username") + ":" + c.secret().get("password");
                yield new Applied(
                        List.of(Map.entry(
                                "Authorization",
                                "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8)))),
                        List.of(),
                        null);
            }
            case "header" ->
                new Applied(
                        List.of(Map.entry(
                                c.fields().get("header_name"), c.secret().get("value"))),
                        List.of(),
                        null);
            case "query" ->
                new Applied(
                        List.of(),
                        List.of(Map.entry(
                                c.fields().get("param_name"), c.secret().get("value"))),
                        null);
            case "oauth2_client_credentials" -> oauth2(c, refused);
            default -> throw new Failure("credential '" + name + "' has an unknown type", false);
        };
    }

    private Applied oauth2(Credentials.Opened c, Object refused) throws Failure {
        String key = c.id() + "@" + c.updatedAt();
        if (refused != null) {
            cache.asMap()
                    .remove(key, refused); // only the token that was refused: one refresh however many were refused
        }
        CachedToken cached = cache.getIfPresent(key);
        if (cached != null && clock.instant().isAfter(cached.useUntil())) {
            cache.asMap().remove(key, cached);
        }
        try {
            cached = cache.get(key, k -> fetch(c));
        } catch (FetchFailed e) {
            throw e.failure;
        }
        return new Applied(List.of(Map.entry("Authorization", "Bearer " + cached.token())), List.of(), cached);
    }

    private CachedToken fetch(Credentials.Opened c) {
        try {
            TokenClient.Token t = tokens.fetch(
                    c.fields().get("token_url"),
                    c.fields().get("client_id"),
                    c.secret().get("client_secret"),
                    c.fields().get("scope"),
                    c.fields().get("audience"));
            Duration lifetime = t.expiresInSeconds() == null
                    ? NO_LIFETIME
                    : Duration.ofSeconds(t.expiresInSeconds()).minus(EARLY);
            return new CachedToken(
                    t.accessToken(), clock.instant().plus(lifetime.isNegative() ? Duration.ZERO : lifetime));
        } catch (Failure f) {
            throw new FetchFailed(f);
        }
    }

    /** Carries a failed fetch out of the cache's loader. */
    private static final class FetchFailed extends RuntimeException {
        final Failure failure;

        FetchFailed(Failure failure) {
            super(failure.getMessage(), null, false, false);
            this.failure = failure;
        }
    }
}
