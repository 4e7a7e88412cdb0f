package dev.kikonect.steps;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The sandbox's queue: one first-come-first-served line per owner (a workspace), served in turn, so that one
 * workspace's flood of expressions waits behind itself, not in front of everyone else. At most {@code capacity}
 * tasks wait in all, and at most half of them from one owner. Owners are keys only while they have tasks waiting
 * (the map is bounded by the capacity).
 */
final class FairTasks {

    private final int capacity;
    private final int perOwner;
    private final Map<Long, ArrayDeque<Runnable>> byOwner = new HashMap<>();
    private final ArrayDeque<Long> turns = new ArrayDeque<>();
    private int size;
    private boolean closed;

    FairTasks(int capacity) {
        this.capacity = Math.max(1, capacity);
        this.perOwner = Math.max(1, this.capacity / 2);
    }

    /** Queues {@code task} for {@code owner}; false when the queue, or the owner's half of it, is full. */
    synchronized boolean offer(long owner, Runnable task) {
        if (closed || size >= capacity) {
            return false;
        }
        ArrayDeque<Runnable> line = byOwner.get(owner);
        if (line == null) {
            line = new ArrayDeque<>();
            byOwner.put(owner, line);
            turns.addLast(owner);
        } else if (line.size() >= perOwner) {
            return false;
        }
        line.addLast(task);
        size++;
        notify();
        return true;
    }

    /** The next task, the owners taking turns; waits up to {@code timeout}; null when none came or the queue closed. */
    synchronized Runnable take(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (size == 0) {
            long left = deadline - System.nanoTime();
            if (closed || left <= 0) {
                return null;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        Long owner = turns.pollFirst();
        ArrayDeque<Runnable> line = byOwner.get(owner);
        Runnable task = line.pollFirst();
        size--;
        if (line.isEmpty()) {
            byOwner.remove(owner);
        } else {
            turns.addLast(owner); // its next task after everyone else's next
        }
        return task;
    }

    /** Takes back a task that has not started (its caller gave up): its place is free at once. */
    synchronized void remove(long owner, Runnable task) {
        ArrayDeque<Runnable> line = byOwner.get(owner);
        if (line != null && line.remove(task)) {
            size--;
            if (line.isEmpty()) {
                byOwner.remove(owner);
                turns.remove(owner);
            }
        }
    }

    synchronized int size() {
        return size;
    }

    synchronized void close() {
        closed = true;
        notifyAll();
    }
}
