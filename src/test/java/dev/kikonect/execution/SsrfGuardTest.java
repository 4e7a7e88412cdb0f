package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

/** With the guard's defaults (nothing but public addresses), at save time and again at delivery time. */
@TestPropertySource(properties = "kikonect.delivery.allowed-cidrs=")
class SsrfGuardTest extends ApiTest {

    @Autowired
    JdbcClient jdbc;

    @ParameterizedTest(name = "{0} is refused when saved")
    @ValueSource(
            strings = {
                "http://127.0.0.1/x",
                "http://localhost:8080/x",
                "http://[::1]/x",
                "http://10.0.0.1/x",
                "http://172.16.5.4/x",
                "http://192.168.0.10/x",
                "http://169.254.169.254/latest/meta-data/",
                "http://[fe80::1]/x",
                "http://100.64.1.1/x",
                "http://[fd00::1]/x",
                "http://0.0.0.0/x",
                "http://224.0.0.5/x",
                "http://240.1.2.3/x",
                "http://255.255.255.255/x",
                "http://[::ffff:127.0.0.1]/x",
                "http://[::ffff:a9fe:a9fe]/x",
                "http://[64:ff9b::a00:1]/x",
                "http://[2002:c0a8:101::1]/x",
                "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x",
                "https://2130706433/x"
            })
    void a_non_public_action_url_is_refused_when_the_workflow_is_saved(String url) {
        Api.User user = api.newUser();
        Api.Response response =
                api.post("/workflows", user.token(), Map.of("name", "x", "trigger_type", "manual", "action_url", url));

        assertThat(response.status()).isEqualTo(400);
        JsonNode error = response.json().path("errors").get(0);
        assertThat(error.path("field").asString()).isEqualTo("action_url");
        assertThat(error.path("reason").asString()).contains("refused");
    }

    @Test
    void a_target_that_became_private_after_saving_is_refused_at_delivery_and_not_retried() {
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(user, "manual", "https://example.com/in", Map.of());
        long id = wf.path("id").asLong();
        // As if its DNS now pointed inside the network (or the row predates the guard).
        jdbc.sql(
                        "UPDATE workflows SET action_url = 'http://127.0.0.1:9/x', steps = '[{\"key\": \"deliver\", \"url\": \"http://127.0.0.1:9/x\"}]' WHERE id = :id")
                .param("id", id)
                .update();

        long runId = api.post("/workflows/" + id + "/trigger", user.token(), "{}")
                .json()
                .path("id")
                .asLong();
        JsonNode run = awaitFinished(user, runId);

        assertThat(run.path("status").asString()).isEqualTo("failed");
        assertThat(run.path("error").asString()).startsWith("refused: 127.0.0.1 is a loopback address");
        assertThat(run.path("attempts").size()).isEqualTo(1);
    }

    @Test
    void a_delivery_to_a_name_that_now_resolves_inside_fails_without_naming_the_internal_address() {
        Api.User user = api.newUser();
        long id = api.createWorkflow(user, "manual", "https://example.com/in", Map.of())
                .path("id")
                .asLong();
        jdbc.sql(
                        "UPDATE workflows SET action_url = 'http://localhost:9/x', steps = '[{\"key\": \"deliver\", \"url\": \"http://localhost:9/x\"}]' WHERE id = :id")
                .param("id", id)
                .update();

        JsonNode run = awaitFinished(
                user,
                api.post("/workflows/" + id + "/trigger", user.token(), "{}")
                        .json()
                        .path("id")
                        .asLong());

        assertThat(run.path("error").asString())
                .contains("the host resolves to a loopback address")
                .doesNotContain("127.0.0.1")
                .doesNotContain("0:0:0:0:0:0:0:1")
                .doesNotContain("::1");
    }

    @Test
    void a_host_name_that_resolves_inside_is_refused_without_naming_the_internal_address() {
        Api.User user = api.newUser();
        Api.Response response = api.post(
                "/workflows",
                user.token(),
                Map.of("name", "x", "trigger_type", "manual", "action_url", "http://localhost:8080/x"));

        String reason = response.json().path("errors").get(0).path("reason").asString();
        assertThat(reason).contains("the host resolves to a loopback address");
        assertThat(reason)
                .doesNotContain("127.0.0.1")
                .doesNotContain("0:0:0:0:0:0:0:1")
                .doesNotContain("::1");
    }
}
