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
 */
public final class AlignedClock extends Clock {

    public static final Duration TOLERANCE = Duration.ofSeconds(1);

    private final Clock system;
    private volatile Duration offset = Duration.ZERO;
    private volatile Duration skew = Duration.ZERO;

    public AlignedClock(Clock system) {
        this.system = system;
    }

    public AlignedClock() {
        this(Clock.systemUTC());
    }

    /** The database's clock minus this node's system clock, as just measured; applied when beyond the tolerance. */
    public void measured(Duration databaseMinusSystem) {
        skew = databaseMinusSystem;
        offset = databaseMinusSystem.abs().compareTo(TOLERANCE) > 0 ? databaseMinusSystem : Duration.ZERO;
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
