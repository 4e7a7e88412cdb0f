package dev.kikonect.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * Webhooks whose caller waits for a step's answer ({@code trigger_config.respond.mode = step}), over HTTP on the real
 * database: the step's response (status, passed headers, body) or a body over {@code steps}, a 502 for a step that
 * failed without a response, the usual 202 past the timeout and past the per-workspace bound, and a 400 naming the
 * field for what cannot be saved.
 */
class HeldAnswersTest extends ApiTest {

    @Autowired
    MeterRegistry meters;

    private Api.User user;

    @BeforeEach
    void user() {
        user = api.newUser();
    }

    private JsonNode workflow(List<Map<String, Object>> steps, Map<String, Object> respond) {
        Map<String, Object> body = new HashMap<>();
        body.put("name", "held");
        body.put("trigger_type", "webhook");
        body.put("steps", steps);
        body.put("trigger_config", Map.of("respond", respond));
        Api.Response created = api.post("/workflows", user.token(), body);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json();
    }

    /** A receiver's answer once {@code release} is counted down: 200. */
    private static Sink.Reply afterRelease(CountDownLatch release) {
        try {
            release.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Sink.Reply.status(200);
    }

    private Api.Response post(JsonNode workflow, String json) {
        return api.sendWithHeaders(
                "POST",
                URI.create(workflow.path("webhook_url").asString()).getRawPath(),
                "application/json",
                json,
                Map.of());
    }

    @Test
    void a_form_post_is_answered_with_the_steps_response_and_the_steps_after_it_still_run() {
        try (Sink pricing = new Sink();
                Sink notify = new Sink()) {
            pricing.replyWith(r -> new Sink.Reply(
                    201,
                    Map.of(
                            "Content-Type", "application/json",
                            "Set-Cookie", "session=receivers-own",
                            "X-Internal", "not for the caller",
                            "Location", "/orders/7"),
                    "{\"total\":42,\"order\":7}",
                    false));
            JsonNode workflow = workflow(
                    List.of(
                            Map.of("key", "price", "url", pricing.url("/price")),
                            Map.of("key", "notify", "needs", List.of("price"), "url", notify.url("/notify"))),
                    Map.of("mode", "step", "step", "price", "timeout", "10s"));
            assertThat(workflow.path("trigger_config")
                            .path("respond")
                            .path("timeout")
                            .asString())
                    .isEqualTo("10s");

            Api.Response answer = post(workflow, "{\"items\":[1,2]}");

            assertThat(answer.status()).as(answer.body()).isEqualTo(201);
            assertThat(answer.contentType()).startsWith("application/json");
            assertThat(answer.json().path("total").asInt()).isEqualTo(42);
            assertThat(answer.header("Location")).isEqualTo("/orders/7");
            assertThat(answer.header("Set-Cookie"))
                    .as("a receiver's cookie is not passed on")
                    .isNull();
            assertThat(answer.header("X-Internal")).isNull();
            assertThat(pricing.received()).hasSize(1);
            eventually().until(() -> notify.received().size() == 1);
        }
    }

    @Test
    void a_body_over_steps_shapes_the_answer_with_its_own_status_and_headers() {
        try (Sink pricing = new Sink()) {
            pricing.replyWith(
                    r -> new Sink.Reply(200, Map.of("Content-Type", "application/json"), "{\"total\":42}", false));
            JsonNode workflow = workflow(
                    List.of(Map.of("key", "price", "url", pricing.url("/price"))),
                    Map.of(
                            "mode",
                            "step",
                            "step",
                            "price",
                            "status",
                            202,
                            "headers",
                            Map.of("X-Order", "{{ payload.id }}"),
                            "body",
                            "{ 'id': payload.id, 'total': steps.price.response.body.total, 'status': steps.price.status }"));

            Api.Response answer = post(workflow, "{\"id\":\"A-1\"}");

            assertThat(answer.status()).as(answer.body()).isEqualTo(202);
            assertThat(answer.header("X-Order")).isEqualTo("A-1");
            assertThat(answer.json().path("total").asInt()).isEqualTo(42);
            assertThat(answer.json().path("status").asString()).isEqualTo("succeeded");
            assertThat(answer.json().has("webhook_id"))
                    .as("the workflow's answer, not the run")
                    .isFalse();
        }
    }

    @Test
    void a_step_that_fails_without_a_response_answers_502_with_its_error() {
        JsonNode workflow = workflow(
                List.of(Map.of("key", "price", "url", "http://127.0.0.1:9/closed", "max_attempts", 1)),
                Map.of("mode", "step", "step", "price"));

        Api.Response answer = post(workflow, "{}");

        assertThat(answer.status()).as(answer.body()).isEqualTo(502);
        assertThat(answer.contentType()).startsWith("application/problem+json");
        assertThat(answer.json().path("detail").asString()).isNotBlank();
    }

    @Test
    void past_its_timeout_the_caller_gets_the_usual_202_and_the_run_goes_on() {
        CountDownLatch release = new CountDownLatch(1);
        try (Sink slow = new Sink()) {
            slow.replyWith(r -> afterRelease(release));
            JsonNode workflow = workflow(
                    List.of(Map.of("key", "slow", "url", slow.url("/slow"))),
                    Map.of("mode", "step", "step", "slow", "timeout", "100ms"));

            Api.Response answer = post(workflow, "{}");
            release.countDown();

            assertThat(answer.status()).as(answer.body()).isEqualTo(202);
            assertThat(answer.header("KiKonect-Respond-Error")).contains("had not finished after 100ms");
            JsonNode run = awaitFinished(user, answer.json().path("id").asLong());
            assertThat(run.path("status").asString()).isEqualTo("succeeded");
        }
    }

    @Test
    void a_workspace_holds_at_most_twenty_callers_and_the_next_gets_its_202_at_once() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor();
        try (Sink slow = new Sink()) {
            slow.replyWith(r -> afterRelease(release));
            JsonNode workflow = workflow(
                    List.of(Map.of("key", "slow", "url", slow.url("/slow"), "max_attempts", 10)),
                    Map.of("mode", "step", "step", "slow", "timeout", "60s"));
            List<Future<Api.Response>> held = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                held.add(callers.submit(() -> post(workflow, "{}")));
            }
            eventually().until(() -> meters.get("kikonect.hooks.held").gauge().value() == 20);

            Api.Response twentyFirst = post(workflow, "{}");

            assertThat(twentyFirst.status()).isEqualTo(202);
            assertThat(twentyFirst.header("KiKonect-Respond-Error")).contains("kikonect.hooks.max-held");
            assertThat(held).noneMatch(Future::isDone);
            release.countDown();
            for (Future<Api.Response> caller : held) {
                assertThat(caller.get(30, TimeUnit.SECONDS).status())
                        .as("held, then answered by the step")
                        .isEqualTo(200);
            }
        } finally {
            release.countDown();
            callers.shutdownNow();
        }
    }

    @Test
    void an_answer_that_names_no_step_or_comes_with_action_url_is_refused_naming_the_field() {
        Map<String, Object> body = new HashMap<>();
        body.put("name", "held");
        body.put("trigger_type", "webhook");
        body.put("steps", List.of(Map.of("key", "price", "url", "http://127.0.0.1:9/")));
        body.put("trigger_config", Map.of("respond", Map.of("mode", "step", "step", "prize")));
        Api.Response typo = api.post("/workflows", user.token(), body);
        assertThat(typo.status()).isEqualTo(400);
        assertThat(typo.body()).contains("trigger_config.respond.step").contains("price");

        body.put("trigger_config", Map.of("respond", Map.of("mode", "step", "step", "price", "timeout", "2h")));
        Api.Response tooLong = api.post("/workflows", user.token(), body);
        assertThat(tooLong.status()).isEqualTo(400);
        assertThat(tooLong.body()).contains("trigger_config.respond.timeout");

        body.remove("steps");
        body.put("action_url", "http://127.0.0.1:9/");
        body.put("trigger_config", Map.of("respond", Map.of("mode", "step", "step", "deliver")));
        Api.Response shorthand = api.post("/workflows", user.token(), body);
        assertThat(shorthand.status()).isEqualTo(400);
        assertThat(shorthand.body()).contains("trigger_config.respond.step");
    }
}
