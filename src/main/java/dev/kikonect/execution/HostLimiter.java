package dev.kikonect.execution;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * At most {@code max} deliveries in flight to one target host on this node ({@code
 * kikonect.executor.per-host-concurrency}): protects receivers from a flood of connections, and keeps one slow host
 * from taking every slot. A delivery waits for its turn (on its own virtual thread, its lease renewed meanwhile) up
 * to a deadline; the map holds a host only while it has deliveries in flight or waiting.
 */
final class HostLimiter {

    private final int max;
    private final Map<String, Integer> inFlight = new HashMap<>();

    HostLimiter(int max) {
        this.max = max;
    }

    /** Takes a turn for {@code host}, waiting up to {@code patience}; false when none came in time. */
    synchronized boolean acquire(String host, Duration patience) throws InterruptedException {
        long deadline = System.nanoTime() + patience.toNanos();
        while (inFlight.getOrDefault(host, 0) >= max) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        inFlight.merge(host, 1, Integer::sum);
        return true;
    }

    synchronized void release(String host) {
        inFlight.computeIfPresent(host, (h, n) -> n == 1 ? null : n - 1);
        notifyAll();
    }

    synchronized int inFlight(String host) {
        return inFlight.getOrDefault(host, 0);
    }

    synchronized int hosts() {
        return inFlight.size();
    }
}
