package dev.kikonect.execution;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.Printable;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * OAuth2 client-credentials token requests (RFC 6749 4.4), through the same SSRF-guarded client as deliveries: the
 * token URL is checked like any target, at every request. The client authenticates with HTTP Basic (the method every
 * server must support, RFC 6749 2.3.1).
 */
@Component
public class TokenClient implements AutoCloseable {

    /** An access token and how long it lives (null: the server did not say). */
    public record Token(String accessToken, Long expiresInSeconds) {}

    private final DeliveryClient client;
    private final Duration timeout;
    private final JsonMapper json;

    TokenClient(KiKonectProperties properties, AddressGuard guard, DeliveryClient.Tls tls, JsonMapper json) {
        this.timeout = properties.delivery().timeout();
        this.client = new DeliveryClient(
                guard, tls, timeout.compareTo(Duration.ofSeconds(5)) < 0 ? timeout : Duration.ofSeconds(5));
        this.json = json;
    }

    /** Fetches a token; a failure says why without quoting a secret. */
    public Token fetch(String tokenUrl, String clientId, String clientSecret, String scope, String audience)
            throws StepCredentials.Failure {
        StringBuilder form = new StringBuilder("grant_type=client_credentials");
        if (scope != null) {
            form.append("&scope=").append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
        }
        if (audience != null) {
            form.append("&audience=").append(URLEncoder.encode(audience, StandardCharsets.UTF_8));
        }
        String basic = URLEncoder.encode(clientId, StandardCharsets.UTF_8) + ":"
                + URLEncoder.encode(clientSecret, StandardCharsets.UTF_8);
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        headers.add(Map.entry("Content-Type", "application/x-www-form-urlencoded"));
        headers.add(Map.entry("Accept", "application/json"));
        headers.add(Map.entry(
                "Authorization",
                "Basic " + Base64.getEncoder().encodeToString(basic.getBytes(StandardCharsets.UTF_8))));
        DeliveryClient.Response response;
        try {
            response = client.send(
                    "POST",
                    URI.create(tokenUrl),
                    headers,
                    form.toString().getBytes(StandardCharsets.UTF_8),
                    timeout,
                    64 * 1024);
        } catch (DeliveryClient.RefusedAddressException e) {
            throw new StepCredentials.Failure("oauth2 token request refused: " + e.getMessage(), false);
        } catch (IOException | IllegalArgumentException e) {
            throw new StepCredentials.Failure(
                    "oauth2 token request failed: " + e.getClass().getSimpleName(), true);
        }
        if (response.status() < 200 || response.status() >= 300) {
            String error = "";
            try {
                JsonNode body = json.readTree(response.body());
                error = body.path("error").isString()
                        ? " (" + Printable.of(body.path("error").asString(), 100) + ")"
                        : "";
            } catch (RuntimeException e) {
                // not JSON: the status says enough
            }
            throw new StepCredentials.Failure(
                    "oauth2 token request: HTTP " + response.status() + error,
                    response.status() == 429 || response.status() >= 500);
        }
        try {
            JsonNode body = json.readTree(response.body());
            String token = body.path("access_token").asString(null);
            if (token == null || token.isEmpty()) {
                throw new StepCredentials.Failure("oauth2 token response has no access_token", true);
            }
            Long expires = body.path("expires_in").canConvertToLong()
                    ? body.path("expires_in").asLong()
                    : null;
            return new Token(token, expires);
        } catch (RuntimeException e) {
            throw new StepCredentials.Failure("oauth2 token response is not JSON", true);
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
