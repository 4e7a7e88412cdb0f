package dev.kikonect.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.net.ServerSocket;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The whole loop through real HTTP: trigger or webhook in, run and job in PostgreSQL, delivery to a real sink. */
class TriggerAndDeliveryTest extends ApiTest {

    private final Sink sink = new Sink();

    @AfterEach
    void closeSink() {
        sink.close();
    }

    private String hookUrl(Api.User user) {
        return api.createWorkflow(user, "webhook", sink.url(), Map.of())
                .path("webhook_url")
                .asString();
    }

    /** A webhook workflow that gives up after the first attempt, for tests about one failure's reason. */
    private String hookUrlWithoutRetries(Api.User user, String actionUrl) {
        return api.createWorkflow(user, "webhook", actionUrl, Map.of(), Map.of("max_attempts", 1))
                .path("webhook_url")
                .asString();
    }

    @Test
    void a_webhook_is_accepted_and_its_json_arrives_at_the_sink_byte_for_byte() {
        Api.User user = api.newUser();
        String payload = "{\"b\": 1,\n  \"a\": [1.50, \"ü\\u00e9\"], \"big\": 12345678901234567890}";

        Api.Response accepted = api.send("POST", hookUrl(user), null, "application/json", payload);

        assertThat(accepted.status()).isEqualTo(202);
        JsonNode run = accepted.json();
        assertThat(run.path("status").asString()).isEqualTo("pending");
        assertThat(run.path("trigger").asString()).isEqualTo("webhook");
        assertThat(accepted.header("Location"))
                .isEqualTo("/runs/" + run.path("id").asLong());

        JsonNode finished = awaitFinished(user, run.path("id").asLong());
        assertThat(finished.path("status").asString()).isEqualTo("succeeded");
        assertThat(sink.received()).hasSize(1);
        Sink.Received delivery = sink.received().get(0);
        assertThat(delivery.method()).isEqualTo("POST");
        assertThat(delivery.body()).isEqualTo(payload);
        assertThat(delivery.header("content-type")).isEqualTo("application/json");
        assertThat(delivery.header("user-agent")).matches("KiKonect/\\S+");
        assertThat(delivery.header("webhook-id")).startsWith("msg_");
    }

    @Test
    void a_finished_run_records_its_timeline() {
        Api.User user = api.newUser();
        long runId = api.send("POST", hookUrl(user), null, "application/json", "{}")
                .json()
                .path("id")
                .asLong();

        JsonNode run = awaitFinished(user, runId);

        Instant created = Instant.parse(run.path("created_at").asString());
        Instant started = Instant.parse(run.path("started_at").asString());
        Instant ended = Instant.parse(run.path("ended_at").asString());
        assertThat(started).isAfterOrEqualTo(created);
        assertThat(ended).isAfterOrEqualTo(started);
        assertThat(run.path("error").isNull()).isTrue();
        assertThat(run.path("attempt_count").asInt()).isEqualTo(1);
        assertThat(run.path("attempts").size()).isEqualTo(1);
        assertThat(run.path("attempts").get(0).path("response_status").asInt()).isEqualTo(200);
    }

    @Test
    void a_form_post_becomes_a_json_object() {
        Api.User user = api.newUser();
        api.send("POST", hookUrl(user), null, "application/x-www-form-urlencoded", "name=Ada+L&tag=a&tag=b%26c");

        eventually().until(() -> sink.received().size() == 1);
        JsonNode delivered = Api.JSON.readTree(sink.received().get(0).body());
        assertThat(delivered.path("name").asString()).isEqualTo("Ada L");
        assertThat(delivered.path("tag").valueStream().map(JsonNode::asString).toList())
                .containsExactly("a", "b&c");
    }

    @Test
    void an_empty_body_is_delivered_as_an_empty_object() {
        Api.User user = api.newUser();
        Api.Response accepted = api.send("POST", hookUrl(user), null, null, null);

        assertThat(accepted.status()).isEqualTo(202);
        eventually().until(() -> sink.received().size() == 1);
        assertThat(sink.received().get(0).body()).isEqualTo("{}");
    }

    @Test
    void an_unknown_hook_token_is_404() {
        Api.Response response = api.send("POST", "/hooks/no-such-token", null, "application/json", "{}");

        assertThat(response.status()).isEqualTo(404);
        assertThat(response.contentType()).startsWith("application/problem+json");
    }

    @Test
    void other_content_types_are_415_and_invalid_json_is_400() {
        Api.User user = api.newUser();
        String url = hookUrl(user);

        assertThat(api.send("POST", url, null, "text/plain", "hello").status()).isEqualTo(415);
        Api.Response invalid = api.send("POST", url, null, "application/json", "{\"a\":");
        assertThat(invalid.status()).isEqualTo(400);
        assertThat(invalid.contentType()).startsWith("application/problem+json");
    }

    @Test
    void bodies_over_one_mebibyte_are_413() {
        Api.User user = api.newUser();
        String big = "{\"x\":\"" + "a".repeat(1024 * 1024) + "\"}";

        Api.Response response = api.send("POST", hookUrl(user), null, "application/json", big);

        assertThat(response.status()).isEqualTo(413);
        assertThat(response.contentType()).startsWith("application/problem+json");
    }

