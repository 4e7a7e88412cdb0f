package dev.kikonect.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * Error workflows (trigger_type run_failed) over HTTP on the real database: a failed run starts each error workflow
 * that watches it, once, with what failed as its payload and through its filter; a run that succeeds starts none; an
 * error workflow's own failure starts nothing; bad configurations are 400s naming the field.
 */
class ErrorWorkflowsTest extends ApiTest {

    @Autowired
    RunFailures failures;

    private Api.User user;

    @BeforeEach
    void user() {
        user = api.newUser();
    }

    private JsonNode create(Map<String, Object> workflow) {
        Map<String, Object> body = new HashMap<>(workflow);
        body.putIfAbsent("max_attempts", 1);
        Api.Response created = api.post("/workflows", user.token(), body);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json();
    }

    private JsonNode watching(String name, Object workflows, String url, Object... more) {
        Map<String, Object> body = new HashMap<>();
        body.put("name", name);
        body.put("trigger_type", "run_failed");
        body.put("trigger_config", Map.of("workflows", workflows));
        body.put("action_url", url);
        for (int i = 0; i < more.length; i += 2) {
            body.put((String) more[i], more[i + 1]);
        }
        return create(body);
    }

    private JsonNode fire(JsonNode workflow) {
        Api.Response accepted =
                api.post("/workflows/" + workflow.path("id").asLong() + "/trigger", user.token(), Map.of());
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
        return awaitFinished(user, accepted.json().path("id").asLong());
    }

    private List<JsonNode> runsOf(JsonNode workflow) {
        JsonNode page = api.get("/runs?workflow_id=" + workflow.path("id").asLong(), user.token())
                .json();
        return page.path("items").valueStream().toList();
    }

    /** Waits until the workflow has a run that ended, and returns it whole. */
    private JsonNode endedRunOf(JsonNode workflow) {
        long id = eventually()
                .until(
                        () -> runsOf(workflow).stream()
                                .filter(r -> List.of("succeeded", "failed", "filtered")
                                        .contains(r.path("status").asString()))
                                .findFirst(),
                        found -> found.isPresent())
                .orElseThrow()
                .path("id")
                .asLong();
        return api.get("/runs/" + id, user.token()).json();
    }

    @Test
    void a_failed_run_starts_its_error_workflow_once_with_what_failed_and_a_run_that_succeeds_starts_none() {
        try (Sink sink = new Sink()
                .replyWith(r -> r.path().startsWith("/crm")
                        ? new Sink.Reply(
                                500, Map.of("Content-Type", "application/json"), "{\"reason\":\"down\"}", false)
                        : Sink.Reply.status(200))) {
            JsonNode fine = create(Map.of("name", "Fine", "trigger_type", "manual", "action_url", sink.url("/ok")));
            JsonNode crm = create(Map.of(
                    "name", "CRM sync",
                    "trigger_type", "manual",
                    "steps",
                            List.of(
                                    Map.of("key", "lookup", "url", sink.url("/lookup")),
                                    Map.of("key", "crm", "url", sink.url("/crm"), "needs", List.of("lookup")))));
            JsonNode onError = create(Map.of(
                    "name",
                    "Tickets for failures",
                    "trigger_type",
                    "run_failed",
                    "trigger_config",
                    Map.of(
                            "workflows",
                            List.of(crm.path("id").asLong(), fine.path("id").asLong())),
                    "steps",
                    List.of(Map.of(
                            "key",
                            "ticket",
                            "url",
                            sink.url("/tickets"),
                            "body",
                            "{ 'title': payload.workflow.name & ' failed', 'run': payload.run.id,"
                                    + " 'step': payload.failed_steps[0].key, 'error': payload.failed_steps[0].error,"
                                    + " 'reason': payload.failed_steps[0].response.body.reason }"))));

            assertThat(fire(fine).path("status").asString()).isEqualTo("succeeded");
            JsonNode failed = fire(crm);
            assertThat(failed.path("status").asString()).isEqualTo("failed");
            JsonNode ticketRun = endedRunOf(onError);

            assertThat(ticketRun.path("status").asString()).isEqualTo("succeeded");
            assertThat(ticketRun.path("trigger").asString()).isEqualTo("run_failed");
            assertThat(ticketRun.path("caused_by_run_id").asLong())
                    .isEqualTo(failed.path("id").asLong());
            assertThat(runsOf(onError))
                    .as("the run of Fine that succeeded started nothing")
                    .hasSize(1);
            JsonNode ticket = Api.JSON.readTree(sink.received().stream()
                    .filter(r -> r.path().startsWith("/tickets"))
                    .findFirst()
                    .orElseThrow()
                    .body());
            assertThat(ticket.path("title").asString()).isEqualTo("CRM sync failed");
            assertThat(ticket.path("run").asLong()).isEqualTo(failed.path("id").asLong());
            assertThat(ticket.path("step").asString()).isEqualTo("crm");
            assertThat(ticket.path("error").asString()).isEqualTo("HTTP 500");
            assertThat(ticket.path("reason").asString()).isEqualTo("down");

            // Starting again (an alert retried after a crash) starts nothing more.
            RunFailures.Failure again =
                    failures.failure(failed.path("id").asLong()).orElseThrow();
            int started = failures.start(
                    failed.path("id").asLong(),
                    "{}",
                    again.watchers().stream()
                            .map(w -> new RunFailures.Start(w, null, null))
                            .toList(),
                    Instant.now());
            assertThat(started).isZero();
            assertThat(runsOf(onError)).hasSize(1);
        }
    }

