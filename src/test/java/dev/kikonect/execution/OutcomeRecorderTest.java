package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kikonect.lifecycle.Attempt;
import dev.kikonect.lifecycle.ClaimedJob;
import dev.kikonect.lifecycle.Completions;
import dev.kikonect.lifecycle.Next;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessResourceFailureException;

/**
 * A completion that fails on the database (a failover) is tried again while the job's lease lasts, instead of being
 * logged and left for the lease to expire (and the delivery to be sent again); it stops at the lease's end.
 */
class OutcomeRecorderTest {

    private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");

    private static ClaimedJob job() {
        return TestJobs.job("http://127.0.0.1:9/", null, null, "{}", 1, 8, false, NOW);
    }

    private static AttemptPipeline.Outcome.Complete succeeded() {
        return new AttemptPipeline.Outcome.Complete(
                Next.SUCCEEDED, new Attempt(1, NOW, 3, true, false, 200, "{}", "", null, null, null), null, null);
    }

    /** Writes that fail {@code failures} times on the database, then apply. */
    private static Function<List<Completions.Completion>, List<Completions.Done>> failing(
            int failures, AtomicInteger calls) {
        return batch -> {
            if (calls.incrementAndGet() <= failures) {
                throw new DataAccessResourceFailureException("the primary is gone (a failover)");
            }
            List<Completions.Done> done = new ArrayList<>();
            batch.forEach(c -> done.add(new Completions.Done(true, null)));
            return done;
        };
    }

    @Test
    void a_completion_that_fails_on_the_database_is_written_once_it_answers_again() {
        AtomicInteger calls = new AtomicInteger();
        try (OutcomeRecorder recorder = new OutcomeRecorder(
                failing(3, calls), Clock.systemUTC(), new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
            recorder.complete(job(), succeeded());
        }
        assertThat(calls.get())
                .as("three tries failed (100, 200, 400 ms apart), the fourth wrote it")
                .isEqualTo(4);
    }

    @Test
    void a_deferred_job_whose_hand_back_fails_on_the_database_is_handed_back_once_it_answers_again() {
        AtomicInteger releases = new AtomicInteger();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (OutcomeRecorder recorder = new OutcomeRecorder(
                failing(0, new AtomicInteger()), Clock.systemUTC(), meters, Duration.ofSeconds(30))) {
            recorder.deferred(job(), "host_busy", () -> {
                if (releases.incrementAndGet() <= 2) {
                    throw new DataAccessResourceFailureException("the primary is gone (a failover)");
                }
                return 1;
            });
        }
        assertThat(releases.get())
                .as("two tries failed, the third handed it back")
                .isEqualTo(3);
        assertThat(meters.counter("kikonect.deliveries.deferred", "reason", "host_busy")
                        .count())
                .as("counted once")
                .isEqualTo(1.0);
    }

    @Test
    void it_stops_trying_when_the_lease_would_have_run_out() {
        AtomicInteger calls = new AtomicInteger();
        try (OutcomeRecorder recorder = new OutcomeRecorder(
                failing(Integer.MAX_VALUE, calls),
                Clock.systemUTC(),
                new SimpleMeterRegistry(),
                Duration.ofMillis(500))) {
            assertThatThrownBy(() -> recorder.complete(job(), succeeded()))
                    .hasRootCauseInstanceOf(DataAccessResourceFailureException.class);
        }
        assertThat(calls.get()).as("a few tries, then it gave up").isBetween(2, 20);
    }

    @Test
    void a_failure_that_is_not_the_databases_is_not_tried_again() {
        AtomicInteger calls = new AtomicInteger();
        Function<List<Completions.Completion>, List<Completions.Done>> broken = batch -> {
            calls.incrementAndGet();
            throw new IllegalStateException("a bug");
        };
        try (OutcomeRecorder recorder =
                new OutcomeRecorder(broken, Clock.systemUTC(), new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
            assertThatThrownBy(() -> recorder.complete(job(), succeeded()))
                    .hasRootCauseInstanceOf(IllegalStateException.class);
        }
        assertThat(calls.get()).as("once").isEqualTo(1);
    }
}
