package dev.kikonect.workspace;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Approvals ({@code wait: {for: approval}}) over HTTP on the real database, in a team: the step waits holding its job
 * row only and is listed with its message and payload; a member below the step's roles gets 403, one at or above them
 * decides once (409 after); approval sends the steps after it with the decision, rejection fails the step with the
 * comment; both are in the audit log; at the timeout the step fails.
 */
class ApprovalsTest extends ApiTest {

    private static JsonNode step(JsonNode run, String key) {
        for (JsonNode s : run.path("steps")) {
            if (s.path("key").asString().equals(key)) {
                return s;
            }
        }
        throw new AssertionError("no step " + key + " in " + run);
    }

    /** A manual workflow of one step "ok" that waits as {@code wait} says; its id. */
    private long approvalWorkflow(Api.User owner, Map<String, Object> wait) {
        Map<String, Object> workflow = new HashMap<>();
        workflow.put("name", "approval");
        workflow.put("trigger_type", "manual");
        workflow.put("steps", List.of(Map.of("key", "ok", "wait", wait)));
        return api.post("/workflows", owner.token(), workflow).json().path("id").asLong();
    }

    private long trigger(Api.User owner, long workflow, Map<String, Object> payload) {
        return api.post("/workflows/" + workflow + "/trigger", owner.token(), payload)
                .json()
                .path("id")
                .asLong();
    }

