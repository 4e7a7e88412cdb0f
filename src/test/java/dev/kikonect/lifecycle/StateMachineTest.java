package dev.kikonect.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Every lifecycle statement, driven through the API and the live executor, changes statuses only as the three machines
 * allow ({@link RunStatus#TRANSITIONS}, {@link StepStatus#TRANSITIONS}, {@link JobStatus#TRANSITIONS}): a trigger on
 * the three tables records each insert and change of status while the test runs (the application's own executor and
 * scheduler included), and any pair the tables lack fails the test.
 */
class StateMachineTest extends ApiTest {

    @Autowired
    JdbcClient jdbc;

    private final Sink sink = new Sink();

    private TransitionLog log;

    @BeforeEach
    void record() {
        log = new TransitionLog(jdbc);
        log.start();
    }

    @AfterEach
    void stopRecording() {
        sink.close();
        log.stop();
    }

    @Test
    void every_lifecycle_statement_moves_runs_steps_and_jobs_only_along_their_machines() {
        AtomicInteger calls = new AtomicInteger();
        sink.replyWith(r -> r.path().startsWith("/flaky") && calls.incrementAndGet() % 2 == 1
                ? Sink.Reply.status(503)
                : r.path().startsWith("/bad") ? Sink.Reply.status(400) : Sink.Reply.status(200));
        Api.User user = api.newUser();
        String base = sink.url().replace("/hook", "");

        // one-step runs: success; a retry, then success; a failure; retried from the failure
        long plain = api.createWorkflow(user, "manual", base + "/ok", Map.of())
                .path("id")
                .asLong();
        long flaky = api.createWorkflow(user, "manual", base + "/flaky", Map.of())
                .path("id")
                .asLong();
        long bad = api.createWorkflow(user, "manual", base + "/bad", Map.of(), Map.of("max_attempts", 1))
                .path("id")
                .asLong();
        List<Long> started = new ArrayList<>();
        for (long w : new long[] {plain, flaky, bad}) {
            started.add(api.post("/workflows/" + w + "/trigger", user.token(), "{}")
                    .json()
                    .path("id")
                    .asLong());
        }
        started.forEach(r -> awaitFinished(user, r));
        assertThat(api.post("/runs/" + started.get(2) + "/retry", user.token(), Map.of())
                        .status())
                .isEqualTo(202);
        awaitFinished(user, started.get(2));

        // filters: false (filtered) and failing (failed at once)
        long filtered = api.post(
                        "/workflows",
                        user.token(),
                        Map.of(
                                "name",
                                "f",
                                "trigger_type",
                                "manual",
                                "action_url",
                                base + "/ok",
                                "filter",
                                "payload.n > 1"))
                .json()
                .path("id")
                .asLong();
        api.post("/workflows/" + filtered + "/trigger", user.token(), "{\"n\":0}");
        api.post("/workflows/" + filtered + "/trigger", user.token(), "{\"n\":\"x\"}");

        // steps: needs, a `when` that is false, a failing step and the ones after it skipped, then retried
        long chain = api.post(
                        "/workflows",
                        user.token(),
                        Map.of(
                                "name",
                                "chain",
                                "trigger_type",
                                "manual",
                                "steps",
                                List.of(
                                        Map.of("key", "a", "url", base + "/ok"),
                                        Map.of("key", "b", "url", base + "/ok", "needs", List.of("a")),
                                        Map.of("key", "quiet", "url", base + "/ok", "when", "false"),
                                        Map.of(
                                                "key",
                                                "c",
                                                "url",
                                                base + "/bad",
                                                "needs",
                                                List.of("a"),
                                                "max_attempts",
                                                1),
                                        Map.of("key", "d", "url", base + "/ok", "needs", List.of("c")),
                                        Map.of("key", "e", "url", base + "/flaky", "needs", List.of("b")))))
                .json()
                .path("id")
                .asLong();
        long chained = api.post("/workflows/" + chain + "/trigger", user.token(), "{}")
                .json()
                .path("id")
                .asLong();
        awaitFinished(user, chained);
        assertThat(api.post("/runs/" + chained + "/retry", user.token(), Map.of())
                        .status())
                .isEqualTo(202);
        awaitFinished(user, chained);

        // cancel: a run with steps while its first step hangs at the receiver
        sink.replyWith(r -> r.path().startsWith("/hang") ? Sink.Reply.hanging() : Sink.Reply.status(200));
        long hanging = api.post(
                        "/workflows",
                        user.token(),
                        Map.of(
                                "name",
                                "hang",
                                "trigger_type",
                                "manual",
                                "steps",
                                List.of(
                                        Map.of("key", "slow", "url", base + "/hang", "timeout", 1, "max_attempts", 1),
                                        Map.of("key", "after", "url", base + "/ok", "needs", List.of("slow")))))
                .json()
                .path("id")
                .asLong();
        long cancelled = api.post("/workflows/" + hanging + "/trigger", user.token(), "{}")
                .json()
                .path("id")
                .asLong();
        eventually()
                .until(() -> "running"
                        .equals(api.get("/runs/" + cancelled, user.token())
                                .json()
                                .path("status")
                                .asString()));
        assertThat(api.post("/runs/" + cancelled + "/cancel", user.token(), Map.of())
                        .status())
                .isEqualTo(200);
        eventually()
                .until(() -> !"running"
                        .equals(api.get("/runs/" + cancelled, user.token())
                                .json()
                                .path("steps")
                                .get(0)
                                .path("status")
                                .asString()));

        TransitionLog.Seen seen = log.seen();
        assertThat(seen.illegal())
                .as("status changes the machines lack (seen: %s)", seen.changes())
                .isEmpty();
        assertThat(seen.changes())
                .as("the test drove the machines (the lease statements: StateMachineQueueTest)")
                .contains(
                        "workflow_runs: running -> retrying",
                        "workflow_runs: failed -> pending",
                        "workflow_runs: running -> cancelled",
                        "run_steps: waiting -> pending",
                        "run_steps: waiting -> skipped",
                        "run_steps: running -> skipped",
                        "run_steps: failed -> pending");
    }
}
