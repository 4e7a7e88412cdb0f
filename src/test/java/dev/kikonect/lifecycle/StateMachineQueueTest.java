package dev.kikonect.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.support.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The queue's own statements (claims, completions, lost leases, jobs handed back, cancel and retry) change statuses
 * only as the three machines allow, on the database without the application ({@link TestDatabase}): every status
 * change is recorded by {@link TransitionLog}. The API and the live executor's share is {@code StateMachineTest}.
 */
class StateMachineQueueTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private final QueueStores queue = QueueStores.on(db, 2);
    private final TransitionLog log = new TransitionLog(queue.jdbc());
    private final Instant now = Instant.parse("2026-12-07T10:00:00Z");

    @AfterEach
    void stop() {
        log.stop();
    }

    private void enqueue(TestDatabase.Workflow w, int n) {
        List<ScheduledRuns.Firing> firings = IntStream.range(0, n)
                .mapToObj(i -> new ScheduledRuns.Firing(w.id(), w.workspace(), "manual", "{}"))
                .toList();
        queue.transactions().executeWithoutResult(s -> queue.runs().enqueueAll(firings, now));
    }

    private static Attempt attempt(ClaimedJob job, Instant at, boolean ok) {
        return new Attempt(job.number(), at, 3, ok, !ok, ok ? 200 : 503, "{}", "", ok ? null : "HTTP 503", null, null);
    }

    @Test
    void every_queue_statement_moves_runs_steps_and_jobs_only_as_the_machines_allow() {
        TestDatabase.Workflow plain = db.workflow("http://127.0.0.1:9/", "[]");
        TestDatabase.Workflow chain = db.workflow(null, """
            [{"key": "a", "url": "http://127.0.0.1:9/a"},
             {"key": "b", "url": "http://127.0.0.1:9/b", "needs": ["a"]}]""");
        log.start();
        enqueue(plain, 3);
        enqueue(chain, 3);

        // node-a claims everything and dies: the leases run out, the attempts are lost (and counted)
        List<ClaimedJob> first = queue.claims().claim(100, now, Duration.ofSeconds(1), "node-a");
        assertThat(first).hasSize(6);
        queue.leases().requeueExpired(now.plusSeconds(5), 100);
        // node-b takes them again once due and hands one of each back (shutting down) ...
        List<ClaimedJob> second = queue.claims().claim(100, now.plusSeconds(60), Duration.ofMinutes(1), "node-b");
        assertThat(second).hasSize(6);
        queue.leases().release(List.of(second.get(0), second.get(3)), now.plusSeconds(61));
        // ... and completes the others: one succeeds, one is retried, one fails for good (its last attempt)
        Instant at = now.plusSeconds(62);
        List<ClaimedJob> rest = List.of(second.get(1), second.get(2), second.get(4), second.get(5));
        queue.completions()
                .completeAll(
                        List.of(
                                new Completions.Completion(
                                        rest.get(0), attempt(rest.get(0), at, true), Next.SUCCEEDED, null),
                                new Completions.Completion(
                                        rest.get(1), attempt(rest.get(1), at, false), Next.RETRY, at.plusSeconds(5)),
                                new Completions.Completion(
                                        rest.get(2), attempt(rest.get(2), at, true), Next.SUCCEEDED, null),
                                new Completions.Completion(
                                        rest.get(3), attempt(rest.get(3), at, false), Next.FAILED, null)),
                        at);
        // a user cancels a run that waits, and retries the one that failed
        long waiting = second.get(0).runId();
        queue.control().cancel(plain.workspace(), waiting, at);
        queue.control().retry(chain.workspace(), rest.get(3).runId(), at);

        TransitionLog.Seen seen = log.seen();
        assertThat(seen.illegal())
                .as("status changes the machines lack (seen: %s)", seen.changes())
                .isEmpty();
        assertThat(seen.changes())
                .as("the test drove the machines")
                .contains(
                        "jobs: pending -> processing",
                        "jobs: processing -> pending",
                        "workflow_runs: running -> retrying",
                        "workflow_runs: retrying -> running",
                        "workflow_runs: retrying -> cancelled",
                        "workflow_runs: failed -> pending",
                        "run_steps: running -> retrying",
                        "run_steps: waiting -> pending",
                        "run_steps: failed -> pending");
    }
}
