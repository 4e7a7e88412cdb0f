package dev.kikonect.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.support.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The step statements against the database (without the application, {@link TestDatabase}): a run of a workflow whose step {@code c} needs {@code a} and {@code b}.
 */
class StepQueueTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private final QueueStores queue = QueueStores.on(db, 8);

    private long workflow;
    private long workspace;
    private final Instant later = Instant.parse("2026-12-07T10:00:00Z");

    @BeforeEach
    void workflow() {
        TestDatabase.Workflow created = db.workflow(null, """
        [{"key": "a", "url": "http://127.0.0.1:9/a"},
         {"key": "b", "url": "http://127.0.0.1:9/b"},
         {"key": "c", "url": "http://127.0.0.1:9/c", "needs": ["a", "b"]}]""");
        workspace = created.workspace();
        workflow = created.id();
    }

    private List<ClaimedJob> enqueueAndClaim(int runs) {
        List<ScheduledRuns.Firing> firings = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            firings.add(new ScheduledRuns.Firing(workflow, workspace, "manual", "{\"n\":" + i + "}"));
        }
        queue.transactions().executeWithoutResult(s -> queue.runs().enqueueAll(firings, later));
        return queue.claims().claim(10_000, later, Duration.ofMinutes(5), "test-node").stream()
                .filter(j -> j.workflowId() == workflow)
                .toList();
    }

    private static Attempt ok(ClaimedJob job, Instant at) {
        return new Attempt(job.number(), at, 3, true, false, 200, "{}", "", null, null, null);
    }

    private int jobsFor(long runId, String step) {
        return queue.jdbc()
                .sql("SELECT count(*) FROM jobs WHERE run_id = :run AND step = :step")
                .param("run", runId)
                .param("step", step)
                .query(Integer.class)
                .single();
    }

    private String stepStatus(long runId, String step) {
        return queue.jdbc()
                .sql("SELECT status FROM run_steps WHERE run_id = :run AND key = :step")
                .param("run", runId)
                .param("step", step)
                .query(String.class)
                .single();
    }

    @Test
    void a_claim_that_shares_payloads_returns_a_runs_payload_once_and_none_for_a_run_the_node_holds() {
        List<ScheduledRuns.Firing> firings = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            firings.add(new ScheduledRuns.Firing(workflow, workspace, "manual", "{\"n\":" + i + "}"));
        }
        queue.transactions().executeWithoutResult(s -> queue.runs().enqueueAll(firings, later));
        long firstRun = queue.jdbc()
                .sql("SELECT min(id) FROM workflow_runs WHERE workflow_id = :w")
                .param("w", workflow)
                .query(Long.class)
                .single();

        List<ClaimedJob> claimed = queue
                .claims()
                .claim(
                        10_000,
                        Long.MAX_VALUE,
                        new long[0],
                        new long[] {firstRun},
                        later,
                        Duration.ofMinutes(5),
                        "test-node")
                .stream()
                .filter(j -> j.workflowId() == workflow)
                .toList();

        assertThat(claimed).hasSize(4); // steps a and b of two runs
        assertThat(claimed.stream().filter(j -> j.runId() == firstRun))
                .allSatisfy(j -> assertThat(j.payload()).isNull());
        List<ClaimedJob> second =
                claimed.stream().filter(j -> j.runId() != firstRun).toList();
        assertThat(second).extracting(ClaimedJob::payload).containsExactlyInAnyOrder("{\"n\":1}", null);
    }

    @Test
    void a_tracked_run_starts_with_a_job_for_each_step_that_needs_nothing() {
        List<ClaimedJob> claimed = enqueueAndClaim(1);

        assertThat(claimed).extracting(ClaimedJob::step).containsExactlyInAnyOrder("a", "b");
        long run = claimed.get(0).runId();
        assertThat(stepStatus(run, "c")).isEqualTo("waiting");
        assertThat(claimed).extracting(ClaimedJob::webhookId).doesNotHaveDuplicates();
        assertThat(claimed).allSatisfy(j -> assertThat(j.tracked()).isTrue());
    }

    @Test
    void two_parents_finishing_at_the_same_instant_on_two_nodes_start_their_common_child_exactly_once()
            throws Exception {
        int n = 30;
        List<ClaimedJob> claimed = enqueueAndClaim(n);
        assertThat(claimed).hasSize(2 * n);
        ExecutorService nodes = Executors.newFixedThreadPool(2);
        try {
            for (long run : claimed.stream().map(ClaimedJob::runId).distinct().toList()) {
                ClaimedJob a = claimed.stream()
                        .filter(j -> j.runId() == run && j.step().equals("a"))
                        .findFirst()
                        .orElseThrow();
                ClaimedJob b = claimed.stream()
                        .filter(j -> j.runId() == run && j.step().equals("b"))
                        .findFirst()
                        .orElseThrow();
                CyclicBarrier together = new CyclicBarrier(2);
                Future<Boolean> first = nodes.submit(() -> {
                    together.await();
                    return queue.completions().complete(a, ok(a, later), Next.SUCCEEDED, null, later);
                });
                Future<Boolean> second = nodes.submit(() -> {
                    together.await();
                    return queue.completions().complete(b, ok(b, later), Next.SUCCEEDED, null, later);
                });
                assertThat(first.get()).isTrue();
                assertThat(second.get()).isTrue();

                assertThat(jobsFor(run, "c"))
                        .as("run %d: jobs of the common child", run)
                        .isEqualTo(1);
                assertThat(stepStatus(run, "c")).isEqualTo("pending");
            }
        } finally {
            nodes.shutdownNow();
        }
    }

    @Test
    void the_last_step_to_finish_ends_the_run_and_a_failed_parent_skips_its_child() {
        List<ClaimedJob> claimed = enqueueAndClaim(2);
        long good = claimed.get(0).runId();
        long bad = claimed.stream()
                .map(ClaimedJob::runId)
                .filter(r -> r != good)
                .findFirst()
                .orElseThrow();
        for (ClaimedJob j : claimed) {
            if (j.runId() == good || j.step().equals("a")) {
                assertThat(queue.completions().complete(j, ok(j, later), Next.SUCCEEDED, null, later))
                        .isTrue();
            } else {
                Attempt failed = new Attempt(j.number(), later, 3, false, false, 400, "{}", "", "HTTP 400", null, null);
                assertThat(queue.completions().complete(j, failed, Next.FAILED, null, later))
                        .isTrue();
            }
        }
        ClaimedJob c = queue.claims().claim(10_000, later, Duration.ofMinutes(5), "test-node").stream()
                .filter(j -> j.runId() == good)
                .findFirst()
                .orElseThrow();
        assertThat(c.step()).isEqualTo("c");
        assertThat(runStatus(good)).isEqualTo("running");
        assertThat(queue.completions().complete(c, ok(c, later), Next.SUCCEEDED, null, later))
                .isTrue();

        assertThat(runStatus(good)).isEqualTo("succeeded");
        assertThat(runStatus(bad)).isEqualTo("failed");
        assertThat(stepStatus(bad, "c")).isEqualTo("skipped");
        assertThat(jobsFor(bad, "c")).isZero();
        assertThat(queue.jdbc()
                        .sql("SELECT error FROM run_steps WHERE run_id = :run AND key = 'c'")
                        .param("run", bad)
                        .query(String.class)
                        .single())
                .isEqualTo("needs b, which failed");
    }

    @Test
    void a_job_claimed_while_its_run_is_cancelled_is_recognised_and_never_sent() {
        List<ClaimedJob> claimed = enqueueAndClaim(1);
        long run = claimed.get(0).runId();
        assertThat(queue.control().cancel(workspace, run, later)).isTrue();
        // A completion of a step in flight records its attempt but starts nothing.
        ClaimedJob a =
                claimed.stream().filter(j -> j.step().equals("a")).findFirst().orElseThrow();
        assertThat(queue.completions().complete(a, ok(a, later), Next.SUCCEEDED, null, later))
                .isTrue();

        assertThat(runStatus(run)).isEqualTo("cancelled");
        assertThat(stepStatus(run, "c")).isEqualTo("cancelled");
        assertThat(jobsFor(run, "c")).isZero();
    }

    @Test
    void the_lease_sweep_counts_the_jobs_it_requeued_for_runs_with_steps_too_and_takes_at_most_its_limit() {
        List<ClaimedJob> claimed = enqueueAndClaim(3); // two steps in flight per run: six jobs of three runs
        assertThat(claimed).hasSize(6);
        Instant expired = later.plus(Duration.ofMinutes(6));

        int first = queue.leases().requeueExpired(expired, 4);
        int second = queue.leases().requeueExpired(expired, 4);
        int third = queue.leases().requeueExpired(expired, 4);

        assertThat(List.of(first, second, third))
                .as(
                        "jobs, not runs: a sweep that counted runs stopped early (its caller sweeps while it gets its limit)")
                .containsExactly(4, 2, 0);
    }

    @Test
    void a_step_whose_lease_expired_goes_back_to_retrying_with_its_lost_attempt_logged_and_the_run_stays_running() {
        List<ClaimedJob> claimed = enqueueAndClaim(1);
        long run = claimed.get(0).runId();
        queue.leases().requeueExpired(later.plus(Duration.ofMinutes(6)), 10_000);

        assertThat(stepStatus(run, "a")).isEqualTo("retrying");
        assertThat(runStatus(run)).isEqualTo("running");
        assertThat(queue.jdbc()
                        .sql(
                                "SELECT count(*) FROM attempts WHERE run_id = :run AND step = 'a' AND error LIKE 'lease expired%'")
                        .param("run", run)
                        .query(Integer.class)
                        .single())
                .isEqualTo(1);
        assertThat(queue.jdbc()
                        .sql("SELECT attempts FROM workflow_runs WHERE id = :run")
                        .param("run", run)
                        .query(Integer.class)
                        .single())
                .as("the lost attempts (steps a and b) count")
                .isEqualTo(2);
        assertThat(
                        queue
                                .claims()
                                .claim(10_000, later.plus(Duration.ofMinutes(6)), Duration.ofMinutes(5), "test-node")
                                .stream()
                                .filter(j -> j.runId() == run))
                .as("not before the retry delay")
                .isEmpty();
        ClaimedJob again = queue
                .claims()
                .claim(10_000, later.plus(Duration.ofMinutes(6)).plusSeconds(1), Duration.ofMinutes(5), "test-node")
                .stream()
                .filter(j -> j.runId() == run && "a".equals(j.step()))
                .findFirst()
                .orElseThrow();
        assertThat(again.number()).isEqualTo(2);
        assertThat(again.webhookId())
                .as("the same webhook-id across attempts")
                .isEqualTo(claimed.stream()
                        .filter(j -> "a".equals(j.step()))
                        .findFirst()
                        .orElseThrow()
                        .webhookId());
    }

    private String runStatus(long runId) {
        return queue.jdbc()
                .sql("SELECT status FROM workflow_runs WHERE id = :id")
                .param("id", runId)
                .query(String.class)
                .single();
    }
}
