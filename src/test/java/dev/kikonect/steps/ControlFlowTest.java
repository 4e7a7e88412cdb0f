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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Branches, merges, error paths and finally steps ({@code run_if}) end to end over HTTP on the real database, with
 * local receivers: which steps are sent for every combination of outcomes, how the run ends, what an error path
 * reads, and what a retry sends again.
 */
class ControlFlowTest extends ApiTest {

    private Api.User user;

    @BeforeEach
    void user() {
        user = api.newUser();
    }

    private JsonNode create(List<Map<String, Object>> steps) {
        Map<String, Object> body = new HashMap<>();
        body.put("name", "control flow");
        body.put("trigger_type", "webhook");
        body.put("steps", steps);
        Api.Response created = api.post("/workflows", user.token(), body);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json();
    }

    private JsonNode fire(JsonNode workflow, Map<String, Object> payload) {
        Api.Response accepted = api.sendWithHeaders(
                "POST",
                workflow.path("webhook_url").asString(),
                "application/json",
                Api.JSON.writeValueAsString(payload),
                Map.of());
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
        return awaitFinished(user, accepted.json().path("id").asLong());
    }

    private static JsonNode step(JsonNode run, String key) {
        for (JsonNode s : run.path("steps")) {
            if (s.path("key").asString().equals(key)) {
                return s;
            }
        }
        throw new AssertionError("no step " + key + " in " + run);
    }

    private static String status(JsonNode run, String key) {
        return step(run, key).path("status").asString();
    }

    private static List<Sink.Received> at(Sink sink, String path) {
        return sink.received().stream().filter(r -> r.path().startsWith(path)).toList();
    }

    private static Map<String, Object> step(String key, String url, Object... more) {
        Map<String, Object> s = new HashMap<>();
        s.put("key", key);
        s.put("url", url);
        s.put("max_attempts", 1);
        for (int i = 0; i < more.length; i += 2) {
            s.put((String) more[i], more[i + 1]);
        }
        return s;
    }

    @Test
    void a_branch_on_the_amount_sends_one_side_and_the_merge_after_it_notifies_either_way() {
        try (Sink sink = new Sink()) {
            JsonNode wf = create(List.of(
                    step("big", sink.url("/approvals"), "when", "payload.amount > 1000"),
                    step("post", sink.url("/ledger"), "when", "payload.amount <= 1000"),
                    step(
                            "notify",
                            sink.url("/chat"),
                            "needs",
                            List.of("big", "post"),
                            "run_if",
                            "any_succeeded",
                            "body",
                            "{ 'text': 'Order ' & payload.id & ' booked' }")));

            JsonNode large = fire(wf, Map.of("id", "A-1", "amount", 5000));
            JsonNode small = fire(wf, Map.of("id", "A-2", "amount", 10));

            assertThat(large.path("status").asString()).isEqualTo("succeeded");
            assertThat(status(large, "big")).isEqualTo("succeeded");
            assertThat(status(large, "post")).isEqualTo("skipped");
            assertThat(status(large, "notify")).isEqualTo("succeeded");
            assertThat(small.path("status").asString()).isEqualTo("succeeded");
            assertThat(status(small, "big")).isEqualTo("skipped");
            assertThat(status(small, "post")).isEqualTo("succeeded");
            assertThat(at(sink, "/approvals")).hasSize(1);
            assertThat(at(sink, "/ledger")).hasSize(1);
            assertThat(at(sink, "/chat"))
                    .extracting(r -> Api.JSON.readTree(r.body()).path("text").asString())
                    .containsExactlyInAnyOrder("Order A-1 booked", "Order A-2 booked");
        }
    }

