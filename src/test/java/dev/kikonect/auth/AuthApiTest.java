package dev.kikonect.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

class AuthApiTest extends ApiTest {

    @Autowired
    JdbcClient jdbc;

    private static Map<String, Object> registration(String email) {
        Map<String, Object> body = new HashMap<>();
        body.put("email", email);
        body.put("password", "s3cret-enough");
        body.put("firstname", "Grace");
        body.put("lastname", "Hopper");
        return body;
    }

    private static String uniqueEmail() {
        return "grace-" + UUID.randomUUID() + "@example.com";
    }

    @Test
    void register_returns_201_with_the_user_and_never_the_hash() {
        String email = uniqueEmail();
        Api.Response response = api.post("/register", null, registration(email));

        assertThat(response.status()).isEqualTo(201);
        assertThat(response.json().path("email").asString()).isEqualTo(email);
        assertThat(response.json().path("firstname").asString()).isEqualTo("Grace");
        assertThat(response.json().path("id").asLong()).isPositive();
        assertThat(response.body()).doesNotContain("password").doesNotContain("argon2");
    }

    @Test
    void passwords_are_stored_as_argon2id_at_owasp_parameters() {
        String email = uniqueEmail();
        api.post("/register", null, registration(email));

        String hash = jdbc.sql("SELECT password_hash FROM users WHERE email = :e")
                .param("e", email)
                .query(String.class)
                .single();
        assertThat(hash).startsWith("$argon2id$v=19$m=19456,t=2,p=1$").doesNotContain("s3cret-enough");
    }

    @Test
    void registering_a_taken_email_in_another_case_answers_as_a_new_account_would_and_changes_nothing() {
        String email = uniqueEmail();
        Api.Response first = api.post("/register", null, registration(email));
        assertThat(first.status()).isEqualTo(201);

        Map<String, Object> other = registration(email.toUpperCase());
        other.put("password", "another-secret-9");
        Api.Response again = api.post("/register", null, other);
        assertThat(again.status())
                .as("no mail is set up here: still no enumeration")
                .isEqualTo(201);
        assertThat(again.json().propertyNames())
                .containsExactlyInAnyOrderElementsOf(first.json().propertyNames());
        assertThat(again.json().path("id").asLong())
                .isNotEqualTo(first.json().path("id").asLong());
        assertThat(jdbc.sql("SELECT count(*) FROM users WHERE lower(email) = lower(:e)")
                        .param("e", email)
                        .query(Long.class)
                        .single())
                .isEqualTo(1);
        assertThat(api.post("/login", null, Map.of("email", email, "password", "another-secret-9"))
                        .status())
                .isEqualTo(401);
        assertThat(api.post("/login", null, Map.of("email", email, "password", "s3cret-enough"))
                        .status())
                .isEqualTo(200);
    }

    @Test
    void invalid_registrations_are_400_naming_every_bad_field() {
        Map<String, Object> body = new HashMap<>();
        body.put("email", "not-an-email");
        body.put("password", "short");
        Api.Response response = api.post("/register", null, body);

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(fields(response)).containsExactlyInAnyOrder("email", "password", "firstname", "lastname");
    }

    @Test
    void a_password_over_1024_characters_is_refused() {
        Map<String, Object> body = registration(uniqueEmail());
        body.put("password", "x".repeat(1025));
        Api.Response response = api.post("/register", null, body);

        assertThat(response.status()).isEqualTo(400);
        assertThat(fields(response)).containsExactly("password");
    }

    @Test
    void login_returns_a_bearer_token_that_expires_in_seven_days() {
        Api.User user = api.newUser();
        Api.Response login =
                api.post("/login", null, Map.of("email", user.email().toUpperCase(), "password", user.password()));

        assertThat(login.status()).isEqualTo(200);
        JsonNode json = login.json();
        assertThat(json.path("token_type").asString()).isEqualTo("Bearer");
        // 32 random bytes in URL-safe base64 after the prefix: 256 bits.
        assertThat(json.path("token").asString()).matches("kks_[A-Za-z0-9_-]{43}");
        Instant expires = Instant.parse(json.path("expires_at").asString());
        assertThat(Duration.between(clock.instant(), expires))
                .isBetween(Duration.ofDays(7).minusMinutes(1), Duration.ofDays(7));
        assertThat(json.path("user").path("email").asString()).isEqualTo(user.email());
    }

    @Test
    void tokens_are_stored_only_as_hashes() {
        Api.User user = api.newUser();
        byte[] raw = user.token().getBytes(StandardCharsets.UTF_8);
        List<byte[]> stored = jdbc.sql("SELECT token_hash FROM sessions WHERE user_id = :u")
                .param("u", user.id())
                .query(byte[].class)
                .list();

        assertThat(stored)
                .isNotEmpty()
                .allSatisfy(hash -> assertThat(hash).hasSize(32).isNotEqualTo(raw));
    }

    @Test
    void unknown_email_and_wrong_password_get_the_same_401() {
        Api.User user = api.newUser();
        Api.Response wrongPassword =
                api.post("/login", null, Map.of("email", user.email(), "password", "wrong password"));
        Api.Response unknownEmail =
                api.post("/login", null, Map.of("email", uniqueEmail(), "password", "wrong password"));

        assertThat(wrongPassword.status()).isEqualTo(401);
        assertThat(unknownEmail.status()).isEqualTo(401);
        assertThat(unknownEmail.body()).isEqualTo(wrongPassword.body());
    }

    @Test
    void me_returns_the_caller_and_requires_a_valid_token() {
        Api.User user = api.newUser();

        Api.Response me = api.get("/me", user.token());
        assertThat(me.status()).isEqualTo(200);
        assertThat(me.json().path("id").asLong()).isEqualTo(user.id());

        assertThat(api.get("/me", null).status()).isEqualTo(401);
        Api.Response forged = api.get("/me", "kks_" + "A".repeat(43));
        assertThat(forged.status()).isEqualTo(401);
        assertThat(forged.contentType()).startsWith("application/problem+json");
    }

    @Test
    void logout_revokes_the_token() {
        Api.User user = api.newUser();

        assertThat(api.post("/logout", user.token(), "").status()).isEqualTo(204);
        assertThat(api.get("/me", user.token()).status()).isEqualTo(401);
    }

    @Test
    void an_expired_token_is_refused() {
        Api.User user = api.newUser();
        clock.advance(Duration.ofDays(7).plusMinutes(1));
        try {
            assertThat(api.get("/me", user.token()).status()).isEqualTo(401);
        } finally {
            clock.advance(Duration.ofDays(7).plusMinutes(1).negated());
        }
    }

    static List<String> fields(Api.Response response) {
        return response.json()
                .path("errors")
                .valueStream()
                .map(e -> e.path("field").asString())
                .toList();
    }
}
