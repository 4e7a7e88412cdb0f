package dev.kikonect.execution;

import dev.kikonect.common.Batcher;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records what became of each delivery: its completion (batched: many deliveries share one statement and one commit,
 * see {@link Batcher}), and the metrics of attempts, deferrals and runs that ended.
 */
final class OutcomeRecorder implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(OutcomeRecorder.class);
    private static final String DEFERRED =
            "Deliveries put back without an attempt, by reason (host_busy: its receiver had the most "
                    + "in flight; expressions_busy: the expression sandbox had no room)";

    private final Clock clock;
    private final MeterRegistry meters;
    private final Batcher<Completions.Completion, Completions.Done> completer;

    OutcomeRecorder(Completions completions, Clock clock, MeterRegistry meters) {
        this.clock = clock;
        this.meters = meters;
        this.completer = new Batcher<>(
                "kikonect-completer",
                500,
                batch -> completions.completeAll(batch, clock.instant()),
                one -> completions.completeAll(List.of(one), clock.instant()).get(0),
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
        Completions.Done done = completer
                .submit(new Completions.Completion(job, attempt, outcome.next(), outcome.retryAt(), outcome.kept()))
                .join();
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
