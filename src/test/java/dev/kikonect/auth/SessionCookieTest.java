package dev.kikonect.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The web app's session cookie: HttpOnly, SameSite=Strict, survives reloads, and changes need the CSRF header. */
class SessionCookieTest extends ApiTest {

    private static String cookieOf(Api.Response response) {
        String header = response.raw().headers().allValues("Set-Cookie").stream()
                .filter(c -> c.startsWith("kikonect_session="))
                .findFirst()
                .orElseThrow();
        return header;
    }

    @Test
    void signing_in_the_browser_way_sets_an_httponly_strict_cookie_and_never_shows_the_token() {
        Api.User ada = api.newUser();
        Api.Response signedIn = api.post("/session", null, Map.of("email", ada.email(), "password", ada.password()));
        assertThat(signedIn.status()).isEqualTo(200);
        assertThat(signedIn.json().has("token")).isFalse();
        assertThat(signedIn.json().path("user").path("email").asString()).isEqualTo(ada.email());
        String header = cookieOf(signedIn);
        assertThat(header)
                .contains("HttpOnly")
                .contains("SameSite=Strict")
                .contains("Path=/")
                .contains("Max-Age=");
        assertThat(header).doesNotContain("Secure"); // plain http here; https adds Secure
        String cookie = header.substring(0, header.indexOf(';'));
        assertThat(signedIn.body()).doesNotContain(cookie.substring("kikonect_session=".length()));

        // a "reload": the app asks whether the cookie holds a session (200 either way), and it is signed in
        assertThat(api.get("/session", null).json().path("user").isNull()).isTrue();
        assertThat(api.send("GET", "/session", null, null, null, Map.of("Cookie", cookie))
                        .json()
                        .path("user")
                        .path("email")
                        .asString())
                .isEqualTo(ada.email());
        Api.Response me = api.send("GET", "/me", null, null, null, Map.of("Cookie", cookie));
        assertThat(me.status()).isEqualTo(200);
        assertThat(me.json().path("email").asString()).isEqualTo(ada.email());

        // a change signed in by the cookie needs the header another site cannot send
        String workflow = "{\"name\":\"w\",\"trigger_type\":\"manual\",\"action_url\":\"https://example.com/\"}";
        Api.Response forged =
                api.send("POST", "/workflows", null, "application/json", workflow, Map.of("Cookie", cookie));
        assertThat(forged.status()).isEqualTo(403);
        assertThat(forged.json().path("type").asString()).endsWith("csrf-header-missing");
        Api.Response real = api.send(
                "POST",
                "/workflows",
                null,
                "application/json",
                workflow,
                Map.of("Cookie", cookie, "X-Requested-With", "KiKonect"));
        assertThat(real.status()).isEqualTo(201);
        // Bearer tokens need no such header
        assertThat(api.post("/workflows", ada.token(), workflow).status()).isEqualTo(201);

        // signing out ends the session on the server and clears the cookie
        Api.Response out = api.send(
                "DELETE", "/session", null, null, null, Map.of("Cookie", cookie, "X-Requested-With", "KiKonect"));
        assertThat(out.status()).isEqualTo(204);
        assertThat(cookieOf(out)).contains("Max-Age=0");
        assertThat(api.send("GET", "/me", null, null, null, Map.of("Cookie", cookie))
                        .status())
                .isEqualTo(401);
    }

    @Test
    void a_wrong_password_sets_no_cookie() {
        Api.User ada = api.newUser();
        Api.Response refused = api.post("/session", null, Map.of("email", ada.email(), "password", "not the password"));
        assertThat(refused.status()).isEqualTo(401);
        assertThat(refused.raw().headers().allValues("Set-Cookie")).noneMatch(c -> c.startsWith("kikonect_session="));
    }
}
