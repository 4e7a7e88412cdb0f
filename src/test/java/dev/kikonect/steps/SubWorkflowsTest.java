package dev.kikonect.steps;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Sub-workflows (a step with {@code workflow}) end to end over HTTP on the real database: the child run gets the
 * step's body, the parent step waits for it and goes on with its response; a failed child fails the step; cycles,
 * depth and other workspaces' workflows are refused at save; cancelling the parent cancels the child.
 */
class SubWorkflowsTest extends ApiTest {

    private Api.User user;

    @BeforeEach
    void user() {
        user = api.newUser();
    }

    private JsonNode create(String name, List<Map<String, Object>> steps) {
        Map<String, Object> body = new HashMap<>();
        body.put("name", name);
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

    private long fire(JsonNode workflow, Map<String, Object> payload) {
        Api.Response accepted =
                api.post("/workflows/" + workflow.path("id").asLong() + "/trigger", user.token(), payload);
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
        return accepted.json().path("id").asLong();
    }

    private JsonNode onlyRunOf(JsonNode workflow) {
        JsonNode page = eventually()
                .until(
                        () -> api.get("/runs?workflow_id=" + workflow.path("id").asLong(), user.token())
                                .json(),
                        p -> p.path("items").size() == 1);
        return api.get("/runs/" + page.path("items").get(0).path("id").asLong(), user.token())
                .json();
    }

    private static JsonNode step(JsonNode run, String key) {
        for (JsonNode s : run.path("steps")) {
            if (s.path("key").asString().equals(key)) {
                return s;
            }
        }
        throw new AssertionError("no step " + key + " in " + run);
    }

    private static Sink.Reply json(String body) {
        return new Sink.Reply(200, Map.of("Content-Type", "application/json"), body, false);
    }

    @Test
    void a_step_runs_another_workflow_with_its_body_and_the_next_step_reads_the_childs_response() {
        try (Sink sink = new Sink().replyWith(r -> switch (r.path().split("\\?")[0]) {
            case "/crm/lookup" -> json("{\"first\":\"Ada\"}");
            case "/shape" -> json("{\"name\":\"Ada Lovelace\",\"vip\":true}");
            default -> Sink.Reply.status(200);
        })) {
            JsonNode enrich = create(
                    "Enrich customer",
                    List.of(
                            step(
                                    "key",
                                    "lookup",
                                    "url",
                                    sink.url("/crm/lookup?email={{ payload.email }}"),
                                    "method",
                                    "GET"),
                            step(
                                    "key",
                                    "shape",
                                    "needs",
                                    List.of("lookup"),
                                    "url",
                                    sink.url("/shape"),
                                    "body",
                                    "{ 'first': steps.lookup.response.body.first }")));
            JsonNode order = create(
                    "Order",
                    List.of(
                            step(
                                    "key", "enrich",
                                    "workflow", enrich.path("id").asLong(),
                                    "body", "{ 'email': payload.customer.email }"),
                            step(
                                    "key",
                                    "notify",
                                    "needs",
                                    List.of("enrich"),
                                    "url",
                                    sink.url("/notify"),
                                    "body",
                                    "{ 'text': steps.enrich.response.body.name & ' ordered' }")));

            long runId = fire(order, Map.of("customer", Map.of("email", "ada@example.com")));
            JsonNode run = awaitFinished(user, runId);
            JsonNode child = onlyRunOf(enrich);

            assertThat(run.path("status").asString()).as(run.toString()).isEqualTo("succeeded");
            assertThat(child.path("trigger").asString()).isEqualTo("workflow");
            assertThat(child.path("status").asString()).isEqualTo("succeeded");
            assertThat(child.path("payload").path("email").asString()).isEqualTo("ada@example.com");
            assertThat(sink.received().stream().filter(r -> r.path().startsWith("/crm/lookup")))
                    .extracting(Sink.Received::path)
                    .containsExactly("/crm/lookup?email=ada@example.com");
            JsonNode notified = Api.JSON.readTree(sink.received().stream()
                    .filter(r -> r.path().equals("/notify"))
                    .findFirst()
                    .orElseThrow()
                    .body());
            assertThat(notified.path("text").asString()).isEqualTo("Ada Lovelace ordered");
            assertThat(step(run, "enrich").path("status").asString()).isEqualTo("succeeded");
            assertThat(child.path("parent_run_id").asLong()).isEqualTo(runId);
            assertThat(step(run, "enrich").path("child_run_id").asLong())
                    .isEqualTo(child.path("id").asLong());
            assertThat(step(run, "notify").path("child_run_id").isNull()).isTrue();
        }
    }

    @Test
    void a_child_workflows_output_is_what_its_caller_reads_and_a_bad_output_is_a_400() {
        try (Sink sink = new Sink()
                .replyWith(r ->
                        r.path().startsWith("/crm") ? json("{\"first\":\"Ada\",\"id\":7}") : Sink.Reply.status(204))) {
            Map<String, Object> child = new HashMap<>();
            child.put("name", "Lookup");
            child.put("trigger_type", "manual");
            child.put(
                    "steps",
                    List.of(
                            step("key", "crm", "url", sink.url("/crm")),
                            step("key", "audit", "needs", List.of("crm"), "url", sink.url("/audit"))));
            child.put(
                    "output",
                    "{ 'customer': steps.crm.response.body.id, 'hello': 'Hi ' & steps.crm.response.body.first,"
                            + " 'asked': payload.email, 'audited': steps.audit.status }");
            Api.Response created = api.post("/workflows", user.token(), child);
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            assertThat(created.json().path("output").asString()).startsWith("{ 'customer'");
            JsonNode parent = create(
                    "Parent",
                    List.of(
                            step(
                                    "key",
                                    "lookup",
                                    "workflow",
                                    created.json().path("id").asLong(),
                                    "body",
                                    "{ 'email': payload.email }"),
                            step(
                                    "key",
                                    "greet",
                                    "needs",
                                    List.of("lookup"),
                                    "url",
                                    sink.url("/greet"),
                                    "body",
                                    "steps.lookup.response.body")));

            JsonNode run = awaitFinished(user, fire(parent, Map.of("email", "ada@example.com")));

            assertThat(run.path("status").asString()).isEqualTo("succeeded");
            JsonNode greeted = Api.JSON.readTree(sink.received().stream()
                    .filter(r -> r.path().equals("/greet"))
                    .findFirst()
                    .orElseThrow()
                    .body());
            assertThat(greeted)
                    .isEqualTo(
                            Api.JSON.readTree(
                                    "{\"customer\":7,\"hello\":\"Hi Ada\",\"asked\":\"ada@example.com\",\"audited\":\"succeeded\"}"));

            child.put("output", "{ 'a': ");
            Api.Response bad = api.post("/workflows", user.token(), child);
            assertThat(bad.status()).isEqualTo(400);
            assertThat(bad.body()).contains("\"output\"");
        }
    }

    @Test
    void a_child_that_fails_fails_its_step_with_the_childs_error_and_the_steps_after_it_are_skipped() {
        try (Sink sink = new Sink().replyWith(r -> Sink.Reply.status(r.path().startsWith("/down") ? 503 : 200))) {
            JsonNode child = create("Flaky", List.of(step("key", "call", "url", sink.url("/down"))));
            JsonNode parent = create(
                    "Parent",
                    List.of(
                            step("key", "sub", "workflow", child.path("id").asLong()),
                            step("key", "after", "needs", List.of("sub"), "url", sink.url("/after"))));

            JsonNode run = awaitFinished(user, fire(parent, Map.of("n", 1)));
            JsonNode childRun = onlyRunOf(child);

            assertThat(run.path("status").asString()).isEqualTo("failed");
            assertThat(step(run, "sub").path("error").asString())
                    .isEqualTo("workflow: run " + childRun.path("id").asLong() + " failed: HTTP 503");
            assertThat(step(run, "after").path("status").asString()).isEqualTo("skipped");
            assertThat(childRun.path("payload").path("n").asInt())
                    .as("without a body the child gets the payload")
                    .isEqualTo(1);
        }
    }

    @Test
    void cancelling_a_run_cancels_the_run_its_step_is_waiting_for() {
        try (Sink sink = new Sink().replyWith(r -> Sink.Reply.hanging())) {
            JsonNode child = create(
                    "Slow",
                    List.of(
                            step("key", "a", "url", sink.url("/slow")),
                            step("key", "b", "url", sink.url("/slow2"), "needs", List.of("a"))));
            JsonNode parent = create(
                    "Parent",
                    List.of(step("key", "sub", "workflow", child.path("id").asLong())));
            long runId = fire(parent, Map.of());
            JsonNode childRun = onlyRunOf(child);

            Api.Response cancelled = api.post("/runs/" + runId + "/cancel", user.token(), Map.of());

            assertThat(cancelled.status()).as(cancelled.body()).isIn(200, 202);
            eventually()
                    .until(
                            () -> api.get("/runs/" + childRun.path("id").asLong(), user.token())
                                    .json()
                                    .path("status")
                                    .asString(),
                            "cancelled"::equals);
        }
    }

    @Test
    void a_cycle_a_nesting_over_five_and_another_workspaces_workflow_are_400s_naming_the_field() {
        JsonNode leaf = create("Leaf", List.of(step("key", "a", "url", "https://example.com/a")));
        JsonNode caller = create(
                "Caller", List.of(step("key", "sub", "workflow", leaf.path("id").asLong())));

        Api.Response cycle = api.send(
                "PATCH",
                "/workflows/" + leaf.path("id").asLong(),
                user.token(),
                "application/json",
                Api.JSON.writeValueAsString(Map.of(
                        "steps",
                        List.of(step(
                                "key", "back", "workflow", caller.path("id").asLong())))));
        assertThat(cycle.status()).as(cycle.body()).isEqualTo(400);
        assertThat(cycle.body()).contains("steps[0].workflow").contains("makes a cycle");

        JsonNode below = leaf;
        for (int depth = 1; depth <= 5; depth++) {
            below = create(
                    "Level " + depth,
                    List.of(step("key", "sub", "workflow", below.path("id").asLong())));
        }
        // a run of "Level 5" has 5 levels of runs under it (Level 4 ... Leaf): one more caller nests them 6 deep
        Map<String, Object> tooDeep = new HashMap<>();
        tooDeep.put("name", "Too deep");
        tooDeep.put("trigger_type", "manual");
        tooDeep.put(
                "steps", List.of(step("key", "sub", "workflow", below.path("id").asLong())));
        Api.Response deep = api.post("/workflows", user.token(), tooDeep);
        assertThat(deep.status()).as(deep.body()).isEqualTo(400);
        assertThat(deep.body()).contains("steps[0].workflow").contains("deep; at most 5");

        JsonNode foreign = api.createWorkflow(api.newUser(), "manual", "https://example.com/hook", Map.of());
        Map<String, Object> other = new HashMap<>();
        other.put("name", "Foreign");
        other.put("trigger_type", "manual");
        other.put(
                "steps",
                List.of(step("key", "sub", "workflow", foreign.path("id").asLong(), "url", "https://x.example.com")));
        Api.Response refused = api.post("/workflows", user.token(), other);
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.body()).contains("steps[0].url").contains("a step with workflow runs that workflow instead");
        other.put(
                "steps",
                List.of(step("key", "sub", "workflow", foreign.path("id").asLong())));
        Api.Response notOurs = api.post("/workflows", user.token(), other);
        assertThat(notOurs.status()).isEqualTo(400);
        assertThat(notOurs.body()).contains("names no workflow of this workspace");
    }
}
