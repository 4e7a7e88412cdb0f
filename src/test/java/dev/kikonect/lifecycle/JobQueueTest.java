package dev.kikonect.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.support.TestDatabase;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The queue statements against the database, without the application ({@link TestDatabase}): nothing else claims,
 * so every job a test sees is its own.
 */
class JobQueueTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private final QueueStores queue = QueueStores.on(db, 8);

    private long workspace;
    private long workflow;
    /** The time of the tests' own clock: no executor runs on this database, so jobs are due when a test says. */
    private final Instant later = Instant.parse("2026-12-07T10:00:00Z");

    @BeforeEach
    void workflow() {
        TestDatabase.Workflow created = db.workflow("http://127.0.0.1:9/", "[]");
        workspace = created.workspace();
        workflow = created.id();
    }

    private void enqueue(int n, Instant at) {
        List<ScheduledRuns.Firing> firings = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            firings.add(new ScheduledRuns.Firing(workflow, workspace, "manual", "{\"n\":" + i + "}"));
        }
        queue.transactions().executeWithoutResult(s -> queue.runs().enqueueAll(firings, at));
    }

    /** Claims this test's jobs only (another test's far-future jobs may be due at the same instant). */
    private List<ClaimedJob> claim(Instant now, Duration lease) {
        return ours(queue.claims().claim(1_000, now, lease, "test-node"));
    }

    private String runStatus(long runId) {
        return queue.jdbc()
                .sql("SELECT status FROM workflow_runs WHERE id = :id")
                .param("id", runId)
                .query(String.class)
                .single();
    }

    private int jobs(long runId) {
        return queue.jdbc()
                .sql("SELECT count(*) FROM jobs WHERE run_id = :id")
                .param("id", runId)
                .query(Integer.class)
                .single();
    }

    private static Attempt attempt(int number, Instant at, boolean ok) {
        return new Attempt(number, at, 3, ok, !ok, ok ? 200 : 503, "{}", "", ok ? null : "HTTP 503", null, null);
    }

    @Test
    void a_claim_takes_due_jobs_oldest_first_and_marks_their_runs_running_with_a_fresh_lease() {
        enqueue(3, later);

        List<ClaimedJob> claimed = claim(later, Duration.ofMinutes(1));

        assertThat(claimed).hasSize(3);
        assertThat(claimed).extracting(ClaimedJob::payload).containsExactly("{\"n\":0}", "{\"n\":1}", "{\"n\":2}");
        assertThat(claimed).extracting(ClaimedJob::attempt).containsOnly(1);
        assertThat(claimed)
                .extracting(ClaimedJob::leaseToken)
                .doesNotContainNull()
                .doesNotHaveDuplicates();
        assertThat(claimed).allSatisfy(j -> assertThat(runStatus(j.runId())).isEqualTo("running"));
        assertThat(claim(later, Duration.ofMinutes(1)))
                .as("a claimed job is not claimed again")
                .isEmpty();
    }

    @Test
    void jobs_that_are_not_due_yet_are_not_claimed() {
        enqueue(1, later.plusSeconds(60));

        assertThat(claim(later, Duration.ofMinutes(1))).isEmpty();
        assertThat(claim(later.plusSeconds(60), Duration.ofMinutes(1))).hasSize(1);
    }

    @Test
    void a_success_ends_the_run_records_the_attempt_and_takes_the_job_out_of_the_queue() {
        enqueue(1, later);
        ClaimedJob job = claim(later, Duration.ofMinutes(1)).get(0);

        boolean done =
                queue.completions().complete(job, attempt(1, later, true), Next.SUCCEEDED, null, later.plusSeconds(1));

        assertThat(done).isTrue();
        assertThat(runStatus(job.runId())).isEqualTo("succeeded");
        assertThat(jobs(job.runId())).isZero();
        assertThat(queue.jdbc()
                        .sql("SELECT count(*) FROM attempts WHERE run_id = :id")
                        .param("id", job.runId())
                        .query(Integer.class)
                        .single())
                .isEqualTo(1);
    }

    @Test
    void a_retry_puts_the_job_back_for_its_next_attempt_time_and_the_next_claim_is_attempt_two() {
        enqueue(1, later);
        ClaimedJob job = claim(later, Duration.ofMinutes(1)).get(0);

        queue.completions()
                .complete(job, attempt(1, later, false), Next.RETRY, later.plusSeconds(3600), later.plusSeconds(1));

        assertThat(runStatus(job.runId())).isEqualTo("retrying");
        assertThat(claim(later.plusSeconds(10), Duration.ofMinutes(1))).isEmpty();
        List<ClaimedJob> again = claim(later.plusSeconds(3600), Duration.ofMinutes(1));
        assertThat(again).extracting(ClaimedJob::attempt).containsExactly(2);
        assertThat(again.get(0).leaseToken()).isNotEqualTo(job.leaseToken());
    }

    @Test
    void a_claim_stops_where_the_payloads_would_pass_the_memory_budget_but_always_takes_one_job() {
        String blob = "{\"blob\":\"" + "x".repeat(100_000) + "\"}";
        List<ScheduledRuns.Firing> firings = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            firings.add(new ScheduledRuns.Firing(workflow, workspace, "manual", blob));
        }
        queue.transactions().executeWithoutResult(s -> queue.runs().enqueueAll(firings, later));

        long payload = blob.length() + 2; // the payload as JSON text, as payload_bytes counts it
        List<ClaimedJob> first = ours(queue.claims()
                .claim(
                        1_000,
                        2 * (payload + JobCost.OVERHEAD) + 20_000,
                        new long[0],
                        later,
                        Duration.ofMinutes(1),
                        "test-node"));
        assertThat(first)
                .as("two payloads of 100 kB and their overhead fit, three do not")
                .hasSize(2);
        queue.leases().release(first, later);
        assertThat(queue.claims()
                        .claim(1_000, 2 * payload + 20_000, new long[0], later, Duration.ofMinutes(1), "test-node"))
                .as("the cut counts each job's overhead too (JobCost): two payloads without it fit, not with it")
                .hasSize(1);
        queue.leases().release(jdbcClaimed(), later);

        List<ClaimedJob> single =
                queue.claims().claim(1_000, 1, new long[0], later, Duration.ofMinutes(1), "test-node");
        assertThat(single)
                .as("a job bigger than the budget is still claimed when it comes first, alone")
                .hasSize(1);
        ours(single);
    }

    /** Every job claimed right now, to hand back. */
    private List<ClaimedJob> jdbcClaimed() {
        return queue.jdbc()
                .sql("SELECT id, lease_token FROM jobs WHERE status = 'processing'")
                .query((rs, n) -> new ClaimedJob(
                        rs.getLong("id"),
                        0,
                        workflow,
                        1,
                        0,
                        8,
                        rs.getObject("lease_token", UUID.class),
                        null,
                        null,
                        null,
                        null,
                        "",
                        null,
                        null,
                        "manual",
                        later,
                        null,
                        null,
                        "wf",
                        workspace,
                        false,
                        0,
                        null,
                        null))
                .list();
    }

    /** The claimed jobs, every one of them this test's (nothing else enqueues on the test database). */
    private List<ClaimedJob> ours(List<ClaimedJob> claimed) {
        assertThat(claimed).allSatisfy(j -> assertThat(j.workflowId()).isEqualTo(workflow));
        return claimed;
    }

    @Test
    void an_expired_lease_returns_the_job_to_the_queue_and_logs_the_lost_attempt() {
        enqueue(1, later);
        ClaimedJob job = claim(later, Duration.ofSeconds(1)).get(0);

        int requeued = queue.leases().requeueExpired(later.plusSeconds(2), 10_000);

        assertThat(requeued).isPositive();
        assertThat(runStatus(job.runId())).isEqualTo("retrying");
        assertThat(queue.jdbc()
                        .sql("SELECT error FROM attempts WHERE run_id = :id")
                        .param("id", job.runId())
                        .query(String.class)
                        .single())
                .startsWith("lease expired");
        assertThat(queue.completions()
                        .complete(job, attempt(1, later, true), Next.SUCCEEDED, null, later.plusSeconds(3)))
                .as("the node that lost the lease cannot complete it any more")
                .isFalse();
    }

    @Test
    void renewing_extends_only_leases_still_held_with_the_same_token() {
        enqueue(1, later);
        ClaimedJob job = claim(later, Duration.ofSeconds(1)).get(0);

        assertThat(queue.leases().renew(List.of(job), later.plusSeconds(60))).isEqualTo(1);
        queue.leases().requeueExpired(later.plusSeconds(2), 10_000);
        assertThat(runStatus(job.runId())).as("a renewed lease is not taken").isEqualTo("running");
        assertThat(queue.completions()
                        .complete(job, attempt(1, later, true), Next.SUCCEEDED, null, later.plusSeconds(3)))
                .isTrue();
        ClaimedJob impostor = new ClaimedJob(
                job.jobId(),
                job.runId(),
                job.workflowId(),
                1,
                0,
                8,
                UUID.randomUUID(),
                null,
                "",
                null,
                "{}",
                "",
                null,
                null,
                "manual",
                later,
                null,
                null,
                "w",
                workspace,
                false,
                0,
                null,
                null);
        assertThat(queue.leases().renew(List.of(impostor), later.plusSeconds(600)))
                .isZero();
    }

    @Test
    void a_released_job_is_pending_again_as_if_it_had_never_been_claimed() {
        enqueue(1, later);
        ClaimedJob job = claim(later, Duration.ofMinutes(1)).get(0);

        assertThat(queue.leases().release(List.of(job), later)).isEqualTo(1);

        assertThat(runStatus(job.runId())).isEqualTo("pending");
        assertThat(claim(later, Duration.ofMinutes(1)))
                .extracting(ClaimedJob::attempt)
                .containsExactly(1);
    }

    @Test
    void only_the_owner_cancels_and_only_a_run_that_is_not_being_delivered() {
        enqueue(2, later);
        long waiting = queue.jdbc()
                .sql("SELECT min(id) FROM workflow_runs WHERE workflow_id = :wf")
                .param("wf", workflow)
                .query(Long.class)
                .single();
        long stranger = db.workflow("http://127.0.0.1:9/", "[]").workspace();

        assertThat(queue.control().cancel(stranger, waiting, later)).isFalse();
        assertThat(queue.control().cancel(workspace, waiting, later)).isTrue();
        assertThat(runStatus(waiting)).isEqualTo("cancelled");
        assertThat(jobs(waiting)).isZero();

        ClaimedJob running = claim(later, Duration.ofMinutes(1)).get(0);
        assertThat(queue.control().cancel(workspace, running.runId(), later)).isFalse();
        assertThat(runStatus(running.runId())).isEqualTo("running");
    }

    @Test
    void concurrent_claims_never_hand_out_the_same_job_twice() throws Exception {
        enqueue(400, later);
        ConcurrentLinkedQueue<Long> claimed = new ConcurrentLinkedQueue<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<?>> racers = new ArrayList<>();
            for (int r = 0; r < 4; r++) {
                racers.add(pool.submit(() -> {
                    List<ClaimedJob> batch;
                    do {
                        batch = queue.claims().claim(7, later, Duration.ofSeconds(30), "racer");
                        batch.forEach(j -> claimed.add(j.jobId()));
                    } while (!batch.isEmpty());
                }));
            }
            for (Future<?> racer : racers) {
                racer.get();
            }
        }
        assertThat(claimed).hasSize(400);
        assertThat(new HashSet<>(claimed)).hasSize(400);
    }

    @Test
    void a_lost_attempt_below_the_budget_is_logged_and_waits_out_the_retry_delay() {
        enqueue(1, later);
        ClaimedJob job = claim(later, Duration.ofSeconds(1)).get(0);

        queue.leases().requeueExpired(later.plusSeconds(2), 10_000);

        Instant runAt = queue.jdbc()
                .sql("SELECT run_at FROM jobs WHERE id = :id")
                .param("id", job.jobId())
                .query(Timestamp.class)
                .single()
                .toInstant();
        assertThat(runAt)
                .as("the first retry delay (100 ms here) with its jitter")
                .isAfter(later.plusSeconds(2).plusMillis(79));
        assertThat(runStatus(job.runId())).isEqualTo("retrying");
        assertThat(queue.jdbc()
                        .sql("SELECT error FROM attempts WHERE run_id = :run")
                        .param("run", job.runId())
                        .query(String.class)
                        .list())
                .singleElement()
                .asString()
                .startsWith("lease expired")
                .endsWith("retrying");
        assertThat(claim(later.plusSeconds(1), Duration.ofMinutes(1)))
                .as("not before its delay")
                .isEmpty();
        assertThat(claim(runAt, Duration.ofMinutes(1)))
                .extracting(ClaimedJob::attempt)
                .containsExactly(2);
    }
}
