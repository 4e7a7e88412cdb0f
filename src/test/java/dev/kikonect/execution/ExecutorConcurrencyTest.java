package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.PublicUrls;
import dev.kikonect.common.ResumeTokens;
import dev.kikonect.lifecycle.Claims;
import dev.kikonect.lifecycle.Completions;
import dev.kikonect.lifecycle.Items;
import dev.kikonect.lifecycle.Leases;
import dev.kikonect.lifecycle.Resumes;
import dev.kikonect.lifecycle.ScheduledRuns;
import dev.kikonect.lifecycle.SubRuns;
import dev.kikonect.lifecycle.WorkSignal;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.json.JsonMapper;

/** Several executors on one database share the queue without ever delivering a job twice. */
class ExecutorConcurrencyTest extends ApiTest {

    @Autowired
    Claims claims;

    @Autowired
    Completions completions;

    @Autowired
    Leases leases;

    @Autowired
    Delivery delivery;

    @Autowired
    RetryPolicy retries;

    @Autowired
    WorkSignal signal;

    @Autowired
    ScheduledRuns triggerer;

    @Autowired
    KiKonectProperties properties;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    JsonMapper json;

    @Autowired
    StepCredentials stepCredentials;

    @Autowired
    TransactionTemplate transactions;

    @Autowired
    SubRuns subRuns;

    @Autowired
    Items items;

    @Autowired
    Resumes resumes;

    @Autowired
    PushSender pushes;

    @Autowired
    ResumeTokens tokens;

    @Autowired
    PublicUrls urls;

    @Test
    void two_executors_on_one_database_deliver_every_job_exactly_once() {
        WorkSignal secondSignal = new WorkSignal();
        SimpleMeterRegistry secondMeters = new SimpleMeterRegistry();
        // A second node's executor, wired as DeliveryConfiguration wires the first, on the same database.
        DeliveryConfiguration wiring = new DeliveryConfiguration();
        SharedPayloads payloads = wiring.sharedPayloads();
        CompiledSteps compiled = wiring.compiledSteps(json);
        OutcomeRecorder outcomes = new OutcomeRecorder(completions, clock, secondMeters, Duration.ofSeconds(30));
        Executor second = new Executor(
                claims,
                leases,
                wiring.attemptPipeline(
                        clock,
                        json,
                        compiled,
                        payloads,
                        claims,
                        subRuns,
                        items,
                        resumes,
                        pushes,
                        tokens,
                        urls,
                        delivery,
                        stepCredentials,
                        retries,
                        properties,
                        secondMeters),
                outcomes,
                wiring.deliveryBudget(properties, payloads, compiled, secondMeters),
                payloads,
                secondSignal,
                clock,
                properties);
        second.start();
        try (Sink sink = new Sink().replyWith(r -> {
            try {
                Thread.sleep(5); // a receiver that takes a little time, so both executors have work in flight
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Sink.Reply.status(200);
        })) {
            Api.User user = api.newUser();
            // Attempts to spare: on a loaded machine a few of 600 simultaneous requests may time out and be retried.
            long workflowId = api.createWorkflow(user, "manual", sink.url(), Map.of(), Map.of("max_attempts", 10))
                    .path("id")
                    .asLong();
            List<ScheduledRuns.Firing> firings = new ArrayList<>();
            for (int i = 0; i < 600; i++) {
                firings.add(new ScheduledRuns.Firing(
                        workflowId, api.personalWorkspace(user), "manual", "{\"i\":" + i + "}"));
            }
            transactions.executeWithoutResult(s -> triggerer.enqueueAll(firings, clock.instant()));
            signal.wake();
            secondSignal.wake();

            // Wait for every run to end, whatever its outcome, so that a failure below says what happened to the
            // others.
            eventually()
                    .until(() -> jdbc.sql(
                                            "SELECT count(*) FROM workflow_runs WHERE workflow_id = :id AND status IN ('succeeded', 'failed')")
                                    .param("id", workflowId)
                                    .query(Long.class)
                                    .single()
                            == 600L);
            List<String> errors = jdbc.sql(
                            "SELECT status || ' ' || count(*) || coalesce(' (last: ' || max(error) || ')', '') FROM workflow_runs WHERE workflow_id = :id GROUP BY status")
                    .param("id", workflowId)
                    .query(String.class)
                    .list();
            assertThat(errors).as("run outcomes").containsExactly("succeeded 600");
            // Delivery is at least once: on a loaded machine an attempt may time out (1 s in tests) after the receiver
            // got it, and its retry arrives again. What two executors must never do is run the same claim twice: every
            // request the receiver saw belongs to an attempt that was recorded, so requests <= attempts.
            long attempts = jdbc.sql(
                            "SELECT count(*) FROM attempts a JOIN workflow_runs r ON r.id = a.run_id WHERE r.workflow_id = :id")
                    .param("id", workflowId)
                    .query(Long.class)
                    .single();
            eventually().until(() -> sink.received().size() >= 600);
            List<String> ids =
                    sink.received().stream().map(r -> r.header("webhook-id")).toList();
            assertThat(new HashSet<>(ids)).hasSize(600);
            assertThat((long) ids.size())
                    .as("requests received vs attempts recorded")
                    .isLessThanOrEqualTo(attempts);
            Set<String> bodies = new HashSet<>(
                    sink.received().stream().map(Sink.Received::body).toList());
            assertThat(bodies).hasSize(600);
            // Finished jobs leave the table, so who delivered what is read from the second executor's own counter.
            double bySecond = secondMeters
                    .counter("kikonect.deliveries", "outcome", "success")
                    .count();
            assertThat(bySecond).as("both executors took part").isBetween(1.0, 599.0);
        } finally {
            second.stop();
            outcomes.close();
        }
    }
}
