package dev.kikonect.sso;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.PublicUrls;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.security.oauth2.client.oidc.authentication.OidcIdTokenValidator;
import org.springframework.security.oauth2.client.registration.ClientRegistration;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtTimestampValidator;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.stereotype.Component;
import org.springframework.web.client.RestTemplate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The configured OpenID providers ({@code kikonect.oidc.<id>.*}): each one's discovery document, read at the first
 * sign-in (5 s to connect, 10 s in all) and kept for an hour, as a Spring Security {@link ClientRegistration}, and an
 * ID token decoder that checks the signature against the provider's keys (fetched with the same deadlines), the
 * issuer, the audience and the times.
 */
@Component
class SsoProviders {

    static final Duration CONNECT = Duration.ofSeconds(5);
    static final Duration READ = Duration.ofSeconds(10);
    private static final Duration KEEP = Duration.ofHours(1);

    record Provider(
            String id,
            String name,
            KiKonectProperties.Oidc settings,
            ClientRegistration registration,
            JwtDecoder decoder,
            long loadedAt) {}

    private final Map<String, KiKonectProperties.Oidc> configured;
    private final PublicUrls urls;
    private final JsonMapper json;
    private final Map<String, Provider> loaded = new ConcurrentHashMap<>(); // at most one entry per configured provider
    /**
     * A provider that could not be reached is not asked again for 30 s (anyone may open /sso/{id}/start: without this,
     * a flood of them while the provider is down would be a flood of requests to it).
     */
    private final Map<String, Long> downUntil = new ConcurrentHashMap<>(); // at most one entry per configured provider

    private static final Duration DOWN = Duration.ofSeconds(30);
    private final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(CONNECT)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();

    SsoProviders(KiKonectProperties properties, PublicUrls urls, JsonMapper json) {
        this.configured = properties.oidc();
        this.urls = urls;
        this.json = json;
        configured.forEach((id, oidc) -> {
            if (oidc.issuerUri() == null || oidc.clientId() == null) {
                throw new IllegalStateException(
                        "kikonect.oidc." + id + ": set issuer-uri and client-id (and client-secret)");
            }
        });
    }

    Map<String, KiKonectProperties.Oidc> configured() {
        return configured;
    }

    static String name(String id, KiKonectProperties.Oidc oidc) {
        return oidc.name() == null || oidc.name().isBlank() ? id : oidc.name();
    }

    /** The provider, discovered if need be; 404 when no such provider is configured, 503 when it cannot be reached. */
    Provider get(String id) {
        KiKonectProperties.Oidc oidc = Optional.ofNullable(configured.get(id))
                .orElseThrow(() -> new DomainException.NotFound("Identity provider " + id));
        Provider known = loaded.get(id);
        if (known != null && System.nanoTime() - known.loadedAt() < KEEP.toNanos()) {
            return known;
        }
        Long down = downUntil.get(id);
        if (down != null && System.nanoTime() - down < 0) {
            throw new DomainException.Unavailable(
                    "identity-provider-unreachable",
                    "The identity provider " + name(id, oidc) + " could not be reached; try again later.",
                    DOWN);
        }
        try {
            Provider fresh = discover(id, oidc);
            loaded.put(id, fresh);
            downUntil.remove(id);
            return fresh;
        } catch (DomainException.Unavailable e) {
            downUntil.put(id, System.nanoTime() + DOWN.toNanos());
            throw e;
        }
    }

    private Provider discover(String id, KiKonectProperties.Oidc oidc) {
        String issuer = oidc.issuerUri().replaceAll("/+$", "");
        JsonNode metadata;
        try {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create(issuer + "/.well-known/openid-configuration"))
                            .timeout(READ)
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("HTTP " + response.statusCode());
            }
            metadata = json.readTree(response.body());
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new DomainException.Unavailable(
                    "identity-provider-unreachable",
                    "The identity provider " + name(id, oidc) + " could not be reached; try again later.",
                    Duration.ofSeconds(30));
        }
        if (!issuer.equals(metadata.path("issuer").asString("").replaceAll("/+$", ""))) {
            throw new DomainException.Unavailable(
                    "identity-provider-misconfigured",
                    "The identity provider " + name(id, oidc) + " names another issuer than configured.",
                    Duration.ofSeconds(30));
        }
        ClientRegistration registration = ClientRegistration.withRegistrationId(id)
                .clientId(oidc.clientId())
                .clientSecret(oidc.clientSecret())
                .clientAuthenticationMethod(
                        metadata.path("token_endpoint_auth_methods_supported")
                                                .toString()
                                                .contains("client_secret_basic")
                                        || metadata.path("token_endpoint_auth_methods_supported")
                                                .isMissingNode()
                                ? ClientAuthenticationMethod.CLIENT_SECRET_BASIC
                                : ClientAuthenticationMethod.CLIENT_SECRET_POST)
                .authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
                .redirectUri(urls.base() + "/sso/" + id + "/callback")
                .scope(oidc.scopes())
                .authorizationUri(metadata.path("authorization_endpoint").asString())
                .tokenUri(metadata.path("token_endpoint").asString())
                .jwkSetUri(metadata.path("jwks_uri").asString())
                .userInfoUri(metadata.path("userinfo_endpoint").asString(null))
                .issuerUri(metadata.path("issuer").asString())
                .userNameAttributeName("sub")
                .clientName(name(id, oidc))
                .build();
        NimbusJwtDecoder decoder = NimbusJwtDecoder.withJwkSetUri(
                        registration.getProviderDetails().getJwkSetUri())
                .restOperations(new RestTemplate(requestFactory()))
                .build();
        decoder.setJwtValidator(new DelegatingOAuth2TokenValidator<>(
                new JwtTimestampValidator(), new OidcIdTokenValidator(registration)));
        return new Provider(id, name(id, oidc), oidc, registration, decoder, System.nanoTime());
    }

    /** Requests to the provider (keys, tokens) with the same deadlines as discovery. */
    JdkClientHttpRequestFactory requestFactory() {
        JdkClientHttpRequestFactory factory = new JdkClientHttpRequestFactory(
                HttpClient.newBuilder().connectTimeout(CONNECT).build());
        factory.setReadTimeout(READ);
        return factory;
    }
}
