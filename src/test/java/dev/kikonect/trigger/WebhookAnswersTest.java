package dev.kikonect.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Webhooks that answer their caller ({@code trigger_config.respond}, mode immediate) and take a GET
 * ({@code trigger_config.methods}), over HTTP on the real database: Slack's url_verification and Meta's hub.challenge
 * exactly as those senders send them, no run for a handshake GET the filter drops or for any HEAD, the usual 202 when
 * the answer gives no value or fails, and a 400 naming the field for what cannot be saved.
 */
class WebhookAnswersTest extends ApiTest {

    private Api.User user;

    @BeforeEach
    void user() {
        user = api.newUser();
    }

    private String hookPath(JsonNode workflow) {
        return URI.create(workflow.path("webhook_url").asString()).getRawPath();
    }

    private int runs(JsonNode workflow) {
        return api.get("/workflows/" + workflow.path("id").asLong() + "/runs?limit=100", user.token())
                .json()
                .path("items")
                .size();
    }

    @Test
    void slacks_url_verification_gets_its_challenge_back_and_its_events_run_as_usual() {
        try (Sink sink = new Sink()) {
            JsonNode workflow = api.createWorkflow(
                    user,
                    "webhook",
                    sink.url("/slack-events"),
                    Map.of(
                            "respond",
                            Map.of(
                                    "mode",
                                    "immediate",
                                    "body",
                                    "payload.type = 'url_verification' ? { 'challenge': payload.challenge }")),
                    Map.of("filter", "payload.type != 'url_verification'"));
            // As Slack sends it (api.slack.com/events/url_verification)
            Api.Response handshake = api.sendWithHeaders(
                    "POST",
                    hookPath(workflow),
                    "application/json",
                    "{\"token\":\"Jhj5dZrVaK7ZwHHjRyZWjbDl\",\"challenge\":"
                            + "\"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P\",\"type\":\"url_verification\"}",
                    Map.of("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)"));

            assertThat(handshake.status()).as(handshake.body()).isEqualTo(200);
            assertThat(handshake.contentType()).startsWith("application/json");
            assertThat(handshake.json().path("challenge").asString())
                    .isEqualTo("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");

            Api.Response event = api.sendWithHeaders(
                    "POST",
                    hookPath(workflow),
                    "application/json",
                    "{\"type\":\"event_callback\",\"event\":{\"type\":\"app_mention\",\"text\":\"hi\"}}",
                    Map.of());
            assertThat(event.status()).as(event.body()).isEqualTo(202);
            JsonNode run = awaitFinished(user, event.json().path("id").asLong());
            assertThat(run.path("status").asString()).isEqualTo("succeeded");
            assertThat(sink.received()).extracting(Sink.Received::path).containsExactly("/slack-events");
            assertThat(runs(workflow))
                    .as("the handshake (a POST) is recorded as a filtered run, the event as a delivered one")
                    .isEqualTo(2);
        }
    }