    @Test
    void every_combination_of_two_outcomes_starts_exactly_the_steps_whose_run_if_holds() {
        // Each need either succeeds (200), fails (500) or is skipped by its when: the nine combinations.
        try (Sink sink = new Sink().replyWith(r -> Sink.Reply.status(r.path().contains("fail") ? 500 : 200))) {
            JsonNode wf = create(List.of(
                    step("a", sink.url("/a/{{ payload.a }}"), "when", "payload.a != 'skip'"),
                    step("b", sink.url("/b/{{ payload.b }}"), "when", "payload.b != 'skip'"),
                    step("all", sink.url("/all"), "needs", List.of("a", "b")),
                    step("any", sink.url("/any"), "needs", List.of("a", "b"), "run_if", "any_succeeded"),
                    step("always", sink.url("/always"), "needs", List.of("a", "b"), "run_if", "always"),
                    step("failed", sink.url("/errors"), "needs", List.of("a", "b"), "run_if", "any_failed")));
            List<String> outcomes = List.of("ok", "fail", "skip");
            for (String a : outcomes) {
                for (String b : outcomes) {
                    JsonNode run = fire(wf, Map.of("a", a, "b", b));
                    Set<String> both = new HashSet<>(List.of(a, b));
                    String expected = "%s/%s".formatted(a, b);
                    assertThat(status(run, "all"))
                            .as(expected + ": all_succeeded")
                            .isEqualTo(both.equals(Set.of("ok")) ? "succeeded" : "skipped");
                    assertThat(status(run, "any"))
                            .as(expected + ": any_succeeded")
                            .isEqualTo(both.contains("ok") ? "succeeded" : "skipped");
                    assertThat(status(run, "always")).as(expected + ": always").isEqualTo("succeeded");
                    assertThat(status(run, "failed"))
                            .as(expected + ": any_failed")
                            .isEqualTo(both.contains("fail") ? "succeeded" : "skipped");
                    assertThat(run.path("status").asString())
                            .as(expected + ": a failure handled by the error path that succeeded")
                            .isEqualTo("succeeded");
                }
            }
            assertThat(at(sink, "/always")).hasSize(9);
            assertThat(at(sink, "/errors")).hasSize(5);
            assertThat(at(sink, "/any")).hasSize(5);
            assertThat(at(sink, "/all")).hasSize(1);
        }
    }

    @Test
    void an_error_path_reads_the_failure_and_when_it_succeeds_the_run_succeeds_with_the_failure_on_its_step() {
        try (Sink sink = new Sink()
                .replyWith(r -> r.path().startsWith("/crm")
                        ? new Sink.Reply(
                                502, Map.of("Content-Type", "application/json"), "{\"reason\":\"down\"}", false)
                        : Sink.Reply.status(201))) {
            JsonNode wf = create(List.of(
                    step("crm", sink.url("/crm")),
                    step(
                            "on_error",
                            sink.url("/tickets"),
                            "needs",
                            List.of("crm"),
                            "run_if",
                            "any_failed",
                            "body",
                            "{ 'title': 'Order failed', 'step': failed.key, 'error': failed.error,"
                                    + " 'reason': failed.response.body.reason }")));

            JsonNode run = fire(wf, Map.of("id", 1));

            assertThat(run.path("status").asString()).isEqualTo("succeeded");
            assertThat(status(run, "crm")).isEqualTo("failed");
            assertThat(step(run, "crm").path("error").asString()).isEqualTo("HTTP 502");
            assertThat(status(run, "on_error")).isEqualTo("succeeded");
            JsonNode ticket = Api.JSON.readTree(at(sink, "/tickets").get(0).body());
            assertThat(ticket.path("step").asString()).isEqualTo("crm");
            assertThat(ticket.path("error").asString()).isEqualTo("HTTP 502");
            assertThat(ticket.path("reason").asString()).isEqualTo("down");
        }
    }

