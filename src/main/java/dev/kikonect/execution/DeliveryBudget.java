package dev.kikonect.execution;

import dev.kikonect.lifecycle.ClaimedJob;
import dev.kikonect.lifecycle.JobCost;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.stream.LongStream;

/**
 * What the deliveries in flight on this node hold, and who holds it: the memory budget in KiB (each job's
 * {@link JobCost} plus its run's payload once), each workspace's share of it, and each workspace's deliveries in
 * flight. A workspace at its share or its concurrency is passed over by the next claim, so the others' jobs are
 * claimed instead of waiting behind its backlog. Both per-owner maps lose an owner once it holds nothing, so they
 * never hold more entries than there are deliveries in flight.
 */
final class DeliveryBudget {

    /** Room for the largest payload (1 MiB of form fields grows when turned into JSON): a claim waits for it. */
    static final long LARGEST = 3 * 1024 * 1024;

    /** What became of a job offered to the budget. */
    enum Take {
        TAKEN,
        /** the job of its run that brought the payload was not admitted: this one goes back too */
        NO_PAYLOAD,
        /** its owner would pass its share: the job goes back, the batch goes on */
        OVER_SHARE,
        /** the budget is full: the job and the rest of the batch go back */
        FULL
    }

    private final Semaphore memory;
    private final long budgetKib;
    private final long ownerShareKib;
    private final long claimBytes;
    private final int reserveKib;
    private final int perOwnerConcurrency;
    private final Map<Long, Integer> ownerConcurrency;
    private final SharedPayloads payloads;
    private final CompiledSteps compiled;
    /** How much of a response is kept for the steps that need it ({@code kikonect.delivery.max-kept-response}). */
    private final long keptBytes;

    private final Map<Long, Integer> inFlightByOwner = new ConcurrentHashMap<>();
    private final Map<Long, Long> memoryByOwner = new ConcurrentHashMap<>();

    /**
     * {@code budgetBytes} at least one largest payload and a batch's overhead; {@code perOwnerBytes} at least one largest
     * payload, at most the budget; one claim returns at most an eighth of the budget in payloads.
     */
    DeliveryBudget(
            CompiledSteps compiled,
            long keptBytes,
            long budgetBytes,
            long perOwnerBytes,
            int perOwnerConcurrency,
            Map<Long, Integer> ownerConcurrency,
            int batchSize,
            SharedPayloads payloads) {
        long reserve = LARGEST + batchSize * JobCost.OVERHEAD;
        this.budgetKib = Math.max(budgetBytes, reserve) / 1024;
        this.memory = new Semaphore((int) Math.min(Integer.MAX_VALUE, budgetKib));
        this.ownerShareKib = Math.min(budgetKib, Math.max(perOwnerBytes, LARGEST + JobCost.OVERHEAD) / 1024);
        this.claimBytes = Math.max(LARGEST, budgetKib * 1024 / 8);
        this.reserveKib = (int) (reserve / 1024);
        this.perOwnerConcurrency = perOwnerConcurrency;
        this.ownerConcurrency = Map.copyOf(ownerConcurrency);
        this.payloads = payloads;
        this.compiled = compiled;
        this.keptBytes = keptBytes;
    }

    /** Waits until the largest payload and a batch's overhead would fit (the claim thread, holding no claimed job). */
    void awaitRoom() throws InterruptedException {
        memory.acquire(reserveKib);
        memory.release(reserveKib);
    }

    /** How many bytes of jobs the next claim may take ({@link JobCost}'s cut). */
    long claimable() {
        return Math.min(memory.availablePermits() * 1024L, claimBytes);
    }

    /** The owners at their concurrency or their share of memory, and {@code also}: whom the next claim passes over. */
    long[] saturated(OptionalLong also) {
        return LongStream.concat(also.stream(), LongStream.of(saturated())).toArray();
    }

