package dev.kikonect.sso;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * Single sign-on against a real local OpenID provider (mock-oauth2-server), the browser's part played over HTTP:
 * start, the provider's redirect back with a code, the callback, the session.
 */
class SsoTest extends ApiTest {

    static final MockOAuth2Server provider = new MockOAuth2Server();

    /** A provider that is down: answers every discovery with 500, counting them. */
    static final AtomicInteger downAsked = new AtomicInteger();

    static final HttpServer down;

    static {
        provider.start();
        try {
            down = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        down.createContext("/", exchange -> {
            downAsked.incrementAndGet();
            exchange.sendResponseHeaders(500, -1);
            exchange.close();
        });
        down.start();
    }

    @DynamicPropertySource
    static void oidc(DynamicPropertyRegistry registry) {
        registry.add("kikonect.oidc.corp.name", () -> "Corp ID");
        registry.add(
                "kikonect.oidc.corp.issuer-uri",
                () -> provider.issuerUrl("corp").toString());
        registry.add("kikonect.oidc.corp.client-id", () -> "kikonect");
        registry.add("kikonect.oidc.corp.client-secret", () -> "kikonect-secret");
        registry.add("kikonect.oidc.corp.allowed-domains", () -> "corp.example, example.com");
        registry.add(
                "kikonect.oidc.down.issuer-uri",
                () -> "http://127.0.0.1:" + down.getAddress().getPort() + "/realm");
        registry.add("kikonect.oidc.down.client-id", () -> "kikonect");
    }

    @AfterAll
    static void stop() {
        provider.shutdown();
        down.stop(0);
    }

    @Test
    void a_provider_that_is_down_answers_503_and_is_not_asked_again_for_30_seconds() {
        Api.Response first = api.get("/sso/down/start", null);
        assertThat(first.status()).isEqualTo(503);
        assertThat(first.json().path("detail").asString()).contains("could not be reached");
        Api.Response second = api.get("/sso/down/start", null);
        assertThat(second.status()).isEqualTo(503);
        assertThat(downAsked.get()).isEqualTo(1);
    }

    private final HttpClient http =
            HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    /** The provider's next sign-in is this person. */
    private static void nextSignIn(String email, boolean verified) {
        Map<String, Object> claims = new HashMap<>();
        claims.put("email", email);
        claims.put("email_verified", verified);
        claims.put("given_name", "Grace");
        claims.put("family_name", "Hopper");
        provider.enqueueCallback(new DefaultOAuth2TokenCallback(
                "corp", UUID.randomUUID().toString(), "JWT", List.of("kikonect"), claims, 3600));
    }

    /** Where the browser ends up after start, provider and callback; {@code tamper} changes the state on the way. */
    private HttpResponse<String> signIn(boolean tamper) throws Exception {
        return flow("/sso/corp/start", null, tamper);
    }

    /**
     * The browser through {@code path} (start, or link with the session cookie {@code session}), the provider and the
     * callback; {@code tamper} changes the state on the way.
     */
    private HttpResponse<String> flow(String path, String session, boolean tamper) throws Exception {
        HttpRequest.Builder first = HttpRequest.newBuilder(URI.create(api.base() + path));
        if (session != null) {
            first.header("Cookie", "kikonect_session=" + session);
        }
        HttpResponse<String> start = http.send(first.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(start.statusCode()).as(start.body()).isEqualTo(302);
        String cookie = start.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(cookie).contains("HttpOnly").contains("SameSite=Lax");
        String authorize = start.headers().firstValue("Location").orElseThrow();
        assertThat(authorize)
                .startsWith(provider.authorizationEndpointUrl("corp").toString())
                .contains("code_challenge_method=S256")
                .contains("nonce=");
        HttpResponse<String> back =
                http.send(HttpRequest.newBuilder(URI.create(authorize)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(back.statusCode()).isEqualTo(302);
        String callback = back.headers().firstValue("Location").orElseThrow();
        assertThat(callback).startsWith(api.base() + "/sso/corp/callback");
        if (tamper) {
            callback = callback.replaceAll("state=[^&]+", "state=forged");
        }
        String cookies =
                cookie.substring(0, cookie.indexOf(';')) + (session == null ? "" : "; kikonect_session=" + session);
        HttpResponse<String> done = http.send(
                HttpRequest.newBuilder(URI.create(callback))
                        .header("Cookie", cookies)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(done.statusCode()).isEqualTo(302);
        return done;
    }

    /** The session the callback opened: the web app's cookie (its token also works as a Bearer token). */
    private String token(HttpResponse<String> done) {
        assertThat(done.headers().firstValue("Location").orElseThrow()).isEqualTo(api.base() + "/app/#/dashboard");
        String cookie = done.headers().allValues("Set-Cookie").stream()
                .filter(c -> c.startsWith("kikonect_session="))
                .findFirst()
                .orElseThrow();
        assertThat(cookie).contains("HttpOnly").contains("SameSite=Strict");
        return cookie.substring("kikonect_session=".length(), cookie.indexOf(';'));
    }

    private static String error(HttpResponse<String> done) {
        assertThat(done.headers().allValues("Set-Cookie")).noneMatch(c -> c.startsWith("kikonect_session=kks_"));
        String landing = done.headers().firstValue("Location").orElseThrow();
        assertThat(landing).contains("/app/#/login?sso_error=");
        String code = URLDecoder.decode(landing.substring(landing.indexOf("sso_error=") + 10), StandardCharsets.UTF_8);
        assertThat(code).as("a code the page words, never text").matches("[a-z_]+");
        return code;
    }

    @Test
    void the_login_page_lists_the_configured_providers() {
        Map<String, JsonNode> byId = new HashMap<>();
        api.get("/sso", null)
                .json()
                .path("items")
                .forEach(i -> byId.put(i.path("id").asString(), i));
        assertThat(byId).containsOnlyKeys("corp", "down");
        assertThat(byId.get("corp").path("name").asString()).isEqualTo("Corp ID");
        assertThat(byId.get("corp").path("start_url").asString()).isEqualTo("/sso/corp/start");
        assertThat(byId.get("down").path("name").asString())
                .as("the id when no name is set")
                .isEqualTo("down");
        assertThat(api.get("/sso/nope/start", null).status()).isEqualTo(404);
    }

    @Test
    void a_first_sign_in_creates_the_user_and_the_next_one_finds_them_again() throws Exception {
        String email = "grace-" + UUID.randomUUID() + "@corp.example";
        nextSignIn(email, true);
        String token = token(signIn(false));
        JsonNode me = api.get("/me", token).json();
        assertThat(me.path("email").asString()).isEqualTo(email);
        assertThat(me.path("firstname").asString()).isEqualTo("Grace");
        assertThat(api.get("/workspaces", token).json().path("items")).hasSize(1);

        nextSignIn(email.toUpperCase(), true);
        String again = token(signIn(false));
        assertThat(api.get("/me", again).json().path("id").asLong())
                .isEqualTo(me.path("id").asLong());
        JsonNode audit = api.get("/audit?action=user.signed_in", again).json().path("items");
        assertThat(audit).hasSize(2);
        assertThat(audit.get(0).path("changes").path("method").asString()).isEqualTo("sso");
    }

    @Test
    void an_account_registered_with_a_password_is_opened_by_sso_only_once_its_owner_links_the_provider()
            throws Exception {
        Api.User ada = api.newUser(); // registered with a password, user-...@example.com: nobody proved the address
        long team = api.post("/workspaces", ada.token(), Map.of("name", "SSO only"))
                .json()
                .path("id")
                .asLong();
        api.in(team).send("PATCH", "/workspace", ada.token(), "application/json", "{\"require_sso\":true}");
        assertThat(api.in(team).get("/workflows", ada.token()).status()).isEqualTo(403);
        assertThat(api.get("/me", ada.token()).json().path("email_verified").asBoolean())
                .isFalse();

        nextSignIn(ada.email(), true);
        assertThat(error(signIn(false))).isEqualTo("link_required");

        nextSignIn(ada.email(), true);
        HttpResponse<String> linked = flow("/sso/corp/link", ada.token(), false);
        assertThat(linked.headers().firstValue("Location").orElseThrow())
                .isEqualTo(api.base() + "/app/#/account?sso_linked=corp");
        assertThat(api.get("/me", ada.token()).json().path("email_verified").asBoolean())
                .isTrue();

        nextSignIn(ada.email(), true);
        String token = token(signIn(false));
        assertThat(api.get("/me", token).json().path("id").asLong()).isEqualTo(ada.id());
        assertThat(api.in(team).get("/workflows", token).status()).isEqualTo(200);
    }

    @Test
    void an_address_registered_first_by_someone_else_does_not_hand_them_the_victims_single_sign_on() throws Exception {
        String victim = "victim-" + UUID.randomUUID() + "@corp.example";
        Api.Response registered = api.post(
                "/register",
                null,
                Map.of("email", victim, "password", "attacker's password 1", "firstname", "M", "lastname", "X"));
        assertThat(registered.status()).isEqualTo(201);
        String attacker = api.post("/login", null, Map.of("email", victim, "password", "attacker's password 1"))
                .json()
                .path("token")
                .asString();
        api.post(
                "/workflows",
                attacker,
                Map.of("name", "planted", "trigger_type", "manual", "action_url", "https://example.com/x"));

        nextSignIn(victim, true); // the victim's first single sign-on
        assertThat(error(signIn(false))).isEqualTo("link_required");

        // Nor can the attacker link the victim's identity while signed in: the provider signs in someone else.
        nextSignIn("someone-" + UUID.randomUUID() + "@corp.example", true);
        HttpResponse<String> refused = flow("/sso/corp/link", attacker, false);
        assertThat(refused.headers().firstValue("Location").orElseThrow())
                .isEqualTo(api.base() + "/app/#/account?sso_error=link_mismatch");
    }

    @Test
    void a_link_flow_needs_a_browser_session_and_the_same_account_at_the_callback() throws Exception {
        Api.User ada = api.newUser();
        String key = api.post("/api-keys", ada.token(), Map.of("name", "ci"))
                .json()
                .path("key")
                .asString();
        assertThat(api.get("/sso/corp/link", key).status())
                .as("an API key cannot link")
                .isEqualTo(403);
        assertThat(api.get("/sso/corp/link", null).status()).isEqualTo(401);
    }

    @Test
    void the_providers_error_text_never_reaches_the_login_page() throws Exception {
        HttpResponse<String> phished = http.send(
                HttpRequest.newBuilder(URI.create(api.base()
                                + "/sso/corp/callback?error=access_denied&error_description="
                                + URLEncoder.encode("Call +1 555 0100 to unlock your account", StandardCharsets.UTF_8)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(error(phished)).isEqualTo("provider_error");
        assertThat(phished.headers().firstValue("Location").orElseThrow()).doesNotContain("555");
    }

    @Test
    void unverified_emails_other_domains_and_forged_states_are_refused_with_a_reason() throws Exception {
        nextSignIn("someone@corp.example", false);
        assertThat(error(signIn(false))).isEqualTo("email_unverified");

        nextSignIn("mallory@elsewhere.example", true);
        assertThat(error(signIn(false))).isEqualTo("domain_not_allowed");

        nextSignIn("ok@corp.example", true);
        assertThat(error(signIn(true))).isEqualTo("expired");

        // a callback without the cookie (another browser, or an attacker's link)
        HttpResponse<String> bare = http.send(
                HttpRequest.newBuilder(URI.create(api.base() + "/sso/corp/callback?code=x&state=y"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(error(bare)).isEqualTo("expired");
    }
}