    @Test
    void an_admin_approves_a_refund_once_an_editor_may_not_a_rejection_fails_the_step_and_the_audit_log_has_both() {
        try (Sink sink = new Sink()) {
            Api.User owner = api.newUser();
            long team = WorkspacesTest.team(api, owner, "Refunds");
            Api.User admin = WorkspacesTest.member(api, owner, team, "admin");
            Api.User editor = WorkspacesTest.member(api, owner, team, "editor");
            Api teamApi = api.in(team);
            Map<String, Object> workflow = new HashMap<>();
            workflow.put("name", "refunds");
            workflow.put("trigger_type", "manual");
            workflow.put(
                    "steps",
                    List.of(
                            Map.of(
                                    "key",
                                    "refund_ok",
                                    "wait",
                                    Map.of(
                                            "for",
                                            "approval",
                                            "roles",
                                            List.of("admin"),
                                            "message",
                                            "Refund {{ payload.amount }}?")),
                            Map.of(
                                    "key",
                                    "refund",
                                    "needs",
                                    List.of("refund_ok"),
                                    "url",
                                    sink.url("/refund"),
                                    "body",
                                    "{ 'amount': payload.amount, 'by': steps.refund_ok.response.body.by }")));
            Api.Response created = teamApi.post("/workflows", owner.token(), workflow);
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            long id = created.json().path("id").asLong();
            long approved = teamApi.post("/workflows/" + id + "/trigger", owner.token(), Map.of("amount", 750))
                    .json()
                    .path("id")
                    .asLong();
            long rejected = teamApi.post("/workflows/" + id + "/trigger", owner.token(), Map.of("amount", 9000))
                    .json()
                    .path("id")
                    .asLong();

            JsonNode listed = eventually()
                    .until(
                            () -> teamApi.get("/approvals", editor.token())
                                    .json()
                                    .path("items"),
                            items -> items.size() == 2);
            assertThat(listed.get(0).path("message").asString()).isEqualTo("Refund 750?");
            assertThat(listed.get(0).path("payload").path("amount").asInt()).isEqualTo(750);
            assertThat(listed.get(0).path("may_decide").asBoolean())
                    .as("an editor, below admin")
                    .isFalse();
            assertThat(teamApi.get("/approvals", admin.token())
                            .json()
                            .path("items")
                            .get(0)
                            .path("may_decide")
                            .asBoolean())
                    .isTrue();

            Api.Response refused = teamApi.post(
                    "/runs/" + approved + "/steps/refund_ok/approve", editor.token(), Map.of("comment", "sure"));
            assertThat(refused.status()).as(refused.body()).isEqualTo(403);
            Api.Response yes = teamApi.post(
                    "/runs/" + approved + "/steps/refund_ok/approve", admin.token(), Map.of("comment", "customer ok"));
            assertThat(yes.status()).as(yes.body()).isEqualTo(200);
            assertThat(yes.json().path("decision").asString()).isEqualTo("approved");
            assertThat(teamApi.post("/runs/" + approved + "/steps/refund_ok/reject", owner.token(), Map.of())
                            .status())
                    .as("decided once")
                    .isEqualTo(409);
            Api.Response no = teamApi.post(
                    "/runs/" + rejected + "/steps/refund_ok/reject", owner.token(), Map.of("comment", "too much"));
            assertThat(no.status()).as(no.body()).isEqualTo(200);

            JsonNode done = eventually()
                    .until(
                            () -> teamApi.get("/runs/" + approved, owner.token())
                                    .json(),
                            r -> r.path("status").asString().equals("succeeded"));
            assertThat(step(done, "refund_ok").path("status").asString()).isEqualTo("succeeded");
            assertThat(sink.received()).hasSize(1);
            assertThat(Api.JSON
                            .readTree(sink.received().get(0).body())
                            .path("by")
                            .asString())
                    .isEqualTo(admin.email());
            JsonNode failed = eventually()
                    .until(
                            () -> teamApi.get("/runs/" + rejected, owner.token())
                                    .json(),
                            r -> r.path("status").asString().equals("failed"));
            assertThat(step(failed, "refund_ok").path("error").asString())
                    .isEqualTo("rejected by " + owner.email() + ": too much");
            assertThat(step(failed, "refund").path("status").asString()).isEqualTo("skipped");
            assertThat(teamApi.get("/approvals", owner.token()).json().path("items"))
                    .isEmpty();

            String audit = teamApi.get("/audit?limit=50", owner.token()).body();
            assertThat(audit).contains("run.step_approved", "run.step_rejected", "customer ok", "too much");

            // Retry from the failure: the rejected approval is asked again, and can be decided again.
            Api.Response retried = teamApi.post("/runs/" + rejected + "/retry", owner.token(), Map.of());
            assertThat(retried.status()).as(retried.body()).isIn(200, 202);
            eventually()
                    .until(
                            () -> teamApi.get("/approvals", admin.token())
                                    .json()
                                    .path("items"),
                            items -> items.size() == 1
                                    && items.get(0).path("run_id").asLong() == rejected);
            Api.Response second = teamApi.post(
                    "/runs/" + rejected + "/steps/refund_ok/approve",
                    admin.token(),
                    Map.of("comment", "on reflection"));
            assertThat(second.status()).as(second.body()).isEqualTo(200);
            eventually()
                    .until(
                            () -> teamApi.get("/runs/" + rejected, owner.token())
                                    .json()
                                    .path("status")
                                    .asString(),
                            "succeeded"::equals);
            assertThat(sink.received()).hasSize(2);
        }
    }

    @Test
    void an_approval_nobody_decides_fails_at_its_timeout() {
        Api.User owner = api.newUser();
        long id = approvalWorkflow(owner, Map.of("for", "approval", "timeout", "PT1H"));
        long run = trigger(owner, id, Map.of());
        awaitOneApproval(owner);

        clock.advance(Duration.ofMinutes(61));

        JsonNode failed = eventually()
                .until(
                        () -> api.get("/runs/" + run, owner.token()).json(),
                        r -> r.path("status").asString().equals("failed"));
        assertThat(step(failed, "ok").path("error").asString())
                .contains("nobody approved or rejected it before its timeout");
        assertThat(api.post("/runs/" + run + "/steps/ok/approve", owner.token(), Map.of())
                        .status())
                .as("too late")
                .isEqualTo(409);
    }