    @Test
    void a_manual_trigger_is_accepted_with_the_run_and_its_location() {
        Api.User user = api.newUser();
        long workflowId = api.createWorkflow(user, "manual", sink.url(), Map.of())
                .path("id")
                .asLong();

        Api.Response accepted = api.post("/workflows/" + workflowId + "/trigger", user.token(), "{\"n\":42}");

        assertThat(accepted.status()).isEqualTo(202);
        JsonNode run = accepted.json();
        assertThat(run.path("workflow_id").asLong()).isEqualTo(workflowId);
        assertThat(run.path("status").asString()).isEqualTo("pending");
        assertThat(run.path("trigger").asString()).isEqualTo("manual");
        assertThat(run.path("payload").path("n").asInt()).isEqualTo(42);
        assertThat(accepted.header("Location"))
                .isEqualTo("/runs/" + run.path("id").asLong());
        assertThat(awaitFinished(user, run.path("id").asLong()).path("status").asString())
                .isEqualTo("succeeded");
        assertThat(sink.received().get(0).body()).isEqualTo("{\"n\":42}");
    }

    @Test
    void a_manual_trigger_with_an_empty_body_delivers_an_empty_object() {
        Api.User user = api.newUser();
        long workflowId = api.createWorkflow(user, "manual", sink.url(), Map.of())
                .path("id")
                .asLong();

        Api.Response accepted = api.send("POST", "/workflows/" + workflowId + "/trigger", user.token(), null, null);

        assertThat(accepted.status()).isEqualTo(202);
        assertThat(accepted.json().path("payload").isObject()).isTrue();
        eventually().until(() -> sink.received().size() == 1);
        assertThat(sink.received().get(0).body()).isEqualTo("{}");
    }

    @Test
    void a_500_from_the_action_fails_the_run_with_that_reason() {
        sink.replyWith(500);
        Api.User user = api.newUser();
        long runId = api.send("POST", hookUrlWithoutRetries(user, sink.url()), null, "application/json", "{}")
                .json()
                .path("id")
                .asLong();

        JsonNode run = awaitFinished(user, runId);

        assertThat(run.path("status").asString()).isEqualTo("failed");
        assertThat(run.path("error").asString()).isEqualTo("HTTP 500");
    }

    @Test
    void an_action_that_never_answers_fails_the_run_by_timeout() {
        sink.replyWith(r -> Sink.Reply.hanging());
        Api.User user = api.newUser();
        long runId = api.send("POST", hookUrlWithoutRetries(user, sink.url()), null, "application/json", "{}")
                .json()
                .path("id")
                .asLong();

        JsonNode run = awaitFinished(user, runId);

        assertThat(run.path("status").asString()).isEqualTo("failed");
        assertThat(run.path("error").asString()).isEqualTo("timed out after 1s");
    }

    @Test
    void a_closed_port_fails_the_run_with_connection_refused() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        Api.User user = api.newUser();
        String url = hookUrlWithoutRetries(user, "http://127.0.0.1:" + closedPort + "/x");
        long runId = api.send("POST", url, null, "application/json", "{}")
                .json()
                .path("id")
                .asLong();

        JsonNode run = awaitFinished(user, runId);

        assertThat(run.path("status").asString()).isEqualTo("failed");
        assertThat(run.path("error").asString()).isEqualTo("connection refused");
    }

    @Test
    void a_redirect_is_not_followed_and_fails_the_run() {
        try (Sink elsewhere = new Sink()) {
            sink.replyWith(r -> new Sink.Reply(302, Map.of("Location", elsewhere.url()), "", false));
            Api.User user = api.newUser();
            long runId = api.send("POST", hookUrl(user), null, "application/json", "{}")
                    .json()
                    .path("id")
                    .asLong();

            JsonNode run = awaitFinished(user, runId);

            assertThat(run.path("status").asString()).isEqualTo("failed");
            assertThat(run.path("error").asString()).isEqualTo("HTTP 302");
            assertThat(elsewhere.received()).isEmpty();
        }
    }

    @Test
    void a_slow_action_does_not_hold_up_other_deliveries() {
        try (Sink slow = new Sink().replyWith(r -> Sink.Reply.hanging())) {
            Api.User user = api.newUser();
            String slowHook = api.createWorkflow(user, "webhook", slow.url(), Map.of())
                    .path("webhook_url")
                    .asString();
            String fastHook = hookUrl(user);
            for (int i = 0; i < 20; i++) {
                api.send("POST", slowHook, null, "application/json", "{}");
            }
            eventually().until(() -> slow.received().size() == 20);

            long fastRun = api.send("POST", fastHook, null, "application/json", "{}")
                    .json()
                    .path("id")
                    .asLong();

            assertThat(awaitFinished(user, fastRun).path("status").asString()).isEqualTo("succeeded");
            assertThat(slow.received()).hasSize(20);
        }
    }

    @Test
    void runs_are_listed_newest_first_and_read_only_by_their_owner() {
        Api.User alice = api.newUser();
        Api.User bob = api.newUser();
        JsonNode wf = api.createWorkflow(alice, "webhook", sink.url(), Map.of());
        long workflowId = wf.path("id").asLong();
        long first = api.send("POST", wf.path("webhook_url").asString(), null, "application/json", "{}")
                .json()
                .path("id")
                .asLong();
        long second = api.send("POST", wf.path("webhook_url").asString(), null, "application/json", "{}")
                .json()
                .path("id")
                .asLong();

        Api.Response list = api.get("/workflows/" + workflowId + "/runs", alice.token());
        assertThat(list.json()
                        .path("items")
                        .valueStream()
                        .map(r -> r.path("id").asLong())
                        .toList())
                .containsExactly(second, first);
        assertThat(api.get("/runs/" + first, alice.token()).status()).isEqualTo(200);

        assertThat(api.get("/workflows/" + workflowId + "/runs", bob.token()).status())
                .isEqualTo(404);
        assertThat(api.get("/runs/" + first, bob.token()).status()).isEqualTo(404);
        assertThat(api.post("/workflows/" + workflowId + "/trigger", bob.token(), "{}")
                        .status())
                .isEqualTo(404);
        assertThat(api.get("/workflows", bob.token()).json().path("items").size())
                .isZero();
    }
}
