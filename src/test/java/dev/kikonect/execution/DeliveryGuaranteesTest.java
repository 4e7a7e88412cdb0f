package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.lifecycle.Attempt;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/** Retries, the attempt log, signatures and cancellation, end to end. (Test retry delays: 100 ms, then 200 ms.) */
public class DeliveryGuaranteesTest extends ApiTest {

    private final Sink sink = new Sink();

    @Autowired
    JdbcClient jdbc;

    @AfterEach
    void closeSink() {
        sink.close();
    }

    private long fire(Api.User user, JsonNode workflow, String body) {
        return api.send("POST", workflow.path("webhook_url").asString(), null, "application/json", body)
                .json()
                .path("id")
                .asLong();
    }

    @Test
    void a_receiver_failing_twice_then_answering_200_gives_a_succeeded_run_with_three_attempts() {
        AtomicInteger calls = new AtomicInteger();
        sink.replyWith(r -> calls.incrementAndGet() <= 2
                ? new Sink.Reply(503, Map.of(), "busy, try later", false)
                : Sink.Reply.status(200));
        Api.User user = api.newUser();
        long runId = fire(user, api.createWorkflow(user, "webhook", sink.url(), Map.of()), "{\"n\":1}");

        JsonNode run = awaitFinished(user, runId);

        assertThat(run.path("status").asString()).isEqualTo("succeeded");
        assertThat(run.path("error").isNull()).isTrue();
        assertThat(run.path("attempt_count").asInt()).isEqualTo(3);
        List<JsonNode> attempts = run.path("attempts").valueStream().toList();
        assertThat(attempts).extracting(a -> a.path("number").asInt()).containsExactly(1, 2, 3);
        assertThat(attempts).extracting(a -> a.path("response_status").asInt()).containsExactly(503, 503, 200);
        assertThat(attempts.get(0).path("error").asString()).isEqualTo("HTTP 503");
        assertThat(attempts.get(0).path("response_body").asString()).isEqualTo("busy, try later");
        assertThat(attempts.get(0).path("duration_ms").asLong()).isGreaterThanOrEqualTo(0);
        assertThat(sink.received()).hasSize(3);
        // One delivery, one webhook-id, whatever the attempt; a fresh timestamp and signature on each.
        assertThat(sink.received())
                .extracting(r -> r.header("webhook-id"))
                .containsOnly(sink.received().get(0).header("webhook-id"));
    }

    @Test
    void a_retrying_run_shows_retrying_with_its_next_attempt_time() {
        sink.replyWith(r -> new Sink.Reply(429, Map.of("Retry-After", "30"), "", false));
        Api.User user = api.newUser();
        long runId = fire(user, api.createWorkflow(user, "webhook", sink.url(), Map.of()), "{}");

        JsonNode run = eventually()
                .until(
                        () -> api.get("/runs/" + runId, user.token()).json(),
                        r -> r.path("status").asString().equals("retrying"));

        Instant next = Instant.parse(run.path("next_attempt_at").asString());
        assertThat(Duration.between(clock.instant(), next)).isBetween(Duration.ofSeconds(25), Duration.ofSeconds(31));
        assertThat(run.path("error").asString()).isEqualTo("HTTP 429");
    }

    @Test
    void retry_after_2_delays_the_next_attempt_by_at_least_2_seconds() {
        AtomicInteger calls = new AtomicInteger();
        sink.replyWith(r -> calls.incrementAndGet() == 1
                ? new Sink.Reply(503, Map.of("Retry-After", "2"), "", false)
                : Sink.Reply.status(200));
        Api.User user = api.newUser();
        long runId = fire(user, api.createWorkflow(user, "webhook", sink.url(), Map.of()), "{}");

        assertThat(awaitFinished(user, runId).path("status").asString()).isEqualTo("succeeded");
        List<Sink.Received> received = sink.received();
        assertThat(received).hasSize(2);
        assertThat(Duration.between(received.get(0).at(), received.get(1).at()))
                .isGreaterThanOrEqualTo(Duration.ofMillis(1990));
    }