    @Test
    void metas_get_verification_gets_the_challenge_as_text_and_starts_no_run() {
        try (Sink sink = new Sink()) {
            String body = "query.`hub.mode` = 'subscribe' and query.`hub.verify_token` = 'meatyhamhock'"
                    + " ? query.`hub.challenge`";
            JsonNode workflow = api.createWorkflow(
                    user,
                    "webhook",
                    sink.url("/meta"),
                    Map.of(
                            "methods",
                            List.of("POST", "GET"),
                            "respond",
                            Map.of(
                                    "mode",
                                    "immediate",
                                    "body",
                                    body,
                                    "headers",
                                    Map.of("Cache-Control", "no-store", "Content-Type", "text/plain"))),
                    Map.of("filter", "$exists(payload.entry)"));
            assertThat(workflow.path("trigger_config").path("methods"))
                    .extracting(JsonNode::asString)
                    .containsExactly("POST", "GET");
            // As Meta sends it (developers.facebook.com/docs/graph-api/webhooks/getting-started)
            String verify =
                    hookPath(workflow) + "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock";

            Api.Response verified = api.get(verify, null);

            assertThat(verified.status()).as(verified.body()).isEqualTo(200);
            assertThat(verified.contentType()).startsWith("text/plain");
            assertThat(verified.body()).isEqualTo("1158201444");
            assertThat(verified.header("Cache-Control")).isEqualTo("no-store");
            assertThat(verified.raw().headers().allValues("Content-Type"))
                    .as("the answer's own Content-Type replaces the default")
                    .containsExactly("text/plain");

            Api.Response wrongToken = api.get(verify.replace("meatyhamhock", "guess"), null);
            assertThat(wrongToken.status()).as("no value: no content").isEqualTo(204);
            Api.Response head = api.send("HEAD", verify, null, null, null);
            assertThat(head.status()).isEqualTo(200);
            assertThat(runs(workflow))
                    .as("a handshake GET the filter drops, and a HEAD, start no run")
                    .isZero();

            Api.Response event = api.sendWithHeaders(
                    "POST",
                    hookPath(workflow),
                    "application/json",
                    "{\"object\":\"page\",\"entry\":[{\"id\":\"1\"}]}",
                    Map.of());
            assertThat(event.status())
                    .as("events (no answer of its own): the usual 202")
                    .isEqualTo(202);
            assertThat(awaitFinished(user, event.json().path("id").asLong())
                            .path("status")
                            .asString())
                    .isEqualTo("succeeded");
        }
    }

    @Test
    void a_get_to_a_webhook_that_takes_only_post_is_a_405_and_a_failing_answer_leaves_the_usual_202() {
        try (Sink sink = new Sink()) {
            JsonNode workflow = api.createWorkflow(
                    user,
                    "webhook",
                    sink.url("/x"),
                    Map.of("respond", Map.of("mode", "immediate", "body", "$error('no answer today')")));

            Api.Response get = api.get(hookPath(workflow), null);
            assertThat(get.status()).isEqualTo(405);
            assertThat(get.contentType()).startsWith("application/problem+json");

            Api.Response posted =
                    api.sendWithHeaders("POST", hookPath(workflow), "application/json", "{\"a\":1}", Map.of());
            assertThat(posted.status())
                    .as("the run is stored: a 5xx would make the sender start a second one")
                    .isEqualTo(202);
            assertThat(posted.header("KiKonect-Respond-Error")).contains("no answer today");
            assertThat(awaitFinished(user, posted.json().path("id").asLong())
                            .path("status")
                            .asString())
                    .isEqualTo("succeeded");
        }
    }

    @Test
    void what_cannot_be_an_answer_is_a_400_naming_each_field() {
        Map<String, Object> body = Map.of(
                "name",
                "bad answers",
                "trigger_type",
                "webhook",
                "action_url",
                "https://example.com/x",
                "trigger_config",
                Map.of(
                        "methods",
                        List.of("PUT"),
                        "respond",
                        Map.of(
                                "mode",
                                "later",
                                "status",
                                99,
                                "body",
                                "payload.(",
                                "headers",
                                Map.of("Set-Cookie", "a=b", "X-Ok", "{{ payload.id }}", "X-Bad", "{{ }}"))));

        Api.Response refused = api.post("/workflows", user.token(), body);

        assertThat(refused.status()).isEqualTo(400);
        Set<String> fields = new HashSet<>();
        refused.json().path("errors").forEach(e -> fields.add(e.path("field").asString()));
        assertThat(fields)
                .containsExactlyInAnyOrder(
                        "trigger_config.methods",
                        "trigger_config.respond.mode",
                        "trigger_config.respond.status",
                        "trigger_config.respond.body",
                        "trigger_config.respond.headers.Set-Cookie",
                        "trigger_config.respond.headers.X-Bad");
    }
}
