package dev.kikonect.steps;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * for_each end to end over HTTP on the real database: one delivery per item with item and index, each with its own
 * webhook-id; at most concurrency in flight; a failed item fails the step while the others finish; retry re-sends only
 * the failed items; dependants read the array of responses; an empty list succeeds with [].
 */
class ForEachTest extends ApiTest {

    private Api.User user;

    @BeforeEach
    void user() {
        user = api.newUser();
    }

    private JsonNode create(List<Map<String, Object>> steps) {
        Map<String, Object> body = new HashMap<>();
        body.put("name", "loop");
        body.put("trigger_type", "manual");
        body.put("steps", steps);
        body.put("max_attempts", 1);
        Api.Response created = api.post("/workflows", user.token(), body);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json();
    }

    private static Map<String, Object> step(Object... fields) {
        Map<String, Object> s = new HashMap<>();
        for (int i = 0; i < fields.length; i += 2) {
            s.put((String) fields[i], fields[i + 1]);
        }
        return s;
    }

    private long fire(JsonNode workflow, Object payload) {
        Api.Response accepted =
                api.post("/workflows/" + workflow.path("id").asLong() + "/trigger", user.token(), payload);
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
        return accepted.json().path("id").asLong();
    }

    private static JsonNode step(JsonNode run, String key) {
        for (JsonNode s : run.path("steps")) {
            if (s.path("key").asString().equals(key)) {
                return s;
            }
        }
        throw new AssertionError("no step " + key + " in " + run);
    }

    private static List<Sink.Received> at(Sink sink, String path) {
        return sink.received().stream().filter(r -> r.path().startsWith(path)).toList();
    }

    @Test
    void every_line_is_sent_once_with_its_item_and_index_and_the_next_step_reads_every_response() {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        try (Sink sink = new Sink().replyWith(r -> {
            if (!r.path().startsWith("/erp")) {
                return Sink.Reply.status(200);
            }
            most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                Thread.sleep(30); // a receiver that takes a moment, so that items overlap
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            inFlight.decrementAndGet();
            JsonNode line = Api.JSON.readTree(r.body());
            return new Sink.Reply(
                    201,
                    Map.of("Content-Type", "application/json"),
                    "{\"amount\":" + line.path("qty").asInt() * 10 + "}",
                    false);
        })) {
            JsonNode wf = create(List.of(
                    step(
                            "key", "lines",
                            "for_each", "payload.order.lines",
                            "concurrency", 2,
                            "url", sink.url("/erp/{{ item.sku }}"),
                            "body", "{ 'sku': item.sku, 'qty': item.qty, 'n': index }"),
                    step(
                            "key",
                            "total",
                            "needs",
                            List.of("lines"),
                            "url",
                            sink.url("/total"),
                            "body",
                            "{ 'sum': $sum(steps.lines.response.body.amount), 'count': $count(steps.lines.response),"
                                    + " 'ok': $count(steps.lines.items[status = 'succeeded']) }")));
            List<Map<String, Object>> lines = List.of(
                    Map.of("sku", "a", "qty", 1),
                    Map.of("sku", "b", "qty", 2),
                    Map.of("sku", "c", "qty", 3),
                    Map.of("sku", "d", "qty", 4),
                    Map.of("sku", "e", "qty", 5));

            JsonNode run = awaitFinished(user, fire(wf, Map.of("order", Map.of("lines", lines))));

            assertThat(run.path("status").asString()).as(run.toString()).isEqualTo("succeeded");
            List<Sink.Received> sent = at(sink, "/erp/");
            assertThat(sent)
                    .extracting(Sink.Received::path)
                    .containsExactlyInAnyOrder("/erp/a", "/erp/b", "/erp/c", "/erp/d", "/erp/e");
            assertThat(sent.stream()
                            .map(r -> Api.JSON.readTree(r.body()).path("n").asInt()))
                    .containsExactlyInAnyOrder(0, 1, 2, 3, 4);
            assertThat(sent.stream().map(r -> r.header("webhook-id")).distinct())
                    .hasSize(5);
            assertThat(most.get()).as("items in flight at once").isLessThanOrEqualTo(2);
            JsonNode total = Api.JSON.readTree(at(sink, "/total").get(0).body());
            assertThat(total.path("sum").asInt()).isEqualTo(150);
            assertThat(total.path("count").asInt()).isEqualTo(5);
            assertThat(total.path("ok").asInt()).isEqualTo(5);
        }
    }