    @Test
    void a_finished_run_leaves_the_queue_while_a_retrying_one_stays_in_it() {
        AtomicInteger calls = new AtomicInteger();
        sink.replyWith(r -> switch (calls.incrementAndGet()) {
            case 1 -> Sink.Reply.status(200);
            case 2 -> Sink.Reply.status(400);
            default -> new Sink.Reply(503, Map.of("Retry-After", "3600"), "", false);
        });
        Api.User user = api.newUser();
        JsonNode workflow = api.createWorkflow(user, "webhook", sink.url(), Map.of());
        long succeeded = fire(user, workflow, "{}");
        awaitFinished(user, succeeded);
        long failed = fire(user, workflow, "{}");
        awaitFinished(user, failed);
        long retrying = fire(user, workflow, "{}");
        eventually()
                .until(() -> api.get("/runs/" + retrying, user.token())
                        .json()
                        .path("status")
                        .asString()
                        .equals("retrying"));

        assertThat(jobsOf(succeeded)).isZero();
        assertThat(jobsOf(failed)).isZero();
        assertThat(jobsOf(retrying)).isOne();
        assertThat(api.get("/runs/" + succeeded, user.token())
                        .json()
                        .path("status")
                        .asString())
                .isEqualTo("succeeded");
        assertThat(api.get("/runs/" + failed, user.token())
                        .json()
                        .path("status")
                        .asString())
                .isEqualTo("failed");
    }

    private long jobsOf(long runId) {
        return jdbc.sql("SELECT count(*) FROM jobs WHERE run_id = :id")
                .param("id", runId)
                .query(Long.class)
                .single();
    }

    @Test
    void a_400_fails_at_once_with_one_attempt() {
        sink.replyWith(400);
        Api.User user = api.newUser();
        long runId = fire(user, api.createWorkflow(user, "webhook", sink.url(), Map.of()), "{}");

        JsonNode run = awaitFinished(user, runId);

        assertThat(run.path("status").asString()).isEqualTo("failed");
        assertThat(run.path("error").asString()).isEqualTo("HTTP 400");
        assertThat(run.path("attempts").size()).isEqualTo(1);
        assertThat(sink.received()).hasSize(1);
    }

    @Test
    void a_workflow_max_attempts_bounds_the_retries_and_the_run_ends_failed_with_the_last_reason() {
        sink.replyWith(500);
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(user, "webhook", sink.url(), Map.of(), Map.of("max_attempts", 3));
        assertThat(wf.path("max_attempts").asInt()).isEqualTo(3);

        JsonNode run = awaitFinished(user, fire(user, wf, "{}"));

        assertThat(run.path("status").asString()).isEqualTo("failed");
        assertThat(run.path("error").asString()).isEqualTo("HTTP 500");
        assertThat(run.path("attempts").size()).isEqualTo(3);
        assertThat(run.path("next_attempt_at").isNull()).isTrue();
        assertThat(sink.received()).hasSize(3);
    }

    @Test
    void max_attempts_must_be_between_1_and_20() {
        Api.User user = api.newUser();
        for (int bad : new int[] {0, 21}) {
            Api.Response response = api.post(
                    "/workflows",
                    user.token(),
                    Map.of("name", "x", "trigger_type", "manual", "action_url", sink.url(), "max_attempts", bad));
            assertThat(response.status()).isEqualTo(400);
            assertThat(response.json().path("errors").get(0).path("field").asString())
                    .isEqualTo("max_attempts");
        }
    }

