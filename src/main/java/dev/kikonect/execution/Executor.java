package dev.kikonect.execution;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.lifecycle.ClaimedJob;
import dev.kikonect.lifecycle.Claims;
import dev.kikonect.lifecycle.JobCost;
import dev.kikonect.lifecycle.Leases;
import dev.kikonect.lifecycle.WorkSignal;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The executor's loop. One platform thread claims batches of due jobs (as many as there are free delivery slots and
 * as the memory budget holds, fairly between workspaces) and hands each to its own virtual thread, which runs the
 * {@link AttemptPipeline} and records its outcome, so one slow action URL never holds up the others. It sleeps only
 * when there is nothing to claim, until this node enqueues work ({@link WorkSignal}) or the poll interval passes.
 * A second thread keeps the leases ({@link LeaseKeeper}).
 * On shutdown the node stops claiming, lets in-flight deliveries finish within the grace period and hands the rest back.
 */
@Component
class Executor implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(Executor.class);

    private final Claims claims;
    private final Leases leases;
    private final AttemptPipeline pipeline;
    private final CompiledSteps compiled;
    private final WorkSignal signal;
    private final Clock clock;
    private final KiKonectProperties.Executor settings;
    private final boolean enabled;
    private final Semaphore slots;
    /** The memory budget ({@code kikonect.executor.memory-budget}) and each workspace's share of it and of the slots. */
    private final DeliveryBudget budget;

    private final String node;
    private final Map<Long, ClaimedJob> inFlight = new ConcurrentHashMap<>();
    /** Parsed payloads shared by the steps of a run in flight. */
    private final SharedPayloads payloads;

    private final OutcomeRecorder outcomes;
    /** How much of a step's response is kept for the steps that need it. */
    private final int keepBytes;

    private static final long NO_OWNER = Long.MIN_VALUE;
    private final FairShare fairness = new FairShare();

    private volatile boolean running;
    private Thread dispatcher;
    private Thread keeper;
    private ExecutorService deliveries;

    Executor(
            Claims claims,
            Leases leases,
            AttemptPipeline pipeline,
            OutcomeRecorder outcomes,
            DeliveryBudget budget,
            SharedPayloads payloads,
            CompiledSteps compiled,
            WorkSignal signal,
            Clock clock,
            KiKonectProperties properties) {
        this.claims = claims;
        this.leases = leases;
        this.pipeline = pipeline;
        this.outcomes = outcomes;
        this.budget = budget;
        this.payloads = payloads;
        this.compiled = compiled;
        this.keepBytes = DeliveryConfiguration.keptBytes(properties);
        this.signal = signal;
        this.clock = clock;
        this.settings = properties.executor();
        this.enabled = settings.enabled() && properties.hasRole("executor");
        this.slots = new Semaphore(settings.concurrency());
        this.node = ManagementFactory.getRuntimeMXBean().getName() + "/"
                + UUID.randomUUID().toString().substring(0, 8);
    }

    @Override
    public synchronized void start() {
        if (!enabled || running) {
            return;
        }
        running = true;
        deliveries = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("delivery-", 0).factory());
        dispatcher = Thread.ofPlatform().name("kikonect-executor").daemon(true).start(this::claimLoop);
        keeper = Thread.ofPlatform()
                .name("kikonect-leases")
                .daemon(true)
                .start(new LeaseKeeper(
                        leases,
                        inFlight.values(),
                        signal,
                        clock,
                        settings.leaseDuration(),
                        settings.sweepInterval(),
                        () -> running));
        log.info(
                "Executor {} started: {} concurrent deliveries, batches of {}",
                node,
                settings.concurrency(),
                settings.batchSize());
    }

    private void claimLoop() {
        while (running) {
            try {
                slots.acquire();
                int wanted = 1 + takeSlots(settings.batchSize() - 1);
                int claimed = 0;
                try {
                    // Wait for room for the largest payload plus a batch's overhead, then claim what the free memory
                    // holds.
                    budget.awaitRoom();
                    claimed = running ? claimAndDispatch(wanted, NO_OWNER) : 0;
                } finally {
                    slots.release(wanted - claimed);
                }
                OptionalLong dominant = fairness.skip(clock.instant());
                if (dominant.isPresent() && running) {
                    // One owner took most of the batch: claim once more without it (see FairShare).
                    int probe = takeSlots(settings.batchSize());
                    int others = 0;
                    try {
                        others = probe > 0 ? claimAndDispatch(probe, dominant.getAsLong()) : 0;
                    } finally {
                        slots.release(probe - others);
                    }
                    fairness.probed(others, clock.instant());
                    claimed += others;
                }
                if (claimed < wanted && running) {
                    signal.await(settings.pollInterval());
                }
            } catch (InterruptedException e) {
                return;
            } catch (Throwable e) { // no Error from one claim may end the loop (OutOfMemoryError exits the process)
                log.warn("Claiming jobs failed; retrying in 1s: {}", e.toString());
                if (!pause(Duration.ofSeconds(1))) {
                    return;
                }
            }
        }
    }

    /** Takes up to {@code max} free delivery slots without waiting; returns how many. */
    private int takeSlots(int max) {
        int taken = 0;
        while (taken < max && slots.tryAcquire()) {
            taken++;
        }
        return taken;
    }

    /**
     * Claims up to {@code wanted} jobs whose payloads fit the free memory and starts their deliveries; returns how
     * many were started (each holds one slot). Interrupted or shut down midway, the claimed jobs not started go back to
     * the queue at once. Each delivery holds its payload once, as the bytes it sends.
     */
    private int claimAndDispatch(int wanted, long skipOwner) {
        long[] saturated = budget.saturated();
        if (skipOwner != NO_OWNER) {
            saturated = Arrays.copyOf(saturated, saturated.length + 1);
            saturated[saturated.length - 1] = skipOwner;
        }
        long[] held = payloads.pin();
        List<SharedPayloads.Charge> taken = new ArrayList<>();
        List<ClaimedJob> jobs = List.of();
        List<ClaimedJob> undelivered = new ArrayList<>();
        Set<Long> skippedRuns = new HashSet<>();
        int dispatched = 0;
        int at = 0;
        try {
            jobs = claims.claim(
                    wanted, budget.claimable(), saturated, held, clock.instant(), settings.leaseDuration(), node);
            for (; at < jobs.size(); at++) {
                ClaimedJob claimed = jobs.get(at);
                byte[] given =
                        claimed.payload() == null ? null : claimed.payload().getBytes(StandardCharsets.UTF_8);
                // The run's payload (bytes, and its parsed size for a step whose expressions read it) is charged once
                // per run.
                SharedPayloads.Charge charge = skippedRuns.contains(claimed.runId())
                        ? null
                        : payloads.charge(
                                claimed.runId(), claimed.workspaceId(), given, compiled.readsPayload(claimed));
                if (charge == null) { // its run's job that brought the payload went back: so does this one
                    undelivered.add(claimed);
                    continue;
                }
                long jobKib =
                        (JobCost.reservedBytes(claimed, compiled.keepsResponse(claimed) ? keepBytes : 0) + 1023) / 1024;
                // Never wait for memory while holding claimed jobs (their leases are renewed only once they are in
                // flight): a job that would take its owner past its share goes back to the queue without an attempt,
                // and the other owners' jobs of the batch go on; when the budget itself is full, the rest of the batch
                // goes back.
                DeliveryBudget.Take take = budget.take(claimed, charge, jobKib);
                if (take == DeliveryBudget.Take.OVER_SHARE) {
                    undelivered.add(claimed);
                    skippedRuns.add(claimed.runId());
                    continue;
                } else if (take == DeliveryBudget.Take.FULL) {
                    break;
                }
                taken.add(charge);
                ClaimedJob job = claimed.withoutPayload();
                inFlight.put(job.jobId(), job);
                byte[] body = charge.bytes();
                try {
                    deliveries.submit(() -> deliverAndRecord(job, body, jobKib));
                } catch (RuntimeException e) { // shutting down: undo this one, hand it back below
                    inFlight.remove(job.jobId());
                    budget.giveBack(job, jobKib);
                    throw e;
                }
                dispatched++;
            }
        } catch (RuntimeException e) {
            if (e instanceof RejectedExecutionException) {
                Thread.currentThread().interrupt(); // stopping: the claim loop ends
            } else {
                log.warn("Starting claimed deliveries failed; handing the rest back: {}", e.toString());
            }
        } finally {
            for (long run : held) {
                budget.unpin(run);
            }
            for (long run : payloads.created(taken)) {
                budget.unpin(run);
            }
        }
        if (skipOwner == NO_OWNER) {
            fairness.claimed(jobs);
        }
        undelivered.addAll(
                jobs.subList(Math.min(at, jobs.size()), jobs.size())); // from the one that did not fit or start on
        if (!undelivered.isEmpty()) {
            try {
                leases.release(undelivered, clock.instant());
            } catch (RuntimeException releaseFailed) {
                log.warn(
                        "Handing back {} claimed jobs failed; their leases will expire: {}",
                        undelivered.size(),
                        releaseFailed.toString());
            }
        }
        return dispatched;
    }

    static boolean pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }

    /** One delivery's task: the attempt pipeline, then what its outcome says; the slot and memory are given back. */
    private void deliverAndRecord(ClaimedJob job, byte[] payload, long jobKib) {
        MDC.put("run_id", Long.toString(job.runId()));
        MDC.put("workflow_id", Long.toString(job.workflowId()));
        try {
            switch (pipeline.run(job, payload)) {
                case AttemptPipeline.Outcome.Complete c -> outcomes.complete(job, c);
                case AttemptPipeline.Outcome.Defer d -> {
                    leases.release(List.of(job), clock.instant());
                    outcomes.deferred(d.reason());
                }
                case AttemptPipeline.Outcome.Abandon a -> {} // stopping: handed back with the other unfinished jobs
            }
        } catch (Throwable e) {
            log.error(
                    "Recording the outcome of job {} (run {}) failed; its lease will expire and it will be retried",
                    job.jobId(),
                    job.runId(),
                    e);
        } finally {
            inFlight.remove(job.jobId());
            budget.giveBack(job, jobKib);
            slots.release();
            MDC.clear();
        }
    }

    @Override
    public synchronized void stop() {
        if (!running) {
            return;
        }
        running = false;
        signal.wake();
        dispatcher.interrupt();
        keeper.interrupt();
        try {
            dispatcher.join(5000);
            keeper.join(5000);
            deliveries.shutdown();
            if (!deliveries.awaitTermination(settings.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
                List<ClaimedJob> unfinished = List.copyOf(inFlight.values());
                int released = leases.release(unfinished, clock.instant());
                log.warn(
                        "{} deliveries did not finish within {}; handed {} back to the queue",
                        unfinished.size(),
                        settings.shutdownGrace(),
                        released);
                deliveries.shutdownNow();
                deliveries.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("Handing unfinished jobs back failed; their leases will expire instead", e);
        }
        log.info("Executor {} stopped", node);
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
