package dev.kikonect.sso;

import dev.kikonect.auth.AuthService;
import dev.kikonect.auth.Session;
import dev.kikonect.auth.SessionCookie;
import dev.kikonect.auth.SsoAccounts;
import dev.kikonect.auth.User;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.Printable;
import dev.kikonect.common.PublicUrls;
import dev.kikonect.common.SecureTokens;
import dev.kikonect.web.PublicEndpoint;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.ResponseCookie;
import org.springframework.http.converter.FormHttpMessageConverter;
import org.springframework.security.oauth2.client.endpoint.OAuth2AuthorizationCodeGrantRequest;
import org.springframework.security.oauth2.client.endpoint.RestClientAuthorizationCodeTokenResponseClient;
import org.springframework.security.oauth2.client.http.OAuth2ErrorResponseErrorHandler;
import org.springframework.security.oauth2.core.OAuth2AuthorizationException;
import org.springframework.security.oauth2.core.endpoint.OAuth2AccessTokenResponse;
import org.springframework.security.oauth2.core.endpoint.OAuth2AuthorizationExchange;
import org.springframework.security.oauth2.core.endpoint.OAuth2AuthorizationRequest;
import org.springframework.security.oauth2.core.endpoint.OAuth2AuthorizationResponse;
import org.springframework.security.oauth2.core.endpoint.PkceParameterNames;
import org.springframework.security.oauth2.core.http.converter.OAuth2AccessTokenResponseHttpMessageConverter;
import org.springframework.security.oauth2.core.oidc.endpoint.OidcParameterNames;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Single sign-on with OpenID Connect, the authorization code flow with PKCE, state and nonce.
 *
 * <p>{@code GET /sso/{id}/start} sends the browser to the provider, keeping state, nonce and the PKCE verifier in a
 * short-lived {@code HttpOnly} cookie (SameSite=Lax, so that the provider's redirect back carries it; nothing is kept
 * on the server, so any node can take the callback). {@code GET /sso/{id}/callback} checks the state, exchanges the
 * code (Spring Security's token client), validates the ID token (signature by the provider's keys, issuer, audience,
 * times, nonce), takes the verified email (in an allowed domain), finds or creates the user, opens a session (method
 * sso, audited) in the web app's session cookie and sends the browser to the app. Failures go back to the login
 * page with the reason.
 */
@RestController
@PublicEndpoint
class SsoController {

    private static final Logger log = LoggerFactory.getLogger(SsoController.class);
    private static final String COOKIE = "kikonect_sso";

    private final SsoProviders providers;
    private final AuthService auth;
    private final PublicUrls urls;
    private final JsonMapper json;
    private final RestClientAuthorizationCodeTokenResponseClient tokens =
            new RestClientAuthorizationCodeTokenResponseClient();

    private final SessionCookie sessionCookie;
    private final SsoAccounts accounts;

    SsoController(
            SsoProviders providers,
            AuthService auth,
            PublicUrls urls,
            JsonMapper json,
            SessionCookie sessionCookie,
            SsoAccounts accounts) {
        this.sessionCookie = sessionCookie;
        this.accounts = accounts;
        this.providers = providers;
        this.auth = auth;
        this.urls = urls;
        this.json = json;
        tokens.setRestClient(RestClient.builder()
                .requestFactory(providers.requestFactory())
                .configureMessageConverters(c -> {
                    c.addCustomConverter(new FormHttpMessageConverter());
                    c.addCustomConverter(new OAuth2AccessTokenResponseHttpMessageConverter());
                })
                .defaultStatusHandler(new OAuth2ErrorResponseErrorHandler())
                .build());
    }

    /** The providers the login page offers. */
    @GetMapping("/sso")
    Map<String, Object> list() {
        List<Map<String, Object>> items = new ArrayList<>();
        providers
                .configured()
                .forEach((id, oidc) -> items.add(
                        Map.of("id", id, "name", SsoProviders.name(id, oidc), "start_url", "/sso/" + id + "/start")));
        return Map.of("items", items);
    }

    @GetMapping("/sso/{id}/start")
    void start(@PathVariable String id, HttpServletRequest request, HttpServletResponse response) throws IOException {
        begin(id, response, null);
    }

