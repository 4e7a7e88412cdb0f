package dev.kikonect.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.support.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The step statements for {@code run_if} against the database ({@link TestDatabase}): a merge starts once every need
 * finished, exactly once across nodes; a skip reaches an {@code always} step through the skipped steps between; an
 * error path that succeeds handles the failure, so the run succeeds.
 */
class RunIfQueueTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private final QueueStores queue = QueueStores.on(db, 8);
    private final Instant later = Instant.parse("2026-12-07T10:00:00Z");

    private List<ClaimedJob> start(String steps, int runs) {
        TestDatabase.Workflow created = db.workflow(null, steps);
        List<ScheduledRuns.Firing> firings = IntStream.range(0, runs)
                .mapToObj(i -> new ScheduledRuns.Firing(created.id(), created.workspace(), "manual", "{}"))
                .toList();
        queue.transactions().executeWithoutResult(s -> queue.runs().enqueueAll(firings, later));
        return claim(created.id());
    }

    private List<ClaimedJob> claim(long workflow) {
        return queue.claims().claim(10_000, later, Duration.ofMinutes(5), "test-node").stream()
                .filter(j -> j.workflowId() == workflow)
                .toList();
    }

    private static Attempt ok(ClaimedJob job) {
        return new Attempt(
                job.number(), Instant.parse("2026-12-07T10:00:00Z"), 3, true, false, 200, "{}", "", null, null, null);
    }

    private static Attempt http500(ClaimedJob job) {
        return new Attempt(
                job.number(),
                Instant.parse("2026-12-07T10:00:00Z"),
                3,
                false,
                false,
                500,
                "{}",
                "",
                "HTTP 500",
                null,
                null);
    }

    private boolean succeed(ClaimedJob job) {
        return queue.completions().complete(job, ok(job), Next.SUCCEEDED, null, later);
    }

    private boolean fail(ClaimedJob job) {
        return queue.completions().complete(job, http500(job), Next.FAILED, null, later);
    }

    private static ClaimedJob step(List<ClaimedJob> jobs, long run, String key) {
        return jobs.stream()
                .filter(j -> j.runId() == run && j.step().equals(key))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no job for step " + key + " of run " + run + " in " + jobs));
    }

    private String column(long run, String step, String column) {
        return queue.jdbc()
                .sql("SELECT " + column + "::text FROM run_steps WHERE run_id = :run AND key = :step")
                .param("run", run)
                .param("step", step)
                .query(String.class)
                .single();
    }

    private int jobsFor(long run, String step) {
        return queue.jdbc()
                .sql("SELECT count(*) FROM jobs WHERE run_id = :run AND step = :step")
                .param("run", run)
                .param("step", step)
                .query(Integer.class)
                .single();
    }

    private String run(long run, String column) {
        return queue.jdbc()
                .sql("SELECT " + column + "::text FROM workflow_runs WHERE id = :run")
                .param("run", run)
                .query((rs, i) -> rs.getString(1))
                .list()
                .get(0);
    }

    @Test
    void a_merge_whose_needs_succeed_and_fail_at_the_same_instant_on_two_nodes_starts_exactly_once() throws Exception {
        int n = 30;
        List<ClaimedJob> claimed = start("""
            [{"key": "a", "url": "http://127.0.0.1:9/a"},
             {"key": "b", "url": "http://127.0.0.1:9/b"},
             {"key": "merge", "url": "http://127.0.0.1:9/m", "needs": ["a", "b"], "run_if": "any_succeeded"},
             {"key": "finally", "url": "http://127.0.0.1:9/f", "needs": ["a", "b"], "run_if": "always"}]""", n);
        assertThat(claimed).hasSize(2 * n);
        ExecutorService nodes = Executors.newFixedThreadPool(2);
        try {
            for (long run : claimed.stream().map(ClaimedJob::runId).distinct().toList()) {
                ClaimedJob a = step(claimed, run, "a");
                ClaimedJob b = step(claimed, run, "b");
                CyclicBarrier together = new CyclicBarrier(2);
                Future<Boolean> first = nodes.submit(() -> {
                    together.await();
                    return succeed(a);
                });
                Future<Boolean> second = nodes.submit(() -> {
                    together.await();
                    return fail(b);
                });
                assertThat(first.get()).isTrue();
                assertThat(second.get()).isTrue();

                assertThat(jobsFor(run, "merge"))
                        .as("run %d: jobs of the merge", run)
                        .isEqualTo(1);
                assertThat(jobsFor(run, "finally"))
                        .as("run %d: jobs of the finally", run)
                        .isEqualTo(1);
                assertThat(column(run, "merge", "status")).isEqualTo("pending");
            }
        } finally {
            nodes.shutdownNow();
        }
    }

    @Test
    void a_failure_skips_the_steps_that_need_it_to_succeed_and_starts_an_always_step_after_them() {
        List<ClaimedJob> claimed = start("""
            [{"key": "a", "url": "http://127.0.0.1:9/a"},
             {"key": "x", "url": "http://127.0.0.1:9/x", "needs": ["a"]},
             {"key": "y", "url": "http://127.0.0.1:9/y", "needs": ["x"]},
             {"key": "cleanup", "url": "http://127.0.0.1:9/c", "needs": ["y"], "run_if": "always"}]""", 1);
        long run = claimed.get(0).runId();

        assertThat(fail(step(claimed, run, "a"))).isTrue();

        assertThat(column(run, "x", "status")).isEqualTo("skipped");
        assertThat(column(run, "y", "status")).isEqualTo("skipped");
        assertThat(column(run, "cleanup", "status")).isEqualTo("pending");
        assertThat(jobsFor(run, "cleanup")).isEqualTo(1);
        assertThat(run(run, "status")).isEqualTo("running");

        assertThat(succeed(step(claim(claimed.get(0).workflowId()), run, "cleanup")))
                .isTrue();
        assertThat(run(run, "status")).as("the failure was not handled").isEqualTo("failed");
        assertThat(run(run, "error")).isEqualTo("a: HTTP 500");
    }

    @Test
    void an_error_path_that_succeeds_handles_the_failure_and_the_run_succeeds_with_the_failure_on_its_step() {
        List<ClaimedJob> claimed = start("""
            [{"key": "crm", "url": "http://127.0.0.1:9/crm"},
             {"key": "ticket", "url": "http://127.0.0.1:9/t", "needs": ["crm"], "run_if": "any_failed"}]""", 2);
        long handledRun = claimed.get(0).runId();
        long failedRun = claimed.get(1).runId();
        long workflow = claimed.get(0).workflowId();

        assertThat(fail(step(claimed, handledRun, "crm"))).isTrue();
        assertThat(fail(step(claimed, failedRun, "crm"))).isTrue();
        List<ClaimedJob> tickets = claim(workflow);
        assertThat(tickets).extracting(ClaimedJob::step).containsExactly("ticket", "ticket");
        assertThat(succeed(step(tickets, handledRun, "ticket"))).isTrue();
        assertThat(fail(step(tickets, failedRun, "ticket"))).isTrue();

        assertThat(run(handledRun, "status")).isEqualTo("succeeded");
        assertThat(run(handledRun, "error")).isNull();
        assertThat(column(handledRun, "crm", "status")).isEqualTo("failed");
        assertThat(column(handledRun, "crm", "handled")).isEqualTo("true");
        assertThat(run(failedRun, "status"))
                .as("an error path that fails handles nothing")
                .isEqualTo("failed");
        assertThat(column(failedRun, "crm", "handled")).isEqualTo("false");
    }
}
