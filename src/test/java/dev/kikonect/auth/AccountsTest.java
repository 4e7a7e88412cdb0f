package dev.kikonect.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

class AccountsTest extends ApiTest {

    @Autowired
    MeterRegistry meters;

    @Test
    void an_api_key_is_shown_once_works_as_a_bearer_token_and_stops_when_deleted() {
        Api.User user = api.newUser();
        Api.Response created = api.post("/api-keys", user.token(), Map.of("name", "CI"));
        assertThat(created.status()).isEqualTo(201);
        String key = created.json().path("key").asString();
        assertThat(key).matches("kka_[A-Za-z0-9_-]{43}");

        assertThat(api.get("/me", key).json().path("id").asLong()).isEqualTo(user.id());
        Api.Response list = api.get("/api-keys", user.token());
        assertThat(list.body()).doesNotContain(key);
        assertThat(list.json().path("items").get(0).path("name").asString()).isEqualTo("CI");
        assertThat(list.json().path("items").get(0).path("last_used_at").isNull())
                .isFalse();

        long id = created.json().path("id").asLong();
        assertThat(api.send("DELETE", "/api-keys/" + id, api.newUser().token(), null, null)
                        .status())
                .isEqualTo(404);
        assertThat(api.send("DELETE", "/api-keys/" + id, user.token(), null, null)
                        .status())
                .isEqualTo(204);
        assertThat(api.get("/me", key).status()).isEqualTo(401);
    }

    @Test
    void an_expired_api_key_is_refused() {
        Api.User user = api.newUser();
        String expires = clock.instant().plus(Duration.ofMinutes(5)).toString();
        String key = api.post("/api-keys", user.token(), Map.of("name", "short", "expires_at", expires))
                .json()
                .path("key")
                .asString();
        assertThat(api.get("/me", key).status()).isEqualTo(200);

        clock.advance(Duration.ofMinutes(6));
        try {
            assertThat(api.get("/me", key).status()).isEqualTo(401);
        } finally {
            clock.advance(Duration.ofMinutes(-6));
        }
    }

    @Test
    void changing_the_password_revokes_the_other_sessions() {
        Api.User user = api.newUser();
        String other = api.post("/login", null, Map.of("email", user.email(), "password", user.password()))
                .json()
                .path("token")
                .asString();
        String key = api.post("/api-keys", user.token(), Map.of("name", "ci", "scope", "admin"))
                .json()
                .path("key")
                .asString();
        Api.Response byKey = api.post(
                "/password",
                key,
                Map.of("current_password", user.password(), "new_password", "a password the key chose"));
        assertThat(byKey.status())
                .as("an API key never changes its maker's password")
                .isEqualTo(403);
        assertThat(byKey.json().path("type").asString()).endsWith("session-required");

        Api.Response wrong = api.post(
                "/password",
                user.token(),
                Map.of("current_password", "nope nope", "new_password", "a brand new password"));
        assertThat(wrong.status()).isEqualTo(400);
        assertThat(api.post(
                                "/password",
                                user.token(),
                                Map.of("current_password", user.password(), "new_password", "short"))
                        .status())
                .isEqualTo(400);
        Api.Response changed = api.post(
                "/password",
                user.token(),
                Map.of("current_password", user.password(), "new_password", "a brand new password"));

        assertThat(changed.status()).isEqualTo(204);
        assertThat(api.get("/me", other).status()).isEqualTo(401);
        assertThat(api.get("/me", user.token()).status()).isEqualTo(200);
        assertThat(api.post("/login", null, Map.of("email", user.email(), "password", "a brand new password"))
                        .status())
                .isEqualTo(200);
        assertThat(api.post("/login", null, Map.of("email", user.email(), "password", user.password()))
                        .status())
                .isEqualTo(401);
    }

    @Test
    void twenty_wrong_passwords_lock_the_account_and_the_right_one_works_after_the_wait() {
        Api.User user = api.newUser();
        List<Integer> statuses = new ArrayList<>();
        String retryAfter = null;
        for (int i = 0; i < 20; i++) {
            Api.Response r = api.post("/login", null, Map.of("email", user.email(), "password", "wrong password " + i));
            statuses.add(r.status());
            if (r.status() == 429) {
                retryAfter = r.header("Retry-After");
            }
        }
        assertThat(statuses).contains(401, 429);
        assertThat(retryAfter).isNotNull();
        assertThat(api.post("/login", null, Map.of("email", user.email(), "password", user.password()))
                        .status())
                .isEqualTo(429);

        clock.advance(Duration.ofSeconds(Long.parseLong(retryAfter) + 1));
        assertThat(api.post("/login", null, Map.of("email", user.email(), "password", user.password()))
                        .status())
                .isEqualTo(200);
    }

    @Test
    void an_unknown_email_and_a_wrong_password_cannot_be_told_apart() {
        Api.User user = api.newUser();
        double before = checks();
        Api.Response wrong = api.post("/login", null, Map.of("email", user.email(), "password", "not the password"));
        double afterWrong = checks();
        Api.Response unknown = api.post(
                "/login",
                null,
                Map.of("email", "nobody-" + UUID.randomUUID() + "@example.com", "password", "not the password"));
        double afterUnknown = checks();

        assertThat(wrong.status()).isEqualTo(401);
        assertThat(unknown.status()).isEqualTo(401);
        assertThat(unknown.body()).isEqualTo(wrong.body());
        // The same work, not the same wall-clock time (which a loaded machine cannot measure): one Argon2id
        // verification each, the unknown email's against a dummy hash. (Other tests may log in meanwhile: at least one
        // each.)
        assertThat(afterWrong - before).as("Argon2 checks for a wrong password").isGreaterThanOrEqualTo(1);
        assertThat(afterUnknown - afterWrong)
                .as("Argon2 checks for an unknown email")
                .isGreaterThanOrEqualTo(1);
    }

    private double checks() {
        return meters.counter("kikonect.auth.password.checks").count();
    }

    @Test
    void logging_out_with_an_api_key_is_refused_because_only_deleting_it_revokes_it() {
        Api.User user = api.newUser();
        String key = api.post("/api-keys", user.token(), Map.of("name", "script"))
                .json()
                .path("key")
                .asString();

        Api.Response logout = api.post("/logout", key, "");

        assertThat(logout.status()).isEqualTo(400);
        assertThat(logout.json().path("type").asString()).endsWith("api-key-logout");
        assertThat(api.get("/me", key).status())
                .as("the key still works, and the caller was told so")
                .isEqualTo(200);
    }

    @Test
    void changing_the_password_deletes_every_api_key() {
        Api.User user = api.newUser();
        String key = api.post("/api-keys", user.token(), Map.of("name", "ci"))
                .json()
                .path("key")
                .asString();
        assertThat(api.get("/me", key).status()).isEqualTo(200);

        Api.Response changed = api.post(
                "/password",
                user.token(),
                Map.of("current_password", user.password(), "new_password", "a brand new passphrase"));

        assertThat(changed.status()).isEqualTo(204);
        assertThat(api.get("/me", key).status()).isEqualTo(401);
        assertThat(api.get("/api-keys", user.token()).json().path("items").size())
                .isZero();
    }
}