    @Test
    void an_error_path_that_is_not_needed_is_skipped_with_its_reason_and_one_that_fails_fails_the_run() {
        AtomicBoolean crmUp = new AtomicBoolean(true);
        try (Sink sink = new Sink().replyWith(r -> {
            if (r.path().startsWith("/crm")) {
                return Sink.Reply.status(crmUp.get() ? 200 : 500);
            }
            return Sink.Reply.status(r.path().startsWith("/tickets") ? 503 : 200);
        })) {
            JsonNode wf = create(List.of(
                    step("crm", sink.url("/crm")),
                    step("on_error", sink.url("/tickets"), "needs", List.of("crm"), "run_if", "any_failed")));

            JsonNode fine = fire(wf, Map.of());
            crmUp.set(false);
            JsonNode broken = fire(wf, Map.of());

            assertThat(fine.path("status").asString()).isEqualTo("succeeded");
            assertThat(status(fine, "on_error")).isEqualTo("skipped");
            assertThat(step(fine, "on_error").path("error").asString()).isEqualTo("no step it needs failed");
            assertThat(broken.path("status").asString()).isEqualTo("failed");
            assertThat(status(broken, "on_error")).isEqualTo("failed");
        }
    }

    @Test
    void a_retry_of_a_run_with_an_unhandled_failure_runs_the_failed_steps_and_the_error_path_after_them_again() {
        AtomicBoolean up = new AtomicBoolean(false);
        try (Sink sink =
                new Sink().replyWith(r -> Sink.Reply.status(r.path().startsWith("/tickets") || up.get() ? 200 : 500))) {
            JsonNode wf = create(List.of(
                    step("crm", sink.url("/crm")),
                    step("erp", sink.url("/erp")),
                    step("on_crm_error", sink.url("/tickets"), "needs", List.of("crm"), "run_if", "any_failed"),
                    step("done", sink.url("/done"), "needs", List.of("crm", "erp"))));

            JsonNode failed = fire(wf, Map.of());
            assertThat(failed.path("status").asString())
                    .as("erp's failure is not handled")
                    .isEqualTo("failed");
            assertThat(failed.path("error").asString()).isIn("crm: HTTP 500", "erp: HTTP 500");
            assertThat(status(failed, "on_crm_error")).isEqualTo("succeeded");
            assertThat(status(failed, "done")).isEqualTo("skipped");

            up.set(true);
            long runId = failed.path("id").asLong();
            Api.Response retry = api.post("/runs/" + runId + "/retry", user.token(), Map.of());
            assertThat(retry.status()).as(retry.body()).isEqualTo(202);
            JsonNode retried = awaitFinished(user, runId);

            assertThat(retried.path("status").asString()).isEqualTo("succeeded");
            assertThat(retried.path("error").isNull() || retried.path("error").isMissingNode())
                    .as("error " + retried.path("error"))
                    .isTrue();
            assertThat(status(retried, "crm")).isEqualTo("succeeded");
            assertThat(status(retried, "on_crm_error")).isEqualTo("skipped");
            assertThat(status(retried, "done")).isEqualTo("succeeded");
            assertThat(at(sink, "/tickets"))
                    .as("the error path ran once, for the first failure")
                    .hasSize(1);
            assertThat(at(sink, "/crm")).hasSize(2);
            assertThat(at(sink, "/erp")).hasSize(2);
        }
    }

    @Test
    void a_run_if_that_is_not_a_rule_or_has_no_needs_is_a_400_naming_the_field() {
        Map<String, Object> bad = new HashMap<>();
        bad.put("name", "bad");
        bad.put("trigger_type", "manual");
        bad.put(
                "steps",
                List.of(
                        step("a", "https://example.com/a", "run_if", "always"),
                        step("b", "https://example.com/b", "needs", List.of("a"), "run_if", "sometimes")));

        Api.Response refused = api.post("/workflows", user.token(), bad);

        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.body())
                .contains("steps[0].run_if")
                .contains("applies to a step with needs")
                .contains("steps[1].run_if")
                .contains("must be one of all_succeeded, any_succeeded, always, any_failed");
    }
}
