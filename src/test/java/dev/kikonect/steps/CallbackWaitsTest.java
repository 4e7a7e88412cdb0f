package dev.kikonect.steps;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Steps that wait for a callback ({@code wait: {for: callback}}) over HTTP on the real database: the resume URL is in
 * every step's expressions from the start of the run ({@code waits.<key>.url}); a POST to it (no login) resumes the
 * step once with the JSON posted as its response (202, then 409), also when it comes before the wait began; another
 * run's token or an altered one is a 404; at the timeout the step fails, or with on_timeout continue succeeds with a
 * null response.
 */
class CallbackWaitsTest extends ApiTest {

    private Api.User user;

    @BeforeEach
    void user() {
        user = api.newUser();
    }

    private long create(Map<String, Object> wait, Sink sink) {
        Map<String, Object> body = new HashMap<>();
        body.put("name", "contract");
        body.put("trigger_type", "manual");
        body.put("max_attempts", 1);
        body.put(
                "steps",
                List.of(
                        Map.of(
                                "key",
                                "contract",
                                "url",
                                sink.url("/sign"),
                                "body",
                                "{ 'doc': payload.doc, 'callback': waits.signed.url }"),
                        Map.of("key", "signed", "needs", List.of("contract"), "wait", wait),
                        Map.of(
                                "key",
                                "archive",
                                "needs",
                                List.of("signed"),
                                "url",
                                sink.url("/archive"),
                                "body",
                                "{ 'by': steps.signed.response.body.by, 'timed_out': steps.signed.timed_out }")));
        Api.Response created = api.post("/workflows", user.token(), body);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json().path("id").asLong();
    }

