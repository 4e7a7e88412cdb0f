package dev.kikonect.steps;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Steps that wait for a delay ({@code wait: {for: delay, duration | until}}) over HTTP on the real database, on the
 * test clock: the wait begins when the step would start, holds only its job row (pending, due at the end of the wait),
 * and the step is sent once when the clock reaches it; a step that only waits succeeds; cancel ends a wait; what
 * cannot be a wait is a 400 naming the field.
 */
class DelayWaitsTest extends ApiTest {

    private Api.User user;

    @BeforeEach
    void user() {
        user = api.newUser();
    }

    private long create(List<Map<String, Object>> steps) {
        Map<String, Object> body = new HashMap<>();
        body.put("name", "waits");
        body.put("trigger_type", "manual");
        body.put("steps", steps);
        Api.Response created = api.post("/workflows", user.token(), body);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json().path("id").asLong();
    }

    private long fire(long workflow, Object payload) {
        Api.Response accepted = api.post("/workflows/" + workflow + "/trigger", user.token(), payload);
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
        return accepted.json().path("id").asLong();
    }

    private JsonNode run(long id) {
        return api.get("/runs/" + id, user.token()).json();
    }

    private static JsonNode step(JsonNode run, String key) {
        for (JsonNode s : run.path("steps")) {
            if (s.path("key").asString().equals(key)) {
                return s;
            }
        }
        throw new AssertionError("no step " + key + " in " + run);
    }

    /** The run once {@code key}'s wait has begun: the step pending, due at the end of its wait. */
    private JsonNode waiting(long runId, String key) {
        return eventually()
                .until(
                        () -> run(runId),
                        r -> step(r, key).path("status").asString().equals("pending")
                                && !step(r, key).path("next_attempt_at").isNull());
    }

    private static List<Sink.Received> at(Sink sink, String path) {
        return sink.received().stream().filter(r -> r.path().equals(path)).toList();
    }

    @Test
    void a_delay_holds_only_its_job_until_the_clock_reaches_it_then_the_step_after_it_is_sent_once() {
        try (Sink sink = new Sink()) {
            long workflow = create(List.of(
                    Map.of("key", "contract", "url", sink.url("/contract")),
                    Map.of(
                            "key",
                            "pause",
                            "needs",
                            List.of("contract"),
                            "wait",
                            Map.of("for", "delay", "duration", "PT1H")),
                    Map.of(
                            "key",
                            "remind",
                            "needs",
                            List.of("pause"),
                            "url",
                            sink.url("/remind"),
                            "body",
                            "{ 'paused': steps.pause.status }")));
            Instant fired = clock.instant();
            long runId = fire(workflow, Map.of("doc", 7));

            JsonNode run = waiting(runId, "pause");

            assertThat(Instant.parse(step(run, "pause").path("next_attempt_at").asString()))
                    .as("due at the end of its hour")
                    .isAfterOrEqualTo(fired.plus(Duration.ofHours(1)));
            assertThat(step(run, "remind").path("status").asString()).isEqualTo("waiting");
            assertThat(at(sink, "/contract")).hasSize(1);
            assertThat(at(sink, "/remind")).as("not before the hour").isEmpty();

            clock.advance(Duration.ofMinutes(61));
            JsonNode done = awaitFinished(user, runId);

            assertThat(done.path("status").asString()).isEqualTo("succeeded");
            assertThat(step(done, "pause").path("status").asString()).isEqualTo("succeeded");
            assertThat(step(done, "pause").path("attempt_count").asInt())
                    .as("the wait spent no attempt")
                    .isEqualTo(1);
            assertThat(at(sink, "/remind")).hasSize(1);
            assertThat(Api.JSON
                            .readTree(at(sink, "/remind").get(0).body())
                            .path("paused")
                            .asString())
                    .isEqualTo("succeeded");
        }
    }

    @Test
    void a_step_waits_until_the_time_its_expression_gives_and_a_time_past_sends_it_at_once() {
        try (Sink sink = new Sink()) {
            long workflow = create(List.of(
                    Map.of("key", "first", "url", sink.url("/first")),
                    Map.of(
                            "key",
                            "remind",
                            "needs",
                            List.of("first"),
                            "url",
                            sink.url("/remind"),
                            "wait",
                            Map.of("for", "delay", "until", "payload.remind_at"))));
            Instant remindAt = clock.instant().plus(Duration.ofDays(3));
            long later = fire(workflow, Map.of("remind_at", remindAt.toString()));
            long past = fire(
                    workflow,
                    Map.of(
                            "remind_at",
                            clock.instant().minus(Duration.ofDays(1)).toString()));

            JsonNode run = waiting(later, "remind");
            assertThat(Instant.parse(step(run, "remind").path("next_attempt_at").asString()))
                    .isEqualTo(remindAt);
            assertThat(awaitFinished(user, past).path("status").asString())
                    .as("a time already past: sent at once")
                    .isEqualTo("succeeded");
            assertThat(at(sink, "/remind")).hasSize(1);

            clock.advance(Duration.ofDays(3).plusMinutes(1));
            assertThat(awaitFinished(user, later).path("status").asString()).isEqualTo("succeeded");
            assertThat(at(sink, "/remind")).hasSize(2);
        }
    }

    @Test
    void cancel_ends_a_wait_and_nothing_after_it_is_sent() {
        try (Sink sink = new Sink()) {
            long workflow = create(List.of(
                    Map.of("key", "first", "url", sink.url("/first")),
                    Map.of(
                            "key",
                            "later",
                            "needs",
                            List.of("first"),
                            "url",
                            sink.url("/later"),
                            "wait",
                            Map.of("for", "delay", "duration", "PT2H"))));
            long runId = fire(workflow, Map.of());
            waiting(runId, "later");

            Api.Response cancelled = api.post("/runs/" + runId + "/cancel", user.token(), "");
            assertThat(cancelled.status()).as(cancelled.body()).isLessThan(300);
            clock.advance(Duration.ofHours(3));
            JsonNode run = eventually()
                    .until(() -> run(runId), r -> r.path("status").asString().equals("cancelled"));

            assertThat(run.path("status").asString()).isEqualTo("cancelled");
            assertThat(step(run, "later").path("status").asString()).isEqualTo("cancelled");
            assertThat(at(sink, "/later")).isEmpty();
        }
    }

    @Test
    void what_cannot_be_a_wait_is_a_400_naming_the_field() {
        Map<String, Object> body = new HashMap<>();
        body.put("name", "bad waits");
        body.put("trigger_type", "manual");
        body.put(
                "steps",
                List.of(
                        Map.of("key", "a", "wait", Map.of("for", "later")),
                        Map.of("key", "b", "wait", Map.of("for", "delay", "duration", "soon")),
                        Map.of("key", "c", "wait", Map.of("for", "delay", "duration", "PT1M", "until", "x")),
                        Map.of("key", "d", "wait", Map.of("for", "delay", "duration", "P400D"))));

        Api.Response refused = api.post("/workflows", user.token(), body);

        assertThat(refused.status()).isEqualTo(400);
        Set<String> fields = new HashSet<>();
        refused.json().path("errors").forEach(e -> fields.add(e.path("field").asString()));
        assertThat(fields)
                .containsExactlyInAnyOrder(
                        "steps[0].wait.for", "steps[1].wait.duration", "steps[2].wait", "steps[3].wait.duration");
        assertThat(refused.body()).contains("must be delay, callback or approval");
    }
}
