package dev.kikonect.execution;

import dev.kikonect.common.Batcher;
import dev.kikonect.common.DomainException;
import dev.kikonect.lifecycle.Attempt;
import dev.kikonect.lifecycle.ClaimedJob;
import dev.kikonect.lifecycle.Completions;
import dev.kikonect.lifecycle.Next;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;

/**
 * Records what became of each delivery: its completion (batched: many deliveries share one statement and one commit,
 * see {@link Batcher}), and the metrics of attempts, deferrals and runs that ended.
 *
 * <p>A completion that fails on the database (a failover, a restart, a pool that could not connect) is tried again,
 * 100 ms later and then each time twice as late (at most 2 s), for as long as the job's lease lasts ({@code
 * retryFor}, the lease's duration: the job stays in flight meanwhile, so its lease keeps being renewed once the
 * database answers). Before, the outcome was only logged, and every delivery in flight at a failover was sent again
 * when its lease ran out. Trying again is safe: the completion is fenced by the job's lease token, so one that did
 * commit before its answer was lost is not applied twice.
 */
final class OutcomeRecorder implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(OutcomeRecorder.class);
    private static final String DEFERRED =
            "Deliveries put back without an attempt, by reason (host_busy: its receiver had the most "
                    + "in flight; expressions_busy: the expression sandbox had no room)";

    private final Clock clock;
    private final MeterRegistry meters;
    private final Batcher<Completions.Completion, Completions.Done> completer;
    private final Duration retryFor;

    OutcomeRecorder(Completions completions, Clock clock, MeterRegistry meters, Duration retryFor) {
        this(batch -> completions.completeAll(batch, clock.instant()), clock, meters, retryFor);
    }

    /** {@code write}: writes a batch of completions (the database's {@link Completions#completeAll}; a test's own). */
    OutcomeRecorder(
            Function<List<Completions.Completion>, List<Completions.Done>> write,
            Clock clock,
            MeterRegistry meters,
            Duration retryFor) {
        this.clock = clock;
        this.meters = meters;
        this.retryFor = retryFor;
        this.completer = new Batcher<>(
                "kikonect-completer",
                500,
                write,
                one -> write.apply(List.of(one)).get(0),
                meters);
        // Registered at once (0 until it happens), so that dashboards and alerts see the series before the first
        // deferral.
        Counter.builder("kikonect.deliveries.deferred")
                .description(DEFERRED)
                .tags("reason", "host_busy")
                .register(meters);
    }

    /** Completes the job and counts what happened. */
    void complete(ClaimedJob job, AttemptPipeline.Outcome.Complete outcome) {
        Instant now = clock.instant();
        Attempt attempt = outcome.attempt();
        Completions.Done done = record(
                job, new Completions.Completion(job, attempt, outcome.next(), outcome.retryAt(), outcome.kept()));
        if (!done.applied()) {
            log.warn(
                    "Job {} (run {}) lost its lease before completing; its newer attempt stands",
                    job.jobId(),
                    job.runId());
            return;
        }
        if (attempt != null) {
            String result = attempt.succeeded()
                    ? "success"
                    : outcome.next() == Next.RETRY ? "retryable_failure" : "permanent_failure";
            Counter.builder("kikonect.deliveries")
                    .description("Delivery attempts, by outcome: success, retryable_failure, permanent_failure")
                    .tags("outcome", result)
                    .register(meters)
                    .increment();
            if (!attempt.succeeded()) {
                log.info(
                        "Delivery attempt {} of run {}{} failed: {}",
                        attempt.number(),
                        job.runId(),
                        job.step() == null ? "" : " (step " + job.step() + ")",
                        attempt.error());
            }
        }
        if (done.runEnded() != null) {
            Counter.builder("kikonect.runs")
                    .description("Runs that ended, by trigger and outcome")
                    .tags("trigger", job.trigger(), "outcome", done.runEnded().wire())
                    .register(meters)
                    .increment();
            Timer.builder("kikonect.run.latency")
                    .description("From run created to run finished (succeeded or failed)")
                    .tag("outcome", done.runEnded().wire())
                    .publishPercentileHistogram()
                    .register(meters)
                    .record(Duration.between(job.runCreatedAt(), now));
        }
    }

    /** Writes {@code completion}, trying again while the database fails and the job's lease lasts. */
    private Completions.Done record(ClaimedJob job, Completions.Completion completion) {
        return whileLeased(job, "Recording", () -> completer.submit(completion).join());
    }

    /**
     * Hands a job back without an attempt ({@code release}: its statement) and counts why; tried again like a
     * completion, so that a deferral during a failover does not leave its job to wait out its lease.
     */
    void deferred(ClaimedJob job, String reason, Supplier<Integer> release) {
        whileLeased(job, "Handing back", release);
        deferred(reason);
    }

    /** Runs {@code write}, trying again while the database fails and the job's lease lasts. */
    private <T> T whileLeased(ClaimedJob job, String what, Supplier<T> write) {
        long deadline = System.nanoTime() + retryFor.toNanos();
        long pauseMs = 100;
        for (int tries = 1; ; tries++) {
            try {
                return write.get();
            } catch (CompletionException | DataAccessException | DomainException.Unavailable e) {
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                // the database failed, or is far behind ("overloaded"); not a node that is shutting down
                boolean database = cause instanceof DataAccessException
                        || (cause instanceof DomainException.Unavailable u && "overloaded".equals(u.type()));
                if (!database || System.nanoTime() + pauseMs * 1_000_000L > deadline) {
                    throw e;
                }
                if (tries == 1) {
                    log.warn(
                            "{} job {} of run {} failed on the database ({}); trying again while its lease lasts",
                            what,
                            job.jobId(),
                            job.runId(),
                            cause.toString());
                }
                try {
                    Thread.sleep(pauseMs);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                pauseMs = Math.min(pauseMs * 2, 2_000);
            }
        }
    }

    /** A delivery put back without an attempt. */
    void deferred(String reason) {
        Counter.builder("kikonect.deliveries.deferred")
                .description(DEFERRED)
                .tags("reason", reason)
                .register(meters)
                .increment();
    }

    @Override
    public void close() {
        completer.close();
    }
}
