package dev.kikonect.common;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/**
 * The application's clock: the system clock in whole microseconds (PostgreSQL's precision), shifted onto the
 * database's clock when the two disagree by more than {@link #TOLERANCE}. Due times, leases and retries are all
 * compared in the database against instants from this clock, so every node must agree on "now" with the others:
 * with the database's {@code now()} as the common reference (measured by db/DatabaseWatch every half second), a node
 * whose own clock jumps an hour cannot requeue other nodes' leased jobs or stall schedules; within the tolerance
 * the system clock is used as it is, so the measuring noise never makes time step back and forth.
 *
 * <p>A measurement is only as good as its round trip: a probe that took longer than {@link #MAX_ROUND_TRIP} (a
 * database that paused, a GC pause here) cannot tell a skew smaller than half its round trip, and is ignored (after a
 * 21 s database pause, one such probe once moved a node's clock 10.7 s ahead: schedules fired early, leases expired
 * early). And the shift changes by more than {@link #TOLERANCE} only when a second probe in a row confirms it (within
 * the tolerance): one odd measurement never moves the clock far, a real jump of the system clock is followed half a
 * second later.
 */
public final class AlignedClock extends Clock {

    public static final Duration TOLERANCE = Duration.ofSeconds(1);

    /** The longest round trip of a probe that is believed (its uncertainty is half of it). */
    public static final Duration MAX_ROUND_TRIP = Duration.ofMillis(500);

    private final Clock system;
    private volatile Duration offset = Duration.ZERO;
    private volatile Duration skew = Duration.ZERO;
    /** A shift more than the tolerance away from the current one, measured once, waiting for a second probe. */
    private Duration proposed;

    public AlignedClock(Clock system) {
        this.system = system;
    }

    public AlignedClock() {
        this(Clock.systemUTC());
    }

    /** As {@link #measured(Duration, Duration)} by a probe of no round trip. */
    public void measured(Duration databaseMinusSystem) {
        measured(databaseMinusSystem, Duration.ZERO);
    }

    /**
     * The database's clock minus this node's system clock, as just measured by a probe that took {@code roundTrip};
     * applied when beyond the tolerance (a change of more than the tolerance once a second probe confirms it); a probe
     * slower than {@link #MAX_ROUND_TRIP} is ignored. Returns whether the probe was believed.
     */
    public synchronized boolean measured(Duration databaseMinusSystem, Duration roundTrip) {
        if (roundTrip.compareTo(MAX_ROUND_TRIP) > 0) {
            return false;
        }
        skew = databaseMinusSystem;
        Duration target = databaseMinusSystem.abs().compareTo(TOLERANCE) > 0 ? databaseMinusSystem : Duration.ZERO;
        if (target.minus(offset).abs().compareTo(TOLERANCE) <= 0) {
            offset = target;
            proposed = null;
        } else if (proposed != null && target.minus(proposed).abs().compareTo(TOLERANCE) <= 0) {
            offset = target; // confirmed by a second probe in a row
            proposed = null;
        } else {
            proposed = target;
        }
        return true;
    }

    /** The last measured skew (database minus system clock). */
    public Duration skew() {
        return skew;
    }

    /** The shift applied now: zero within the tolerance. */
    public Duration offset() {
        return offset;
    }

    /** This node's system clock, unshifted (what to measure the skew against). */
    public Instant systemInstant() {
        return system.instant();
    }

    @Override
    public Instant instant() {
        return system.instant().plus(offset).truncatedTo(ChronoUnit.MICROS);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("KiKonect's clock is UTC");
    }
}