    @Test
    void cancel_ends_an_approval_a_replay_asks_anew_and_on_timeout_continue_goes_on_with_timed_out() {
        Api.User owner = api.newUser();
        long id = approvalWorkflow(
                owner,
                Map.of("for", "approval", "timeout", "PT1H", "on_timeout", "continue", "message", "n={{ payload.n }}"));
        long cancelled = trigger(owner, id, Map.of("n", 1));
        long replayedFrom = trigger(owner, id, Map.of("n", 2));
        eventually()
                .until(
                        () -> api.get("/approvals", owner.token())
                                .json()
                                .path("items")
                                .size(),
                        n -> n == 2);

        assertThat(api.post("/runs/" + cancelled + "/cancel", owner.token(), Map.of())
                        .status())
                .isIn(200, 202);
        assertThat(api.post("/runs/" + cancelled + "/steps/ok/approve", owner.token(), Map.of())
                        .status())
                .as("a cancelled run's approval cannot be decided")
                .isEqualTo(409);
        assertThat(api.post("/runs/" + replayedFrom + "/steps/ok/approve", owner.token(), Map.of())
                        .status())
                .isEqualTo(200);
        assertThat(awaitFinished(owner, replayedFrom).path("status").asString()).isEqualTo("succeeded");
        long replayed = api.post("/runs/" + replayedFrom + "/replay", owner.token(), Map.of())
                .json()
                .path("id")
                .asLong();
        JsonNode listed = eventually()
                .until(() -> api.get("/approvals", owner.token()).json().path("items"), items -> items.size() == 1);
        assertThat(listed.get(0).path("run_id").asLong())
                .as("only the replay waits: the cancelled run's approval is gone, the decided one stays decided")
                .isEqualTo(replayed);
        assertThat(listed.get(0).path("message").asString()).isEqualTo("n=2");

        clock.advance(Duration.ofMinutes(61));

        JsonNode continued = awaitFinished(owner, replayed);
        assertThat(continued.path("status").asString()).isEqualTo("succeeded");
        assertThat(step(continued, "ok").path("timed_out").asBoolean()).isTrue();
        assertThat(step(awaitFinished(owner, replayedFrom), "ok")
                        .path("timed_out")
                        .asBoolean())
                .isFalse();
    }

    @Test
    void ten_decisions_at_once_decide_an_approval_once() throws Exception {
        Api.User owner = api.newUser();
        long id = approvalWorkflow(owner, Map.of("for", "approval"));
        long run = trigger(owner, id, Map.of());
        awaitOneApproval(owner);
        CountDownLatch go = new CountDownLatch(1);
        Map<String, Integer> answers = new ConcurrentHashMap<>();
        try (ExecutorService deciders = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 10; i++) {
                String decision = (i % 2 == 0 ? "approve" : "reject") + "-" + i;
                deciders.execute(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    String verb = decision.substring(0, decision.indexOf('-'));
                    answers.put(
                            decision,
                            api.post("/runs/" + run + "/steps/ok/" + verb, owner.token(), Map.of("comment", decision))
                                    .status());
                });
            }
            go.countDown();
        }

        List<String> won = answers.entrySet().stream()
                .filter(e -> e.getValue() == 200)
                .map(Map.Entry::getKey)
                .toList();
        assertThat(won).as("decided once").hasSize(1);
        assertThat(answers.values()).filteredOn(status -> status != 200).containsOnly(409);
        JsonNode done = eventually()
                .until(
                        () -> api.get("/runs/" + run, owner.token()).json(),
                        r -> List.of("succeeded", "failed")
                                .contains(r.path("status").asString()));
        assertThat(done.path("status").asString())
                .as("as the one decision that counted said")
                .isEqualTo(won.get(0).startsWith("approve") ? "succeeded" : "failed");
    }

    /** Waits until the approval the workflow just reached is on the Approvals list. */
    private void awaitOneApproval(Api.User owner) {
        eventually()
                .until(
                        () -> api.get("/approvals", owner.token())
                                .json()
                                .path("items")
                                .size(),
                        n -> n == 1);
    }
}