    @Test
    void a_failed_item_fails_the_step_the_others_finish_and_a_retry_sends_only_the_failed_item() {
        AtomicBoolean fixed = new AtomicBoolean(false);
        try (Sink sink =
                new Sink().replyWith(r -> Sink.Reply.status(r.path().endsWith("/bad") && !fixed.get() ? 500 : 200))) {
            JsonNode wf = create(List.of(
                    step(
                            "key",
                            "lines",
                            "for_each",
                            "payload.skus",
                            "concurrency",
                            3,
                            "url",
                            sink.url("/erp/{{ item }}")),
                    step("key", "after", "needs", List.of("lines"), "url", sink.url("/after")),
                    step(
                            "key", "report",
                            "needs", List.of("lines"),
                            "run_if", "always", // a finally: it does not handle the failure, the run fails
                            "url", sink.url("/report"),
                            "body", "{ 'failed': steps.lines.items[status = 'failed'].index }")));

            long runId = fire(wf, Map.of("skus", List.of("a", "bad", "c", "d")));
            JsonNode failed = awaitFinished(user, runId);

            assertThat(failed.path("status").asString()).isEqualTo("failed");
            assertThat(step(failed, "lines").path("status").asString()).isEqualTo("failed");
            assertThat(step(failed, "lines").path("error").asString())
                    .startsWith("1 of 4 items did not succeed (item 1: HTTP 500");
            assertThat(step(failed, "after").path("status").asString()).isEqualTo("skipped");
            assertThat(at(sink, "/erp/")).hasSize(4);
            String badWebhookId = at(sink, "/erp/bad").get(0).header("webhook-id");
            assertThat(Api.JSON
                            .readTree(at(sink, "/report").get(0).body())
                            .path("failed")
                            .asInt())
                    .as("a step after the loop reads which item failed")
                    .isEqualTo(1);

            fixed.set(true);
            assertThat(api.post("/runs/" + runId + "/retry", user.token(), Map.of())
                            .status())
                    .isEqualTo(202);
            JsonNode retried = awaitFinished(user, runId);

            assertThat(retried.path("status").asString()).isEqualTo("succeeded");
            assertThat(at(sink, "/erp/")).as("only the failed item again").hasSize(5);
            assertThat(at(sink, "/erp/bad").get(1).header("webhook-id")).isEqualTo(badWebhookId);
            assertThat(at(sink, "/after")).hasSize(1);
        }
    }

    @Test
    void an_empty_list_succeeds_with_no_delivery_and_a_bad_for_each_is_a_400() {
        try (Sink sink = new Sink()) {
            JsonNode wf = create(List.of(
                    step("key", "lines", "for_each", "payload.none", "url", sink.url("/erp")),
                    step(
                            "key",
                            "after",
                            "needs",
                            List.of("lines"),
                            "url",
                            sink.url("/after"),
                            "body",
                            "{ 'n': $count(steps.lines.response) }")));

            JsonNode run = awaitFinished(user, fire(wf, Map.of("none", List.of())));

            assertThat(run.path("status").asString()).isEqualTo("succeeded");
            assertThat(at(sink, "/erp")).isEmpty();
            assertThat(Api.JSON
                            .readTree(at(sink, "/after").get(0).body())
                            .path("n")
                            .asInt())
                    .isZero();
        }
        Map<String, Object> body = new HashMap<>();
        body.put("name", "bad");
        body.put("trigger_type", "manual");
        body.put(
                "steps",
                List.of(
                        step("key", "a", "for_each", "payload.(", "url", "https://example.com"),
                        step("key", "b", "concurrency", 3, "url", "https://example.com")));
        Api.Response refused = api.post("/workflows", user.token(), body);
        assertThat(refused.status()).isEqualTo(400);
        Set<String> fields = new HashSet<>();
        refused.json().path("errors").forEach(e -> fields.add(e.path("field").asString()));
        assertThat(fields).contains("steps[0].for_each", "steps[1].concurrency");
    }

    @Test
    void a_workflow_of_one_loop_step_sends_every_item() {
        try (Sink sink = new Sink()) {
            JsonNode wf = create(
                    List.of(step("key", "lines", "for_each", "payload.skus", "url", sink.url("/one/{{ item }}"))));

            JsonNode run = awaitFinished(user, fire(wf, Map.of("skus", List.of("a", "b", "c"))));

            assertThat(run.path("status").asString()).as(run.toString()).isEqualTo("succeeded");
            assertThat(at(sink, "/one"))
                    .extracting(Sink.Received::path)
                    .containsExactlyInAnyOrder("/one/a", "/one/b", "/one/c");
        }
    }
}
