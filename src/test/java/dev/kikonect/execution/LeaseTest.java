package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.lifecycle.Attempt;
import dev.kikonect.lifecycle.ClaimedJob;
import dev.kikonect.lifecycle.Claims;
import dev.kikonect.lifecycle.Completions;
import dev.kikonect.lifecycle.Leases;
import dev.kikonect.lifecycle.Next;
import dev.kikonect.lifecycle.ScheduledRuns;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.TestPropertySource;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.JsonNode;

/** Leases with a short duration (1 s) so that expiry and renewal can be seen within a test. */
@TestPropertySource(
        properties = {
            "kikonect.executor.lease-duration=1s",
            "kikonect.delivery.timeout=5s",
            "kikonect.executor.sweep-interval=100ms"
        })
class LeaseTest extends ApiTest {

    @Autowired
    JdbcClient jdbc;

    @Autowired
    ScheduledRuns triggerer;

    @Autowired
    TransactionTemplate transactions;

    @Autowired
    Claims claims;

    @Autowired
    Completions completions;

    @Autowired
    Leases leases;

    private final Sink sink = new Sink();

    @AfterEach
    void closeSink() {
        sink.close();
    }

    @Test
    void a_job_held_by_a_dead_node_is_delivered_once_its_lease_expires_and_the_late_write_is_rejected() {
        Api.User user = api.newUser();
        long workflowId = api.createWorkflow(user, "manual", sink.url(), Map.of())
                .path("id")
                .asLong();
        UUID deadToken = UUID.randomUUID();
        Instant now = clock.instant();
        // A node claimed the job and died: processing, its lease running out in 1 s, nobody renewing it.
        transactions.executeWithoutResult(s -> {
            triggerer.enqueueAll(
                    List.of(new ScheduledRuns.Firing(
                            workflowId, api.personalWorkspace(user), "manual", "{\"lost\":false}")),
                    now);
            jdbc.sql("""
                  UPDATE jobs SET status = 'processing', attempt = 1, lease_token = :token, lease_expires_at = :until,
                                  locked_by = 'dead-node', started_at = :now
                   WHERE workflow_id = :wf
                  """)
                    .param("token", deadToken)
                    .param("until", Timestamp.from(now.plusSeconds(1)))
                    .param("now", Timestamp.from(now))
                    .param("wf", workflowId)
                    .update();
        });
        long runId = jdbc.sql("SELECT id FROM workflow_runs WHERE workflow_id = :wf")
                .param("wf", workflowId)
                .query(Long.class)
                .single();
        long jobId = jdbc.sql("SELECT id FROM jobs WHERE run_id = :r")
                .param("r", runId)
                .query(Long.class)
                .single();

        JsonNode run = awaitFinished(user, runId);

        assertThat(run.path("status").asString()).isEqualTo("succeeded");
        assertThat(sink.received()).hasSize(1);
        List<JsonNode> attempts = run.path("attempts").valueStream().toList();
        assertThat(attempts).hasSize(2);
        assertThat(attempts.get(0).path("error").asString()).startsWith("lease expired");
        assertThat(attempts.get(1).path("response_status").asInt()).isEqualTo(200);

        // The dead node wakes up and reports a failure: fenced off by its stale lease token.
        ClaimedJob stale = new ClaimedJob(
                jobId,
                runId,
                workflowId,
                1,
                0,
                8,
                deadToken,
                null,
                "http://127.0.0.1:9/",
                null,
                "{}",
                "msg_x",
                null,
                null,
                "manual",
                now,
                null,
                null,
                "w",
                api.personalWorkspace(user),
                false,
                0,
                null,
                null);
        Attempt late = new Attempt(1, now, 5, false, false, 500, "{}", "", "HTTP 500", null, null);
        assertThat(completions.complete(stale, late, Next.FAILED, null, clock.instant()))
                .isFalse();
        assertThat(api.get("/runs/" + runId, user.token()).json().path("status").asString())
                .isEqualTo("succeeded");
    }

    @Test
    void a_job_whose_node_dies_during_each_of_its_attempts_fails_at_its_budget_without_a_third_delivery() {
        Api.User user = api.newUser();
        long workflowId = api.createWorkflow(user, "manual", sink.url(), Map.of(), Map.of("max_attempts", 2))
                .path("id")
                .asLong();
        UUID deadToken = UUID.randomUUID();
        Instant now = clock.instant();
        // Attempt 1 was lost with its node (logged by the sweeper), attempt 2 is held by a node that died too.
        transactions.executeWithoutResult(s -> {
            triggerer.enqueueAll(
                    List.of(new ScheduledRuns.Firing(workflowId, api.personalWorkspace(user), "manual", "{}")), now);
            jdbc.sql("""
                  UPDATE jobs SET status = 'processing', attempt = 2, lease_token = :token, lease_expires_at = :until,
                                  locked_by = 'dead-node', started_at = :now
                   WHERE workflow_id = :wf
                  """)
                    .param("token", deadToken)
                    .param("until", Timestamp.from(now.plusSeconds(1)))
                    .param("now", Timestamp.from(now))
                    .param("wf", workflowId)
                    .update();
            jdbc.sql("""
                  INSERT INTO attempts (run_id, number, started_at, duration_ms, error)
                  SELECT id, 1, :now, 1000, 'lease expired: the node delivering it stopped (crash or lost connection); outcome unknown, retrying'
                    FROM workflow_runs WHERE workflow_id = :wf
                  """)
                    .param("now", Timestamp.from(now.minusSeconds(10)))
                    .param("wf", workflowId)
                    .update();
        });
        long runId = jdbc.sql("SELECT id FROM workflow_runs WHERE workflow_id = :wf")
                .param("wf", workflowId)
                .query(Long.class)
                .single();

        JsonNode run = awaitFinished(user, runId);

        assertThat(run.path("status").asString()).isEqualTo("failed");
        assertThat(run.path("attempts").size())
                .as("the two lost ones, no third")
                .isEqualTo(2);
        assertThat(run.path("attempts").get(1).path("error").asString())
                .startsWith("lease expired")
                .contains("last attempt");
        assertThat(run.path("error").asString()).contains("last attempt");
        assertThat(jdbc.sql("SELECT attempts FROM workflow_runs WHERE id = :r")
                        .param("r", runId)
                        .query(Integer.class)
                        .single())
                .isEqualTo(2);
        assertThat(sink.received()).as("nothing sent after the budget").isEmpty();
        assertThat(jdbc.sql("SELECT count(*) FROM jobs WHERE run_id = :r")
                        .param("r", runId)
                        .query(Integer.class)
                        .single())
                .isZero();
    }

    @Test
    void a_delivery_longer_than_the_lease_keeps_its_lease_and_is_delivered_once() {
        sink.replyWith(r -> {
            try {
                Thread.sleep(2500); // two and a half leases
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Sink.Reply.status(200);
        });
        Api.User user = api.newUser();
        String hook = api.createWorkflow(user, "webhook", sink.url(), Map.of())
                .path("webhook_url")
                .asString();

        long runId = api.send("POST", hook, null, "application/json", "{}")
                .json()
                .path("id")
                .asLong();
        JsonNode run = eventually()
                .atMost(Duration.ofSeconds(20))
                .until(
                        () -> api.get("/runs/" + runId, user.token()).json(),
                        r -> r.path("status").asString().equals("succeeded"));

        assertThat(run.path("attempts").size()).isEqualTo(1);
        assertThat(sink.received()).hasSize(1);
    }
}
