package dev.kikonect.lifecycle;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.springframework.stereotype.Component;

/**
 * Wakes this node's executor as soon as work is enqueued here, so that a webhook is delivered within milliseconds
 * instead of on the next poll. Work enqueued by other nodes is found by the executor's short poll.
 */
@Component
public class WorkSignal {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean pending;

    /** Tells the executor there may be work. Cheap enough to call after every enqueue. */
    public void wake() {
        lock.lock();
        try {
            pending = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until {@link #wake()} was called (since the last await) or {@code max} passed. */
    public void await(Duration max) throws InterruptedException {
        lock.lock();
        try {
            long nanos = max.toNanos();
            while (!pending && nanos > 0) {
                nanos = changed.awaitNanos(nanos);
            }
            pending = false;
        } finally {
            lock.unlock();
        }
    }
}
