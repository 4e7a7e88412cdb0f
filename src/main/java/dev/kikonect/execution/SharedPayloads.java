package dev.kikonect.execution;

import dev.kikonect.steps.ExpressionException;
import dev.kikonect.steps.ParsedSize;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The payloads of the runs that have jobs in flight on this node, one per run, shared by its jobs: a run of 20 steps
 * reads its payload from the database once, holds its bytes once and, when steps' expressions read it, parses it once.
 * Each entry is charged to the memory budget once (its bytes, plus its estimated parsed size once a job that reads it
 * is dispatched) and lives while a job of its run is in flight or a claim pins it, so the map is bounded by the
 * delivery slots. Only the claim thread creates entries and adds charges; deliveries only let go of them.
 */
final class SharedPayloads {

    private static final class Entry {
        final byte[] bytes;
        final long workspaceId;
        long kib;
        boolean parsedCharged;
        int holders;
        boolean parsed;
        Object tree;
        RuntimeException failure;

        Entry(byte[] bytes, long workspaceId) {
            this.bytes = bytes;
            this.workspaceId = workspaceId;
        }
    }

    /** What a job about to be dispatched would add: its run's bytes, the KiB to charge, whether it creates the entry. */
    record Charge(long runId, long workspaceId, byte[] bytes, long kib, boolean creates, boolean parsed) {}

    /** A KiB amount given back, and whose. */
    record Freed(long workspaceId, long kib) {}

    private final Map<Long, Entry> byRun = new ConcurrentHashMap<>();

    /** Pins every entry for a claim (none goes away until {@link #unpin}); returns their runs. Claim thread only. */
    long[] pin() {
        return byRun.entrySet().stream()
                .filter(e -> {
                    synchronized (e.getValue()) {
                        if (e.getValue().holders == 0) {
                            return false; // being removed
                        }
                        e.getValue().holders++;
                        return true;
                    }
                })
                .mapToLong(Map.Entry::getKey)
                .toArray();
    }

    /**
     * What dispatching a job of {@code runId} costs: {@code given} is its payload when the claim returned it (the run's
     * first job there and not held), else null (the run is held). Null when the run has no payload here (its job that
     * brought it was not dispatched). Claim thread only; nothing changes until {@link #take}.
     */
    Charge charge(long runId, long workspaceId, byte[] given, boolean readsPayload) {
        Entry e = byRun.get(runId);
        // A payload given back means the claim did not count the run as held: an entry still there is on its way out.
        if (e == null || given != null) {
            if (given == null) {
                return null; // the run's job that brought its payload was not dispatched
            }
            long kib = (given.length + 1023) / 1024 + (readsPayload ? (ParsedSize.estimate(given) + 1023) / 1024 : 0);
            return new Charge(runId, workspaceId, given, kib, true, readsPayload);
        }
        boolean parsedNow = readsPayload && !e.parsedCharged;
        return new Charge(
                runId,
                workspaceId,
                e.bytes,
                parsedNow ? (ParsedSize.estimate(e.bytes) + 1023) / 1024 : 0,
                false,
                parsedNow);
    }

    /**
     * The job holds its run's payload: the charge was paid. A new entry is also pinned for the rest of the claim (the
     * run's next jobs in the batch come without the payload). Claim thread only.
     */
    void take(Charge c) {
        if (c.creates()) {
            Entry e = new Entry(c.bytes(), c.workspaceId());
            e.kib = c.kib();
            e.parsedCharged = c.parsed();
            e.holders = 2; // the job and the claim's pin
            byRun.put(c.runId(), e);
            return;
        }
        Entry e = byRun.get(c.runId());
        synchronized (e) {
            e.holders++;
            e.kib += c.kib();
            e.parsedCharged |= c.parsed();
        }
    }

    /** Runs created by {@link #take} in this claim, to unpin with the others. */
    long[] created(List<Charge> taken) {
        return taken.stream().filter(Charge::creates).mapToLong(Charge::runId).toArray();
    }

    /** A holder of {@code runId} leaves; returns what to give back (the entry's KiB, when it was the last), or null. */
    Freed release(long runId) {
        Entry e = byRun.get(runId);
        if (e == null) {
            return null;
        }
        synchronized (e) {
            if (--e.holders > 0) {
                return null;
            }
            byRun.remove(runId, e);
            return new Freed(e.workspaceId, e.kib);
        }
    }

    /** The run's parsed payload, parsed by the first job that asks (the others wait for it, then share it). */
    Object tree(long runId, Function<byte[], Object> parse) {
        Entry entry = byRun.get(runId);
        if (entry == null) {
            throw new IllegalStateException("run " + runId + " has no payload here");
        }
        synchronized (entry) {
            if (!entry.parsed) {
                try {
                    entry.tree = parse.apply(entry.bytes);
                } catch (ExpressionException e) {
                    if (e.busy()) {
                        throw e; // nothing was tried: the next job of the run may parse it
                    }
                    entry.failure = e;
                } catch (RuntimeException e) {
                    entry.failure = e;
                }
                entry.parsed = true;
            }
            if (entry.failure != null) {
                throw entry.failure;
            }
            return entry.tree;
        }
    }

    /** Runs held now. */
    int size() {
        return byRun.size();
    }
}
