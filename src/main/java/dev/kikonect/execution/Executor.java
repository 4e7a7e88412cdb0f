package dev.kikonect.execution;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.lifecycle.ClaimedJob;
import dev.kikonect.lifecycle.Claims;
import dev.kikonect.lifecycle.Leases;
import dev.kikonect.lifecycle.WorkSignal;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
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

    private final FairShare fairness = new FairShare();

    private volatile boolean running;
    private Thread dispatcher;
    private Thread keeper;
    private final LeaseKeeper leaseKeeper;
    private ExecutorService deliveries;

    Executor(
            Claims claims,
            Leases leases,
            AttemptPipeline pipeline,
            OutcomeRecorder outcomes,
            DeliveryBudget budget,
            SharedPayloads payloads,
            WorkSignal signal,
            Clock clock,
            KiKonectProperties properties) {
        this.claims = claims;
        this.leases = leases;
        this.pipeline = pipeline;
        this.outcomes = outcomes;
        this.budget = budget;
        this.payloads = payloads;
        this.signal = signal;
        this.clock = clock;
        this.settings = properties.executor();
        this.enabled = settings.enabled() && properties.hasRole("executor");
        this.slots = new Semaphore(settings.concurrency());
        this.leaseKeeper = new LeaseKeeper(
                leases,
                inFlight.values(),
                signal,
                clock,
                settings.leaseDuration(),
                settings.sweepInterval(),
                () -> running);
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
        keeper = Thread.ofPlatform().name("kikonect-leases").daemon(true).start(leaseKeeper);
        int slotCount = settings.concurrency();
        log.info("Executor {} started: {} concurrent deliveries, batches of {}", node, slotCount, settings.batchSize());
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
                    claimed = running ? claimAndDispatch(wanted, OptionalLong.empty()) : 0;
                } finally {
                    slots.release(wanted - claimed);
                }
                OptionalLong dominant = fairness.skip(clock.instant());
                if (dominant.isPresent() && running) {
                    // One owner took most of the batch: claim once more without it (see FairShare).
                    int probe = takeSlots(settings.batchSize());
                    int others = 0;
                    try {
                        others = probe > 0 ? claimAndDispatch(probe, dominant) : 0;
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
                if (!LeaseKeeper.pause(Duration.ofSeconds(1))) {
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
    private int claimAndDispatch(int wanted, OptionalLong skipOwner) {
        long[] saturated = budget.saturated(skipOwner);
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
                // Never wait for memory while holding claimed jobs (their leases are renewed only once in flight): a
                // job whose owner would pass its share goes back to the queue without an attempt (the rest of its run
                // too) and the other owners' jobs go on; when the budget itself is full, the rest of the batch goes
                // back. A run's payload is charged once, with the run's first job admitted.
                DeliveryBudget.Admission admitted = skippedRuns.contains(claimed.runId())
                        ? DeliveryBudget.Admission.WITHOUT_PAYLOAD
                        : budget.admit(claimed);
                if (admitted.take() == DeliveryBudget.Take.FULL) {
                    break;
                } else if (admitted.take() != DeliveryBudget.Take.TAKEN) {
                    undelivered.add(claimed);
                    if (admitted.take() == DeliveryBudget.Take.OVER_SHARE) {
                        skippedRuns.add(claimed.runId());
                    }
                    continue;
                }
                SharedPayloads.Charge charge = admitted.charge();
                long jobKib = admitted.jobKib();
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
            budget.unpin(held);
            budget.unpin(payloads.created(taken));
        }
        if (skipOwner.isEmpty()) {
            fairness.claimed(jobs);
        }
        undelivered.addAll(
                jobs.subList(Math.min(at, jobs.size()), jobs.size())); // from the one that did not fit or start on
        if (!undelivered.isEmpty()) {
            try {
                leases.release(undelivered, clock.instant());
            } catch (RuntimeException releaseFailed) {
                log.warn(
                        "Handing back {} jobs failed (leases expire): {}",
                        undelivered.size(),
                        releaseFailed.toString());
            }
        }
        return dispatched;
    }

    /** One delivery's task: the attempt pipeline, then what its outcome says; the slot and memory are given back. */
    private void deliverAndRecord(ClaimedJob job, byte[] payload, long jobKib) {
        MDC.put("run_id", Long.toString(job.runId()));
        MDC.put("workflow_id", Long.toString(job.workflowId()));
        try {
            switch (pipeline.run(job, payload)) {
                case AttemptPipeline.Outcome.Complete c -> outcomes.complete(job, c);
                case AttemptPipeline.Outcome.Defer d ->
                    outcomes.deferred(job, d.reason(), () -> leases.release(List.of(job), clock.instant()));
                case AttemptPipeline.Outcome.Abandon a -> {} // stopping: handed back with the other unfinished jobs
                case AttemptPipeline.Outcome.Parked p -> {} // waits for the workflow it runs: its job is gone
                case AttemptPipeline.Outcome.Wait w -> leases.waitUntil(job, w.until()); // holds nothing until then
            }
        } catch (Throwable e) {
            log.error("Recording job {} of run {} failed; retried when its lease expires", job.jobId(), job.runId(), e);
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
                Duration grace = settings.shutdownGrace();
                List<ClaimedJob> left = List.copyOf(inFlight.values());
                int back = leases.release(left, clock.instant());
                log.warn("{} deliveries outlived the {} grace; handed {} back to the queue", left.size(), grace, back);
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
