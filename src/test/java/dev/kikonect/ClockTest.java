package dev.kikonect;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import org.junit.jupiter.api.Test;

class ClockTest {

    @Test
    void the_application_clock_ticks_in_the_databases_microseconds() {
        Clock clock = new KiKonectApplication().clock();
        for (int i = 0; i < 10_000; i++) {
            assertThat(clock.instant().getNano() % 1_000).isZero();
        }
    }
}