    @Test
    void response_headers_with_credentials_are_redacted_in_the_attempt_log() {
        sink.replyWith(r -> new Sink.Reply(
                200,
                Map.of(
                        "Set-Cookie",
                        "session=very-secret",
                        "X-Request-Id",
                        "abc",
                        "X-Vault-Token",
                        "vault-secret",
                        "X-Amz-Security-Token",
                        "amz-secret",
                        "X-Upstream-Secret-Hint",
                        "hint-secret",
                        "X-Session-Key",
                        "key-secret"),
                "ok",
                false));
        Api.User user = api.newUser();
        JsonNode run = awaitFinished(user, fire(user, api.createWorkflow(user, "webhook", sink.url(), Map.of()), "{}"));

        JsonNode headers = run.path("attempts").get(0).path("response_headers");
        assertThat(headers.path("x-request-id").asString()).isEqualTo("abc");
        assertThat(headers.path("set-cookie").asString()).isEqualTo("[redacted]");
        for (String name :
                List.of("x-vault-token", "x-amz-security-token", "x-upstream-secret-hint", "x-session-key")) {
            assertThat(headers.path(name).asString()).as(name).isEqualTo("[redacted]");
        }
        assertThat(run.toString())
                .doesNotContain("very-secret")
                .doesNotContain("vault-secret")
                .doesNotContain("amz-secret")
                .doesNotContain("hint-secret")
                .doesNotContain("key-secret");
    }

    @Test
    void deliveries_are_signed_per_standard_webhooks_over_the_exact_bytes_sent() throws Exception {
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(user, "webhook", sink.url(), Map.of());
        String secret = wf.path("signing_secret").asString();
        assertThat(secret).startsWith("whsec_");
        assertThat(Base64.getDecoder().decode(secret.substring(6))).hasSize(32);
        assertThat(api.get("/workflows/" + wf.path("id").asLong(), user.token())
                        .json()
                        .has("signing_secret"))
                .isFalse();

        fire(user, wf, "{\"amount\": 12.50,  \"note\":\"é\"}");

        eventually().until(() -> sink.received().size() == 1);
        Sink.Received delivery = sink.received().get(0);
        String id = delivery.header("webhook-id");
        String timestamp = delivery.header("webhook-timestamp");
        assertThat(Long.parseLong(timestamp)).isCloseTo(clock.instant().getEpochSecond(), Offset.offset(5L));
        assertThat(delivery.header("webhook-signature"))
                .isEqualTo("v1," + hmac(secret, id + "." + timestamp + "." + delivery.body()));
    }

    @Test
    void after_a_rotation_both_the_new_and_the_old_secret_sign_each_delivery() throws Exception {
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(user, "webhook", sink.url(), Map.of());
        String oldSecret = wf.path("signing_secret").asString();

        Api.Response rotated = api.post("/workflows/" + wf.path("id").asLong() + "/secret/rotate", user.token(), "");
        assertThat(rotated.status()).isEqualTo(200);
        String newSecret = rotated.json().path("signing_secret").asString();
        assertThat(newSecret).startsWith("whsec_").isNotEqualTo(oldSecret);
        Instant oldUntil =
                Instant.parse(rotated.json().path("previous_secret_expires_at").asString());
        assertThat(Duration.between(clock.instant(), oldUntil)).isBetween(Duration.ofHours(23), Duration.ofHours(24));

        fire(user, wf, "{}");

        eventually().until(() -> sink.received().size() == 1);
        Sink.Received delivery = sink.received().get(0);
        String signed =
                delivery.header("webhook-id") + "." + delivery.header("webhook-timestamp") + "." + delivery.body();
        assertThat(delivery.header("webhook-signature").split(" "))
                .containsExactly("v1," + hmac(newSecret, signed), "v1," + hmac(oldSecret, signed));
        assertThat(api.post(
                                "/workflows/" + wf.path("id").asLong() + "/secret/rotate",
                                api.newUser().token(),
                                "")
                        .status())
                .isEqualTo(404);
    }

