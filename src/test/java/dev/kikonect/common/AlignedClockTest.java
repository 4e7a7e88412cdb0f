package dev.kikonect.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class AlignedClockTest {

    private final Instant systemNow = Instant.parse("2026-11-26T10:00:00.123456789Z");
    private final AlignedClock clock = new AlignedClock(Clock.fixed(systemNow, ZoneOffset.UTC));

    @Test
    void a_node_whose_clock_jumped_an_hour_ahead_reads_the_databases_time() {
        clock.measured(Duration.ofHours(-1)); // the database is an hour behind this node's system clock
        assertThat(clock.offset())
                .as("one probe is not enough for a shift that large")
                .isZero();
        clock.measured(Duration.ofHours(-1).plusMillis(40)); // the next probe, half a second later, agrees

        assertThat(clock.instant()).isEqualTo(Instant.parse("2026-11-26T09:00:00.163456Z"));
        assertThat(clock.skew()).isEqualTo(Duration.ofHours(-1).plusMillis(40));
    }

    @Test
    void a_probe_slower_than_half_a_second_moves_nothing() {
        // After a 21 s database pause: the round trip took 21 s, its midpoint is 10.7 s off the database's reading.
        boolean believed = clock.measured(Duration.ofMillis(10_700), Duration.ofSeconds(21));

        assertThat(believed).isFalse();
        assertThat(clock.offset()).isZero();
        assertThat(clock.skew()).isZero();
        assertThat(clock.instant()).isEqualTo(Instant.parse("2026-11-26T10:00:00.123456Z"));
    }

    @Test
    void one_odd_probe_never_moves_the_clock_more_than_the_tolerance_and_small_changes_apply_at_once() {
        clock.measured(Duration.ofSeconds(10), Duration.ofMillis(5));
        assertThat(clock.offset()).as("an outlier").isZero();
        clock.measured(Duration.ofMillis(100), Duration.ofMillis(5));
        clock.measured(Duration.ofSeconds(-8), Duration.ofMillis(5));
        assertThat(clock.offset())
                .as("another outlier, not confirming the first")
                .isZero();

        clock.measured(Duration.ofMillis(1_500), Duration.ofMillis(5));
        assertThat(clock.offset())
                .as("1.5 s from the current shift: not on one probe")
                .isZero();
        clock.measured(Duration.ofMillis(1_600), Duration.ofMillis(5));
        assertThat(clock.offset()).as("confirmed").isEqualTo(Duration.ofMillis(1_600));
        clock.measured(Duration.ofMillis(2_300), Duration.ofMillis(5));
        assertThat(clock.offset())
                .as("within the tolerance of the current shift: at once")
                .isEqualTo(Duration.ofMillis(2_300));
    }

    @Test
    void within_the_tolerance_the_system_clock_is_used_as_it_is_in_whole_microseconds() {
        clock.measured(Duration.ofMillis(300));

        assertThat(clock.instant()).isEqualTo(Instant.parse("2026-11-26T10:00:00.123456Z"));
        assertThat(clock.offset()).isZero();
        assertThat(clock.skew()).isEqualTo(Duration.ofMillis(300));
    }
}
