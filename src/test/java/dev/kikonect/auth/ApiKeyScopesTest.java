package dev.kikonect.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** API keys carry a scope; each operation needs one, and no key mints a key above itself. */
class ApiKeyScopesTest extends ApiTest {

    private String key(Api.User user, String scope) {
        Api.Response created = api.post(
                "/api-keys", user.token(), scope == null ? Map.of("name", "k") : Map.of("name", "k", "scope", scope));
        assertThat(created.status()).isEqualTo(201);
        return created.json().path("key").asString();
    }

    private int createWorkflow(String token) {
        return api.post(
                        "/workflows",
                        token,
                        Map.of("name", "s", "trigger_type", "manual", "action_url", "https://example.com/in"))
                .status();
    }

    @Test
    void each_scope_does_what_it_says_and_nothing_more() {
        Api.User user = api.newUser();
        long workflow = api.createWorkflow(user, "manual", "https://example.com/in", Map.of())
                .path("id")
                .asLong();
        String read = key(user, "read");
        String trigger = key(user, "trigger");
        String write = key(user, "write");

        assertThat(api.get("/workflows", read).status()).isEqualTo(200);
        assertThat(api.get("/runs", read).status()).isEqualTo(200);
        Api.Response refused = api.post("/workflows/" + workflow + "/trigger", read, "{}");
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.json().path("type").asString()).endsWith("insufficient-scope");
        assertThat(refused.json().path("detail").asString()).contains("read").contains("trigger");
        assertThat(createWorkflow(read)).isEqualTo(403);

        assertThat(api.post("/workflows/" + workflow + "/trigger", trigger, "{}")
                        .status())
                .isEqualTo(202);
        assertThat(createWorkflow(trigger)).isEqualTo(403);
        assertThat(api.send("DELETE", "/workflows/" + workflow, trigger, null, null)
                        .status())
                .isEqualTo(403);

        assertThat(createWorkflow(write)).isEqualTo(201);
        assertThat(api.get("/api-keys", write).status())
                .as("keys are an admin's")
                .isEqualTo(403);
        assertThat(api.post("/api-keys", write, Map.of("name", "minted")).status())
                .as("a write key mints no keys")
                .isEqualTo(403);
    }

    @Test
    void a_key_made_without_a_scope_can_write_and_an_admin_key_cannot_be_asked_for_an_unknown_scope() {
        Api.User user = api.newUser();
        String plain = key(user, null);
        assertThat(createWorkflow(plain)).isEqualTo(201);
        assertThat(api.get("/api-keys", user.token())
                        .json()
                        .path("items")
                        .get(0)
                        .path("scope")
                        .asString())
                .isEqualTo("write");

        String admin = key(user, "admin");
        assertThat(api.post("/api-keys", admin, Map.of("name", "by a key", "scope", "admin"))
                        .status())
                .isEqualTo(201);
        Api.Response bad = api.post("/api-keys", admin, Map.of("name", "x", "scope", "root"));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().path("errors").get(0).path("field").asString()).isEqualTo("scope");
    }
}