    private long fire(long workflow) {
        Api.Response accepted = api.post("/workflows/" + workflow + "/trigger", user.token(), Map.of("doc", "nda"));
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

    private static List<Sink.Received> at(Sink sink, String path) {
        return sink.received().stream().filter(r -> r.path().equals(path)).toList();
    }

    /** The resume path the first step was sent (waits.signed.url), once it was sent. */
    private String resumePath(Sink sink) {
        eventually().until(() -> at(sink, "/sign").size(), n -> n >= 1);
        String url = Api.JSON
                .readTree(at(sink, "/sign").get(at(sink, "/sign").size() - 1).body())
                .path("callback")
                .asString();
        assertThat(url).contains("/resume/");
        return URI.create(url).getRawPath();
    }

    private Api.Response post(String path, String json) {
        return api.sendWithHeaders("POST", path, "application/json", json, Map.of());
    }

    @Test
    void the_callback_resumes_the_step_once_with_what_it_posted_and_the_steps_after_it_read_it() {
        try (Sink sink = new Sink()) {
            long runId = fire(create(Map.of("for", "callback", "timeout", "P7D"), sink));
            String resume = resumePath(sink);
            eventually()
                    .until(
                            () -> run(runId),
                            r -> step(r, "signed").path("status").asString().equals("pending")
                                    && !step(r, "signed")
                                            .path("next_attempt_at")
                                            .isNull());
            assertThat(at(sink, "/archive")).isEmpty();

            Api.Response first = post(resume, "{\"signed\":true,\"by\":\"ada@example.com\"}");
            Api.Response again = post(resume, "{\"signed\":true,\"by\":\"mallory@example.com\"}");

            assertThat(first.status()).as(first.body()).isEqualTo(202);
            assertThat(first.json().path("step").asString()).isEqualTo("signed");
            assertThat(again.status()).as("single use").isEqualTo(409);
            JsonNode done = awaitFinished(user, runId);
            assertThat(done.path("status").asString()).isEqualTo("succeeded");
            assertThat(at(sink, "/archive")).hasSize(1);
            assertThat(Api.JSON
                            .readTree(at(sink, "/archive").get(0).body())
                            .path("by")
                            .asString())
                    .isEqualTo("ada@example.com");
            assertThat(Api.JSON
                            .readTree(at(sink, "/archive").get(0).body())
                            .path("timed_out")
                            .asBoolean(true))
                    .as("a step resumed in time did not time out")
                    .isFalse();
        }
    }

    @Test
    void a_callback_before_the_wait_began_is_kept_and_a_wrong_or_another_runs_token_is_a_404() {
        try (Sink sink = new Sink().replyWith(r -> {
            if (r.path().equals("/sign")) {
                // the signing service calls back at once, before KiKonect has even recorded this step's answer
                String callback = Api.JSON.readTree(r.body()).path("callback").asString();
                Api.Response early = api.sendWithHeaders(
                        "POST", URI.create(callback).getRawPath(), "application/json", "{\"by\":\"quick\"}", Map.of());
                assertThat(early.status()).isEqualTo(202);
            }
            return Sink.Reply.status(200);
        })) {
            long workflow = create(Map.of("for", "callback"), sink);
            long runId = fire(workflow);
            JsonNode done = awaitFinished(user, runId);
            assertThat(done.path("status").asString()).isEqualTo("succeeded");
            assertThat(Api.JSON
                            .readTree(at(sink, "/archive").get(0).body())
                            .path("by")
                            .asString())
                    .isEqualTo("quick");

            String resume = URI.create(Api.JSON
                            .readTree(at(sink, "/sign").get(0).body())
                            .path("callback")
                            .asString())
                    .getRawPath();
            String token = resume.substring("/resume/".length());
            String otherRun = token.replaceFirst("^\\d+", String.valueOf(runId + 1));
            String altered = token.substring(0, token.length() - 1) + (token.endsWith("A") ? "B" : "A");
            assertThat(post("/resume/" + otherRun, "{}").status()).isEqualTo(404);
            assertThat(post("/resume/" + altered, "{}").status()).isEqualTo(404);
            assertThat(post("/resume/nonsense", "{}").status()).isEqualTo(404);
        }
    }

    @Test
    void at_its_timeout_a_callback_wait_fails_or_with_on_timeout_continue_succeeds_with_no_response() {
        try (Sink sink = new Sink()) {
            long failing = fire(create(Map.of("for", "callback", "timeout", "PT10M"), sink));
            long continuing =
                    fire(create(Map.of("for", "callback", "timeout", "PT10M", "on_timeout", "continue"), sink));
            for (long id : List.of(failing, continuing)) {
                eventually()
                        .until(
                                () -> run(id),
                                r -> step(r, "signed").path("status").asString().equals("pending")
                                        && !step(r, "signed")
                                                .path("next_attempt_at")
                                                .isNull());
            }

            clock.advance(Duration.ofMinutes(11));

            JsonNode failed = awaitFinished(user, failing);
            assertThat(failed.path("status").asString()).isEqualTo("failed");
            assertThat(step(failed, "signed").path("error").asString()).contains("no callback came before its timeout");
            JsonNode continued = awaitFinished(user, continuing);
            assertThat(continued.path("status").asString()).isEqualTo("succeeded");
            assertThat(step(continued, "signed").path("timed_out").asBoolean()).isTrue();
            assertThat(step(failed, "signed").path("timed_out").asBoolean()).isFalse();
            assertThat(at(sink, "/archive")).as("only the run that continued").hasSize(1);
            JsonNode archived = Api.JSON.readTree(at(sink, "/archive").get(0).body());
            assertThat(archived.path("timed_out").asBoolean())
                    .as("steps.signed.timed_out, and no response")
                    .isTrue();
            assertThat(archived.has("by")).isFalse();
        }
    }

    /** The resume path sent to the first step of run {@code runId} (its token starts with the run's id). */
    private String resumePathOf(Sink sink, long runId) {
        return eventually()
                .until(
                        () -> at(sink, "/sign").stream()
                                .map(r -> URI.create(Api.JSON
                                                .readTree(r.body())
                                                .path("callback")
                                                .asString())
                                        .getRawPath())
                                .filter(path -> path.startsWith("/resume/" + runId + "."))
                                .findFirst(),
                        Optional::isPresent)
                .orElseThrow();
    }

    private void awaitWaiting(long runId) {
        eventually()
                .until(
                        () -> run(runId),
                        // a step waiting again after a retry shows as retrying (it has an attempt behind it)
                        r -> List.of("pending", "retrying")
                                        .contains(
                                                step(r, "signed").path("status").asString())
                                && !step(r, "signed").path("next_attempt_at").isNull());
    }

    @Test
    void cancel_ends_a_callback_wait_a_replay_waits_anew_at_a_new_url_and_a_retry_waits_again_at_the_same_url() {
        try (Sink sink = new Sink()) {
            long workflow = create(Map.of("for", "callback", "timeout", "PT10M"), sink);
            long cancelled = fire(workflow);
            long timedOut = fire(workflow);
            long resumed = fire(workflow);
            for (long id : List.of(cancelled, timedOut, resumed)) {
                awaitWaiting(id);
            }

            // Cancel ends the wait: its URL takes no callback, nothing after it is sent.
            assertThat(api.post("/runs/" + cancelled + "/cancel", user.token(), Map.of())
                            .status())
                    .isIn(200, 202);
            assertThat(post(resumePathOf(sink, cancelled), "{\"by\":\"late\"}").status())
                    .isEqualTo(409);

            // A replay is a new run with new waits: its own URL, the old one spent.
            String first = resumePathOf(sink, resumed);
            assertThat(post(first, "{\"by\":\"ada\"}").status()).isEqualTo(202);
            assertThat(awaitFinished(user, resumed).path("status").asString()).isEqualTo("succeeded");
            Api.Response replay = api.post("/runs/" + resumed + "/replay", user.token(), Map.of());
            assertThat(replay.status()).as(replay.body()).isEqualTo(202);
            long replayed = replay.json().path("id").asLong();
            String second = resumePathOf(sink, replayed);
            assertThat(second).isNotEqualTo(first);
            awaitWaiting(replayed);
            assertThat(post(first, "{\"by\":\"mallory\"}").status())
                    .as("the first run's URL stays spent")
                    .isEqualTo(409);
            assertThat(post(second, "{\"by\":\"grace\"}").status()).isEqualTo(202);
            assertThat(awaitFinished(user, replayed).path("status").asString()).isEqualTo("succeeded");

            // A retry from the failure waits again, at the same URL (the step before is not sent again).
            clock.advance(Duration.ofMinutes(11));
            assertThat(awaitFinished(user, timedOut).path("status").asString()).isEqualTo("failed");
            assertThat(api.post("/runs/" + timedOut + "/retry", user.token(), Map.of())
                            .status())
                    .isIn(200, 202);
            awaitWaiting(timedOut);
            assertThat(post(resumePathOf(sink, timedOut), "{\"by\":\"linus\"}").status())
                    .isEqualTo(202);
            assertThat(awaitFinished(user, timedOut).path("status").asString()).isEqualTo("succeeded");

            assertThat(at(sink, "/archive"))
                    .extracting(r -> Api.JSON.readTree(r.body()).path("by").asString())
                    .as("the cancelled run archived nothing; the others once each, with their own callback")
                    .containsExactlyInAnyOrder("ada", "grace", "linus");
            assertThat(at(sink, "/sign").stream()
                            .filter(r -> Api.JSON
                                    .readTree(r.body())
                                    .path("callback")
                                    .asString()
                                    .contains("/resume/" + timedOut + "."))
                            .count())
                    .as("the retry did not send the step before the wait again")
                    .isEqualTo(1);
        }
    }

    @Test
    void twenty_callbacks_at_once_to_one_url_resume_the_step_once_with_the_winners_json() throws Exception {
        try (Sink sink = new Sink()) {
            long runId = fire(create(Map.of("for", "callback", "timeout", "P7D"), sink));
            String resume = resumePath(sink);
            awaitWaiting(runId);
            CountDownLatch go = new CountDownLatch(1);
            Map<String, Integer> answers = new ConcurrentHashMap<>();
            try (ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < 20; i++) {
                    String by = "signer-" + i;
                    senders.execute(() -> {
                        try {
                            go.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        answers.put(by, post(resume, "{\"by\":\"" + by + "\"}").status());
                    });
                }
                go.countDown();
            }

            assertThat(answers).hasSize(20);
            List<String> winners = answers.entrySet().stream()
                    .filter(e -> e.getValue() == 202)
                    .map(Map.Entry::getKey)
                    .toList();
            assertThat(winners).as("one 202, whoever came first").hasSize(1);
            assertThat(answers.values()).filteredOn(status -> status != 202).containsOnly(409);
            assertThat(awaitFinished(user, runId).path("status").asString()).isEqualTo("succeeded");
            assertThat(at(sink, "/archive")).hasSize(1);
            assertThat(Api.JSON
                            .readTree(at(sink, "/archive").get(0).body())
                            .path("by")
                            .asString())
                    .as("the step after the wait got what the accepted callback posted")
                    .isEqualTo(winners.get(0));
        }
    }
}