    @Test
    void an_error_workflows_own_failure_starts_no_error_workflow_and_a_filter_records_its_run_filtered() {
        try (Sink sink = new Sink().replyWith(r -> Sink.Reply.status(r.path().startsWith("/ok") ? 200 : 500))) {
            JsonNode broken = create(Map.of("name", "Broken", "trigger_type", "manual", "action_url", sink.url("/x")));
            JsonNode failingAlerts = watching("Failing alerts", "all", sink.url("/alerts"));
            JsonNode onlyNotFound = watching(
                    "Only 404s", "all", sink.url("/ok/404"), "filter", "payload.failed_steps[0].response.status = 404");
            JsonNode logger = watching("Logger", "all", sink.url("/ok/log"));

            JsonNode failed = fire(broken);
            JsonNode alertRun = endedRunOf(failingAlerts);
            JsonNode filtered = endedRunOf(onlyNotFound);
            JsonNode logged = endedRunOf(logger);

            assertThat(failed.path("status").asString()).isEqualTo("failed");
            assertThat(alertRun.path("status").asString()).isEqualTo("failed");
            assertThat(filtered.path("status").asString()).isEqualTo("filtered");
            assertThat(logged.path("status").asString()).isEqualTo("succeeded");
            assertThat(failures.failure(alertRun.path("id").asLong()))
                    .as("an error workflow's failed run is watched by none")
                    .isEmpty();
            assertThat(failures.failure(failed.path("id").asLong())
                            .orElseThrow()
                            .watchers())
                    .extracting(RunFailures.Watcher::name)
                    .containsExactly("Failing alerts", "Only 404s", "Logger");
        }
    }

    @Test
    void an_error_workflow_that_watches_an_unknown_or_an_error_workflow_or_nothing_is_a_400_naming_the_field() {
        JsonNode other = api.createWorkflow(
                api.newUser(), "manual", "https://example.com/hook", Map.of()); // another workspace's
        JsonNode errorWorkflow = watching("Errors", "all", "https://example.com/errors");

        for (Object workflows : List.of(
                List.of(other.path("id").asLong()),
                List.of(errorWorkflow.path("id").asLong()),
                List.of(),
                "some",
                List.of("1"))) {
            Map<String, Object> body = new HashMap<>();
            body.put("name", "bad");
            body.put("trigger_type", "run_failed");
            body.put("trigger_config", Map.of("workflows", workflows));
            body.put("action_url", "https://example.com/errors");
            Api.Response refused = api.post("/workflows", user.token(), body);
            assertThat(refused.status()).as(workflows + ": " + refused.body()).isEqualTo(400);
            assertThat(refused.body()).as(String.valueOf(workflows)).contains("trigger_config.workflows");
        }
    }
}
