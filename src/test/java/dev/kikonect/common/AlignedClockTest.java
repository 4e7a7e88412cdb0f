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

        assertThat(clock.instant()).isEqualTo(Instant.parse("2026-11-26T09:00:00.123456Z"));
        assertThat(clock.skew()).isEqualTo(Duration.ofHours(-1));
    }

    @Test
    void within_the_tolerance_the_system_clock_is_used_as_it_is_in_whole_microseconds() {
        clock.measured(Duration.ofMillis(300));

        assertThat(clock.instant()).isEqualTo(Instant.parse("2026-11-26T10:00:00.123456Z"));
        assertThat(clock.offset()).isZero();
        assertThat(clock.skew()).isEqualTo(Duration.ofMillis(300));
    }
}
