package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.lifecycle.Attempt;
import dev.kikonect.lifecycle.ClaimedJob;
import dev.kikonect.lifecycle.Claims;
import dev.kikonect.lifecycle.Next;
import dev.kikonect.steps.StepRequests;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/**
 * The attempt pipeline's branches, without Spring or a database: a recording sender and credentials stand in for
 * the receiver and the credentials feature, so each test says what was sent (or that nothing was) and the verdict.
 */
class AttemptPipelineTest {

    private static final Instant NOW = Instant.parse("2026-12-07T10:00:00Z");
    private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    private final JsonMapper json = JsonMapper.builder().build();
    private final SharedPayloads payloads = new SharedPayloads();
    private final HostLimiter hosts = new HostLimiter(1);
    private final List<StepRequests.Rendered> sent = new ArrayList<>();
    /** What the receiver answers, in order: an HTTP status (an Integer) or a Throwable to throw. */
    private final Deque<Object> answers = new ArrayDeque<>();

    private final List<Object> stampsRefused = new ArrayList<>();
    private StepCredentials credentials = (workspace, name, host, refused) -> {
        throw new StepCredentials.Failure("no credentials in this test", false);
    };
    private final Map<String, Claims.StepResponse> saved = Map.of();

    private AttemptPipeline pipeline() {
        AttemptPipeline.Sender sender = (job, request, bodyIsPayload, timeout, keep) -> {
            sent.add(request);
            Object answer = answers.isEmpty() ? 200 : answers.removeFirst();
            if (answer instanceof RuntimeException e) {
                throw e;
            }
            int status = (Integer) answer;
            boolean ok = status < 300;
            return new Delivery.Sent(
                    new Attempt(
                            job.number(),
                            NOW,
                            3,
                            ok,
                            !ok && status != 400,
                            status,
                            "{}",
                            "echo " + request.headers(),
                            ok ? null : "HTTP " + status,
                            null,
                            null),
                    null);
        };
        return new AttemptPipeline(
                clock,
                json,
                new CompiledSteps(json),
                payloads,
                (run, keys) -> saved,
                sender,
                (workspace, name, host, refused) -> {
                    stampsRefused.add(refused);
                    return credentials.apply(workspace, name, host, refused);
                },
                hosts,
                new RetryPolicy(List.of(Duration.ofSeconds(5), Duration.ofMinutes(1))),
                new AttemptPipeline.Settings(Duration.ofSeconds(10), Duration.ZERO, 4096),
                () -> {});
    }

    private ClaimedJob job(String steps, String step, int attempt, int maxAttempts, boolean cancelled) {
        return TestJobs.job(null, steps, step, null, attempt, maxAttempts, cancelled, NOW);
    }

    private AttemptPipeline.Outcome run(ClaimedJob job, String payload) {
        byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
        payloads.take(payloads.charge(job.runId(), job.workspaceId(), bytes, true));
        return pipeline().run(job, bytes);
    }

    private static AttemptPipeline.Outcome.Complete complete(AttemptPipeline.Outcome outcome) {
        assertThat(outcome).isInstanceOf(AttemptPipeline.Outcome.Complete.class);
        return (AttemptPipeline.Outcome.Complete) outcome;
    }

    private static final String ONE = "[{\"key\":\"a\",\"url\":\"https://receiver.example/a\"}]";

    @Test
    void a_job_of_a_cancelled_run_is_cancelled_and_nothing_is_sent() {
        var done = complete(run(job(ONE, "a", 1, 3, true), "{}"));
        assertThat(done.next()).isEqualTo(Next.CANCELLED);
        assertThat(done.attempt()).isNull();
        assertThat(sent).isEmpty();
    }

    @Test
    void a_step_removed_from_the_workflow_fails_without_a_send() {
        var done = complete(run(job(ONE, "gone", 1, 3, false), "{}"));
        assertThat(done.next()).isEqualTo(Next.FAILED);
        assertThat(done.attempt().error()).contains("'gone' is no longer in the workflow");
        assertThat(sent).isEmpty();
    }

    @Test
    void an_expression_that_fails_at_run_time_fails_the_step_at_once_naming_its_field() {
        String steps = "[{\"key\":\"a\",\"url\":\"https://receiver.example/a\",\"body\":\"$number(payload.n)\"}]";
        var done = complete(run(job(steps, "a", 1, 3, false), "{\"n\":\"not a number\"}"));
        assertThat(done.next()).isEqualTo(Next.FAILED);
        assertThat(done.attempt().error()).startsWith("body: ");
        assertThat(done.attempt().retryable()).isFalse();
        assertThat(sent).isEmpty();
    }

    @Test
    void a_when_that_is_false_skips_the_step() {
        String steps = "[{\"key\":\"a\",\"url\":\"https://receiver.example/a\",\"when\":\"payload.go = true\"}]";
        var done = complete(run(job(steps, "a", 1, 3, false), "{\"go\":false}"));
        assertThat(done.next()).isEqualTo(Next.SKIPPED);
        assertThat(sent).isEmpty();
    }

    @Test
    void a_templated_url_that_is_not_http_fails_the_step_without_a_send() {
        String steps = "[{\"key\":\"a\",\"url\":\"{{ payload.where }}\"}]";
        var done = complete(run(job(steps, "a", 1, 3, false), "{\"where\":\"ftp://files.example/x\"}"));
        assertThat(done.next()).isEqualTo(Next.FAILED);
        assertThat(done.attempt().error()).startsWith("url: ").contains("not an absolute http or https URL");
        assertThat(sent).isEmpty();
    }