    /** Sends the browser to provider {@code id}; {@code linkUser}: to link the identity to this signed-in account. */
    void begin(String id, HttpServletResponse response, Long linkUser) throws IOException {
        SsoProviders.Provider provider = providers.get(id);
        Map<String, String> flow = new LinkedHashMap<>();
        flow.put("provider", id);
        if (linkUser != null) {
            flow.put("link", Long.toString(linkUser));
        }
        flow.put("state", SecureTokens.random("", 24));
        flow.put("nonce", SecureTokens.random("", 24));
        flow.put("verifier", SecureTokens.random("", 48));
        OAuth2AuthorizationRequest authorization = authorizationRequest(provider, flow);
        response.addHeader(
                "Set-Cookie",
                ResponseCookie.from(
                                COOKIE,
                                Base64.getUrlEncoder().withoutPadding().encodeToString(json.writeValueAsBytes(flow)))
                        .httpOnly(true)
                        .secure(urls.base().startsWith("https:"))
                        .sameSite("Lax")
                        .path("/sso/")
                        .maxAge(600)
                        .build()
                        .toString());
        response.setHeader("Cache-Control", "no-store");
        response.sendRedirect(authorization.getAuthorizationRequestUri());
    }

    private static OAuth2AuthorizationRequest authorizationRequest(
            SsoProviders.Provider provider, Map<String, String> flow) {
        String challenge;
        try {
            challenge = Base64.getUrlEncoder()
                    .withoutPadding()
                    .encodeToString(MessageDigest.getInstance("SHA-256")
                            .digest(flow.get("verifier").getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put(OidcParameterNames.NONCE, flow.get("nonce"));
        parameters.put(PkceParameterNames.CODE_CHALLENGE, challenge);
        parameters.put(PkceParameterNames.CODE_CHALLENGE_METHOD, "S256");
        return OAuth2AuthorizationRequest.authorizationCode()
                .authorizationUri(provider.registration().getProviderDetails().getAuthorizationUri())
                .clientId(provider.registration().getClientId())
                .redirectUri(provider.registration().getRedirectUri())
                .scopes(provider.registration().getScopes())
                .state(flow.get("state"))
                .additionalParameters(parameters)
                .attributes(Map.of(
                        PkceParameterNames.CODE_VERIFIER,
                        flow.get("verifier"),
                        OidcParameterNames.NONCE,
                        flow.get("nonce")))
                .build();
    }

    @GetMapping("/sso/{id}/callback")
    void callback(
            @PathVariable String id,
            @RequestParam(required = false) String code,
            @RequestParam(required = false) String state,
            @RequestParam(required = false) String error,
            @RequestParam(name = "error_description", required = false) String errorDescription,
            HttpServletRequest request,
            HttpServletResponse response)
            throws IOException {
        response.setHeader("Cache-Control", "no-store");
        response.addHeader(
                "Set-Cookie",
                ResponseCookie.from(COOKIE, "")
                        .path("/sso/")
                        .maxAge(0)
                        .httpOnly(true)
                        .sameSite("Lax")
                        .build()
                        .toString());
        Map<String, String> flow = flow(request);
        boolean linking = flow != null && flow.containsKey("link");
        try {
            Session session = signIn(id, code, state, error, errorDescription, flow, request);
            if (session == null) { // linked to the signed-in account
                response.sendRedirect(
                        urls.base() + "/app/#/account?sso_linked=" + URLEncoder.encode(id, StandardCharsets.UTF_8));
                return;
            }
            sessionCookie.set(request, response, session.token(), session.expiresAt(), Instant.now());
            response.sendRedirect(urls.base() + "/app/#/dashboard");
        } catch (Refused e) {
            log.info("Single sign-on through {} refused ({}): {}", id, e.code, e.getMessage());
            // Only a code goes to the page, which words it: text from the provider or the request never reaches it (a
            // crafted callback link could otherwise put any sentence on the login page).
            response.sendRedirect(
                    urls.base() + (linking ? "/app/#/account?sso_error=" : "/app/#/login?sso_error=") + e.code);
        }
    }

    /** A sign-in that cannot go on: the code the page words, and the reason the log keeps. */
    static final class Refused extends RuntimeException {
        final String code;

        Refused(String code, String reason) {
            super(reason, null, false, false);
            this.code = code;
        }
    }

    private Map<String, String> flow(HttpServletRequest request) {
        if (request.getCookies() != null) {
            for (Cookie cookie : request.getCookies()) {
                if (COOKIE.equals(cookie.getName())) {
                    try {
                        return json.readValue(
                                Base64.getUrlDecoder().decode(cookie.getValue()),
                                new TypeReference<Map<String, String>>() {});
                    } catch (RuntimeException e) {
                        return null;
                    }
                }
            }
        }
        return null;
    }

    /** Signs in (a new session) or, for a link flow, links the identity to the signed-in account (null). */
    private Session signIn(
            String id,
            String code,
            String state,
            String error,
            String errorDescription,
            Map<String, String> flow,
            HttpServletRequest request) {
        String client = request.getRemoteAddr();
        if (error != null) {
            throw new Refused(
                    "provider_error",
                    "The identity provider refused: " + Printable.of(error, 100)
                            + (errorDescription == null ? "" : " (" + Printable.of(errorDescription, 200) + ")"));
        }
        if (flow == null
                || state == null
                || code == null
                || !id.equals(flow.get("provider"))
                || !MessageDigest.isEqual(
                        state.getBytes(StandardCharsets.UTF_8),
                        flow.get("state").getBytes(StandardCharsets.UTF_8))) {
            throw new Refused("expired", "The sign-in expired or did not start here; start it again.");
        }
        SsoProviders.Provider provider;
        try {
            provider = providers.get(id);
        } catch (DomainException e) {
            throw new Refused("unavailable", e.getMessage());
        }
        OAuth2AuthorizationRequest authorization = authorizationRequest(provider, flow);
        OAuth2AuthorizationResponse answer = OAuth2AuthorizationResponse.success(code)
                .state(state)
                .redirectUri(provider.registration().getRedirectUri())
                .build();
        OAuth2AccessTokenResponse tokenResponse;
        try {
            tokenResponse = tokens.getTokenResponse(new OAuth2AuthorizationCodeGrantRequest(
                    provider.registration(), new OAuth2AuthorizationExchange(authorization, answer)));
        } catch (OAuth2AuthorizationException | RestClientException e) {
            throw new Refused("token_refused", "The identity provider did not accept the sign-in: " + e.getMessage());
        }
        Object idToken = tokenResponse.getAdditionalParameters().get(OidcParameterNames.ID_TOKEN);
        if (!(idToken instanceof String raw)) {
            throw new Refused("no_id_token", "The identity provider sent no ID token (is the openid scope allowed?).");
        }
        Jwt jwt;
        try {
            jwt = provider.decoder().decode(raw);
        } catch (JwtException e) {
            throw new Refused("invalid_token", "The ID token is not valid: " + e.getMessage());
        }
        if (!flow.get("nonce").equals(jwt.getClaimAsString(OidcParameterNames.NONCE))) {
            throw new Refused("invalid_token", "The ID token does not belong to this sign-in (nonce).");
        }
        String email = jwt.getClaimAsString("email");
        if (email == null || email.isBlank()) {
            throw new Refused("no_email", "The identity provider sent no email address (is the email scope allowed?).");
        }
        if (!provider.settings().trustEmail() && !Boolean.TRUE.equals(jwt.getClaimAsBoolean("email_verified"))) {
            throw new Refused("email_unverified", "The identity provider has not verified " + email + ".");
        }
        String domain = email.substring(email.indexOf('@') + 1).toLowerCase(Locale.ROOT);
        List<String> allowed = provider.settings().allowedDomains();
        if (!allowed.isEmpty() && allowed.stream().noneMatch(d -> d.equalsIgnoreCase(domain))) {
            throw new Refused(
                    "domain_not_allowed",
                    email + " may not sign in here: " + provider.name() + " admits " + String.join(", ", allowed)
                            + ".");
        }
        String first = orElse(
                jwt.getClaimAsString("given_name"),
                orElse(jwt.getClaimAsString("name"), email.substring(0, email.indexOf('@'))));
        String last = orElse(jwt.getClaimAsString("family_name"), "");
        if (jwt.getSubject() == null || jwt.getSubject().isBlank()) {
            throw new Refused("invalid_token", "The ID token has no subject.");
        }
        try {
            if (flow.containsKey("link")) {
                long wanted = Long.parseLong(flow.get("link"));
                // The browser must still be signed in as the account that asked (the flow cookie is not a credential).
                if (auth.signedInUser(request).filter(u -> u == wanted).isEmpty()) {
                    throw new Refused(
                            "signed_out",
                            "Linking " + id + " needs the account that asked for it signed in, in this browser.");
                }
                accounts.link(wanted, id, jwt.getSubject(), email);
                return null;
            }
            User user = accounts.signIn(id, jwt.getSubject(), email, cut(first), cut(last));
            return auth.startSession(user, "sso", client);
        } catch (DomainException.Forbidden e) {
            throw new Refused(
                    switch (e.type()) {
                        case "sso-link-required" -> "link_required";
                        case "sso-identity-taken" -> "identity_taken";
                        case "sso-link-mismatch" -> "link_mismatch";
                        default -> "refused";
                    },
                    e.getMessage());
        } catch (DomainException.NotAuthenticated e) {
            throw new Refused("signed_out", e.getMessage());
        }
    }

    private static String orElse(String value, String fallback) {
        return value == null || value.isBlank() ? fallback : value;
    }

    private static String cut(String value) {
        return value.length() > 100 ? value.substring(0, 100) : value;
    }
}
