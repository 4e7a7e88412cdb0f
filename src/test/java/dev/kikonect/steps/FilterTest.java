package dev.kikonect.steps;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/** A workflow's filter: runs it says no to are recorded as filtered, never delivered, and counted. */
class FilterTest extends ApiTest {

    @Autowired
    JdbcClient jdbc;

    private JsonNode create(Api.User user, String type, String url, String filter) {
        Api.Response created = api.post(
                "/workflows",
                user.token(),
                Map.of("name", "f", "trigger_type", type, "action_url", url, "filter", filter));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json();
    }

    @Test
    void a_stripe_stream_narrowed_to_invoice_paid_delivers_only_that_and_records_the_rest_as_filtered() {
        try (Sink sink = new Sink()) {
            Api.User user = api.newUser();
            JsonNode wf = create(user, "webhook", sink.url(), "payload.type = 'invoice.paid'");
            assertThat(wf.path("filter").asString()).isEqualTo("payload.type = 'invoice.paid'");
            String hook = wf.path("webhook_url").asString();

            Api.Response created =
                    api.send("POST", hook, null, "application/json", "{\"type\":\"invoice.created\",\"id\":\"evt_1\"}");
            Api.Response paid =
                    api.send("POST", hook, null, "application/json", "{\"type\":\"invoice.paid\",\"id\":\"evt_2\"}");

            assertThat(created.status()).isEqualTo(202);
            assertThat(created.json().path("status").asString()).isEqualTo("filtered");
            assertThat(paid.status()).isEqualTo(202);
            awaitFinished(user, paid.json().path("id").asLong());
            eventually().until(() -> sink.received().size() == 1);
            assertThat(sink.received().get(0).body()).contains("evt_2");
            JsonNode filteredRun = api.get("/runs/" + created.json().path("id").asLong(), user.token())
                    .json();
            assertThat(filteredRun.path("status").asString()).isEqualTo("filtered");
            assertThat(filteredRun.path("attempts")).isEmpty();
            assertThat(api.get("/stats", user.token())
                            .json()
                            .path("by_status")
                            .path("filtered")
                            .asLong())
                    .isEqualTo(1);
            assertThat(api.get("/runs?status=filtered", user.token()).json().path("items"))
                    .hasSize(1);
        }
    }

    @Test
    void a_filter_can_read_the_incoming_headers_and_a_failing_filter_fails_the_run_with_its_reason() {
        try (Sink sink = new Sink()) {
            Api.User user = api.newUser();
            String hook = create(user, "webhook", sink.url(), "headers.'x-github-event' = 'push'")
                    .path("webhook_url")
                    .asString();
            Api.Response ping = api.send("POST", hook, null, "application/json", "{}");
            assertThat(ping.json().path("status").asString()).isEqualTo("filtered");

            long manual = create(user, "manual", sink.url(), "payload.n + 1 > 2")
                    .path("id")
                    .asLong();
            Api.Response bad = api.post("/workflows/" + manual + "/trigger", user.token(), "{\"n\":\"not a number\"}");
            assertThat(bad.status()).isEqualTo(202);
            JsonNode run = api.get("/runs/" + bad.json().path("id").asLong(), user.token())
                    .json();
            assertThat(run.path("status").asString()).isEqualTo("failed");
            assertThat(run.path("error").asString()).startsWith("filter: ");
            Api.Response good = api.post("/workflows/" + manual + "/trigger", user.token(), "{\"n\":5}");
            assertThat(awaitFinished(user, good.json().path("id").asLong())
                            .path("status")
                            .asString())
                    .isEqualTo("succeeded");
            assertThat(sink.received()).hasSize(1);
        }
    }

    @Test
    void a_filter_that_does_not_parse_is_a_400_with_its_position_and_null_removes_a_filter() {
        Api.User user = api.newUser();
        Api.Response refused = api.post(
                "/workflows",
                user.token(),
                Map.of(
                        "name",
                        "f",
                        "trigger_type",
                        "manual",
                        "action_url",
                        "https://example.com/in",
                        "filter",
                        "payload.(type = 'a'"));
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.json().path("errors").get(0).path("field").asString())
                .isEqualTo("filter");
        assertThat(refused.json().path("errors").get(0).path("reason").asString())
                .contains("position");

        long id = create(user, "manual", "https://example.com/in", "true")
                .path("id")
                .asLong();
        Map<String, Object> patch = new HashMap<>();
        patch.put("filter", null);
        Api.Response patched = api.send(
                "PATCH", "/workflows/" + id, user.token(), "application/json", Api.JSON.writeValueAsString(patch));
        assertThat(patched.status()).isEqualTo(200);
        assertThat(patched.json().path("filter").isNull()).isTrue();
    }

    @Test
    void a_run_failed_by_its_filter_is_not_retried_and_a_run_failed_otherwise_is_whatever_its_message_says() {
        try (Sink sink = new Sink()) {
            sink.replyWith(r -> Sink.Reply.status(500));
            Api.User user = api.newUser();
            long manual = create(user, "manual", sink.url(), "payload.n + 1 > 2")
                    .path("id")
                    .asLong();
            assertThat(api.send(
                                    "PATCH",
                                    "/workflows/" + manual,
                                    user.token(),
                                    "application/json",
                                    "{\"max_attempts\":1}")
                            .status())
                    .isEqualTo(200);
            long byFilter = api.post("/workflows/" + manual + "/trigger", user.token(), "{\"n\":\"not a number\"}")
                    .json()
                    .path("id")
                    .asLong();
            long byReceiver = api.post("/workflows/" + manual + "/trigger", user.token(), "{\"n\":5}")
                    .json()
                    .path("id")
                    .asLong();
            assertThat(awaitFinished(user, byReceiver).path("status").asString())
                    .isEqualTo("failed");
            // The retry decision does not read the message: a failure that merely reads like a filter's is retried.
            jdbc.sql("UPDATE workflow_runs SET error = 'filter: reads like one' WHERE id = :id")
                    .param("id", byReceiver)
                    .update();

            Api.Response refused = api.post("/runs/" + byFilter + "/retry", user.token(), Map.of());
            Api.Response retried = api.post("/runs/" + byReceiver + "/retry", user.token(), Map.of());

            assertThat(refused.status()).isEqualTo(409);
            assertThat(refused.json().path("detail").asString()).contains("failed in its filter");
            assertThat(retried.status()).isEqualTo(202);
            eventually().until(() -> sink.received().size() == 2);
        }
    }
}