    @Test
    void a_credential_that_may_work_later_retries_and_one_that_cannot_fails() {
        String steps = "[{\"key\":\"a\",\"url\":\"https://receiver.example/a\",\"credential\":\"crm\"}]";
        credentials = (workspace, name, host, refused) -> {
            throw new StepCredentials.Failure("token endpoint answered 503", true);
        };
        var later = complete(run(job(steps, "a", 1, 3, false), "{}"));
        assertThat(later.next()).isEqualTo(Next.RETRY);
        assertThat(later.attempt().error()).isEqualTo("credential: token endpoint answered 503");

        credentials = (workspace, name, host, refused) -> {
            throw new StepCredentials.Failure("receiver.example is not one of its allowed_hosts", false);
        };
        var never = complete(run(job(steps, "a", 1, 3, false), "{}"));
        assertThat(never.next()).isEqualTo(Next.FAILED);
        assertThat(sent).isEmpty();
    }

    @Test
    void a_fetched_token_answered_401_is_fetched_again_once_and_the_secret_is_in_no_record() {
        String steps = "[{\"key\":\"a\",\"url\":\"https://receiver.example/a\",\"credential\":\"crm\"}]";
        credentials = (workspace, name, host, refused) -> new StepCredentials.Applied(
                List.of(Map.entry("Authorization", "Bearer " + (refused == null ? "old-token" : "new-token"))),
                List.of(),
                refused == null ? "stamp-1" : "stamp-2");
        answers.add(401);
        answers.add(200);
        var done = complete(run(job(steps, "a", 1, 3, false), "{}"));
        assertThat(done.next()).isEqualTo(Next.SUCCEEDED);
        assertThat(stampsRefused).containsExactly(null, "stamp-1");
        assertThat(sent).hasSize(2);
        assertThat(sent.get(1).headers()).contains(Map.entry("Authorization", "Bearer new-token"));
        assertThat(done.attempt().responseBody()).doesNotContain("new-token").contains("[redacted]");
    }

    @Test
    void a_retryable_failure_below_the_budget_retries_after_the_policys_delay() {
        answers.add(503);
        var done = complete(run(job(ONE, "a", 1, 3, false), "{}"));
        assertThat(done.next()).isEqualTo(Next.RETRY);
        assertThat(done.retryAt()).isBetween(NOW.plusSeconds(4), NOW.plusSeconds(6));
    }

    @Test
    void a_retryable_failure_at_the_budget_fails_the_step() {
        answers.add(503);
        var done = complete(run(job(ONE, "a", 3, 3, false), "{}"));
        assertThat(done.next()).isEqualTo(Next.FAILED);
        assertThat(done.attempt().statusCode()).isEqualTo(503);
        assertThat(sent).hasSize(1);
    }

    @Test
    void the_steps_own_max_attempts_overrides_the_workflows() {
        String steps = "[{\"key\":\"a\",\"url\":\"https://receiver.example/a\",\"max_attempts\":5}]";
        answers.add(503);
        assertThat(complete(run(job(steps, "a", 3, 3, false), "{}")).next()).isEqualTo(Next.RETRY);
    }

    @Test
    void a_job_whose_last_attempt_was_lost_with_its_lease_fails_without_a_send() {
        var done = complete(run(job(ONE, "a", 4, 3, false), "{}"));
        assertThat(done.next()).isEqualTo(Next.FAILED);
        assertThat(done.attempt().error()).startsWith("lease expired").endsWith("that was the last attempt");
        assertThat(done.attempt().number()).isEqualTo(3);
        assertThat(sent).isEmpty();
    }

    @Test
    void a_busy_host_defers_the_job_without_spending_an_attempt() throws Exception {
        assertThat(hosts.acquire("receiver.example:443", Duration.ZERO)).isTrue();
        var outcome = run(job(ONE, "a", 1, 3, false), "{}");
        assertThat(outcome).isEqualTo(new AttemptPipeline.Outcome.Defer("host_busy"));
        assertThat(sent).isEmpty();
        hosts.release("receiver.example:443");
        assertThat(complete(run(job(ONE, "a", 1, 3, false), "{}")).next()).isEqualTo(Next.SUCCEEDED);
    }

    @Test
    void whatever_the_send_throws_is_a_failed_attempt_that_the_retry_policy_takes() {
        answers.add(new IllegalStateException("a bug"));
        var done = complete(run(job(ONE, "a", 1, 3, false), "{}"));
        assertThat(done.next()).isEqualTo(Next.RETRY);
        assertThat(done.attempt().error()).isEqualTo("internal error: IllegalStateException");
    }

    @Test
    void the_one_step_shorthand_posts_the_payload_byte_for_byte() {
        ClaimedJob shorthand = TestJobs.job("https://receiver.example/hook", null, null, null, 1, 3, false, NOW);
        byte[] payload = "{\"a\": 1}".getBytes(StandardCharsets.UTF_8);
        var done = complete(pipeline().run(shorthand, payload));
        assertThat(done.next()).isEqualTo(Next.SUCCEEDED);
        assertThat(sent.get(0).method()).isEqualTo("POST");
        assertThat(sent.get(0).body()).isSameAs(payload);
    }
}