    @Test
    void a_retrying_run_can_be_cancelled_and_is_never_attempted_again() {
        sink.replyWith(r -> new Sink.Reply(503, Map.of("Retry-After", "3"), "", false));
        Api.User user = api.newUser();
        long runId = fire(user, api.createWorkflow(user, "webhook", sink.url(), Map.of()), "{}");
        eventually()
                .until(() -> api.get("/runs/" + runId, user.token())
                        .json()
                        .path("status")
                        .asString()
                        .equals("retrying"));

        assertThat(api.post("/runs/" + runId + "/cancel", api.newUser().token(), "")
                        .status())
                .isEqualTo(404);
        Api.Response cancelled = api.post("/runs/" + runId + "/cancel", user.token(), "");

        assertThat(cancelled.status()).isEqualTo(200);
        assertThat(cancelled.json().path("status").asString()).isEqualTo("cancelled");
        assertThat(cancelled.json().path("ended_at").isNull()).isFalse();
        Api.Response again = api.post("/runs/" + runId + "/cancel", user.token(), "");
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.json().path("detail").asString()).contains("cancelled");
        // The job left the queue: no claim can take it again.
        assertThat(jdbc.sql("SELECT count(*) FROM jobs WHERE run_id = :id")
                        .param("id", runId)
                        .query(Long.class)
                        .single())
                .isZero();
        assertThat(sink.received()).hasSize(1);
    }

    public static String hmac(String secret, String content) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring("whsec_".length())), "HmacSHA256"));
        return Base64.getEncoder().encodeToString(mac.doFinal(content.getBytes(StandardCharsets.UTF_8)));
    }

    @Autowired
    Delivery delivery;

    @Test
    @Timeout(20)
    void a_4_mib_body_to_a_receiver_that_never_reads_fails_the_attempt_at_the_workflow_timeout() throws Exception {
        try (ServerSocket stalled = new ServerSocket()) {
            stalled.setReceiveBufferSize(4096);
            stalled.bind(new InetSocketAddress("127.0.0.1", 0));
            List<Socket> accepted = new CopyOnWriteArrayList<>();
            Thread.ofVirtual().start(() -> {
                try {
                    accepted.add(stalled.accept()); // accepts, never reads
                } catch (IOException e) {
                    // closed at the end
                }
            });
            String payload = "{\"blob\":\"" + "x".repeat(4 * 1024 * 1024) + "\"}";

            try {
                Attempt attempt = delivery.send(
                        "http://127.0.0.1:" + stalled.getLocalPort() + "/",
                        "msg_stalled",
                        null,
                        null,
                        payload.getBytes(StandardCharsets.UTF_8),
                        1);

                assertThat(attempt.error()).isEqualTo("timed out after 1s"); // kikonect.delivery.timeout=1s in tests
                assertThat(attempt.retryable()).isTrue();
                assertThat(attempt.durationMs()).isBetween(900L, 2500L);
                assertThat(accepted).hasSize(1);
            } finally {
                for (Socket s : accepted) {
                    s.close();
                }
            }
        }
    }

    @Test
    void an_attempt_that_throws_inside_kikonect_counts_against_max_attempts_instead_of_looping_on_its_lease() {
        Api.User user = api.newUser();
        JsonNode workflow = api.createWorkflow(user, "webhook", sink.url(), Map.of(), Map.of("max_attempts", 2));
        // A signing secret that is not base64 makes signing throw: an error inside KiKonect, not the receiver's.
        jdbc.sql("UPDATE workflows SET signing_secret = 'whsec_%%%not-base64%%%' WHERE id = :id")
                .param("id", workflow.path("id").asLong())
                .update();

        JsonNode run = awaitFinished(user, fire(user, workflow, "{}"));

        assertThat(run.path("status").asString()).isEqualTo("failed");
        assertThat(run.path("attempt_count").asInt()).isEqualTo(2);
        assertThat(run.path("error").asString()).startsWith("internal error: ");
        assertThat(sink.received()).isEmpty();
    }
}
