package dev.kikonect.execution;

import dev.kikonect.lifecycle.ClaimedJob;
import dev.kikonect.lifecycle.Leases;
import dev.kikonect.lifecycle.WorkSignal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The executor's second thread: renews the leases of the jobs in flight every third of the lease (so a long delivery
 * is never taken from a live node) and, every sweep interval, returns the jobs of dead nodes, whose leases ran out,
 * to the queue ({@link Leases#requeueExpired}). It outlives any failure.
 */
final class LeaseKeeper implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);

    private final Leases leases;
    private final Collection<ClaimedJob> inFlight;
    private final WorkSignal signal;
    private final Clock clock;
    private final Duration lease;
    private final Duration sweepInterval;
    private final BooleanSupplier running;

    LeaseKeeper(
            Leases leases,
            Collection<ClaimedJob> inFlight,
            WorkSignal signal,
            Clock clock,
            Duration lease,
            Duration sweepInterval,
            BooleanSupplier running) {
        this.leases = leases;
        this.inFlight = inFlight;
        this.signal = signal;
        this.clock = clock;
        this.lease = lease;
        this.sweepInterval = sweepInterval;
        this.running = running;
    }

    @Override
    public void run() {
        Duration renewEvery = lease.dividedBy(3);
        Duration tick = renewEvery.compareTo(sweepInterval) < 0 ? renewEvery : sweepInterval;
        Instant nextSweep = Instant.EPOCH;
        while (running.getAsBoolean()) {
            try {
                Instant now = clock.instant();
                leases.renew(inFlight, now.plus(lease));
                if (!now.isBefore(nextSweep)) {
                    int requeued;
                    while ((requeued = leases.requeueExpired(now, 500)) > 0) {
                        log.warn("Returned {} jobs with expired leases to the queue", requeued);
                        signal.wake();
                    }
                    nextSweep = now.plus(sweepInterval);
                }
            } catch (Throwable e) { // the lease keeper must outlive any failure
                log.warn("Lease upkeep failed; retrying: {}", e.toString());
            }
            if (!pause(tick)) {
                return;
            }
        }
    }

    /** Sleeps; false when interrupted (the thread is asked to stop). */
    static boolean pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }
}