    /** The owners at their concurrency or their share of memory, whom the next claim passes over. */
    long[] saturated() {
        return LongStream.concat(
                        inFlightByOwner.entrySet().stream()
                                .filter(e ->
                                        e.getValue() >= ownerConcurrency.getOrDefault(e.getKey(), perOwnerConcurrency))
                                .mapToLong(Map.Entry::getKey),
                        memoryByOwner.entrySet().stream()
                                .filter(e -> e.getValue() >= ownerShareKib)
                                .mapToLong(Map.Entry::getKey))
                .distinct()
                .toArray();
    }

    /**
     * Takes {@code jobKib} for the job and its run's payload {@code charge} (null: nothing to charge) unless its owner
     * would pass its share or the budget is full. Never waits.
     */
    Take take(ClaimedJob job, SharedPayloads.Charge charge, long jobKib) {
        long kib = jobKib + charge.kib();
        long ownerKib = memoryByOwner.getOrDefault(job.workspaceId(), 0L);
        if (ownerKib > 0 && ownerKib + kib > ownerShareKib) {
            return Take.OVER_SHARE;
        }
        if (!memory.tryAcquire((int) Math.min(Integer.MAX_VALUE, kib))) {
            return Take.FULL;
        }
        payloads.take(charge);
        memoryByOwner.merge(job.workspaceId(), kib, Long::sum);
        inFlightByOwner.merge(job.workspaceId(), 1, Integer::sum);
        return Take.TAKEN;
    }

    /** What {@link #admit} did: the job's own KiB and its run's payload (the bytes it sends) when TAKEN. */
    record Admission(Take take, long jobKib, SharedPayloads.Charge charge) {
        static final Admission WITHOUT_PAYLOAD = new Admission(Take.NO_PAYLOAD, 0, null);
    }

    /**
     * Admits a claimed job, never waiting: its run's payload is charged once per run (with its parsed size when its
     * step's expressions read it) and the job's own cost by {@link JobCost} (with the response it keeps when a step
     * needs it), unless its owner would pass its share or the budget is full.
     */
    Admission admit(ClaimedJob claimed) {
        boolean readsPayload = compiled.readsPayload(claimed);
        long keptBytes = compiled.keepsResponse(claimed) ? this.keptBytes : 0;
        byte[] given = claimed.payload() == null ? null : claimed.payload().getBytes(StandardCharsets.UTF_8);
        SharedPayloads.Charge charge = payloads.charge(claimed.runId(), claimed.workspaceId(), given, readsPayload);
        if (charge == null) {
            return Admission.WITHOUT_PAYLOAD;
        }
        long jobKib = (JobCost.reservedBytes(claimed, keptBytes) + 1023) / 1024;
        return new Admission(take(claimed, charge, jobKib), jobKib, charge);
    }

    /** The job's delivery ended (or never started): its KiB, its place among its owner's deliveries, its hold on the payload. */
    void giveBack(ClaimedJob job, long jobKib) {
        inFlightByOwner.computeIfPresent(job.workspaceId(), (owner, n) -> n == 1 ? null : n - 1);
        free(job.workspaceId(), jobKib);
        unpin(job.runId());
    }

    /** A holder of each run's payload lets go (see {@link #unpin(long)}). */
    void unpin(long[] runIds) {
        for (long runId : runIds) {
            unpin(runId);
        }
    }

    /** A holder of the run's payload lets go; the last gives the payload's KiB back. */
    void unpin(long runId) {
        SharedPayloads.Freed freed = payloads.release(runId);
        if (freed != null) {
            free(freed.workspaceId(), freed.kib());
        }
    }

    /** Bytes held by deliveries in flight. */
    long heldBytes() {
        return (budgetKib - memory.availablePermits()) * 1024;
    }

    /** Owners with something in flight (bounded by the deliveries in flight). */
    int owners() {
        return Math.max(inFlightByOwner.size(), memoryByOwner.size());
    }

    private void free(long workspaceId, long kib) {
        memoryByOwner.computeIfPresent(workspaceId, (owner, held) -> held - kib <= 0 ? null : held - kib);
        memory.release((int) kib);
    }
}
