package dev.kikonect.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.support.TestClock;
import dev.kikonect.support.TestProperties;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LoginThrottleTest {

    private final TestClock clock = new TestClock();
    private final LoginThrottle throttle = new LoginThrottle(
            clock,
            TestProperties.of(Map.of(
                    "auth.max-failures-per-account", "3", "auth.max-failures-per-address", "5", "auth.lockout", "1m")));

    @Test
    void the_third_failure_from_one_address_makes_that_address_wait_for_that_email_and_others_are_not_locked_out() {
        throttle.failed("ann@example.com", "10.0.0.1");
        throttle.failed("ann@example.com", "10.0.0.1");
        assertThat(throttle.lockedFor("ann@example.com", "10.0.0.1")).isEmpty();

        throttle.failed("ann@example.com", "10.0.0.1");

        assertThat(throttle.lockedFor("ann@example.com", "10.0.0.1"))
                .hasValueSatisfying(w -> assertThat(w).isPositive().isLessThanOrEqualTo(Duration.ofMinutes(1)));
        assertThat(throttle.lockedFor("ann@example.com", "10.0.0.9"))
                .as("Ann herself, elsewhere")
                .isEmpty();
        clock.advance(Duration.ofSeconds(61));
        assertThat(throttle.lockedFor("ann@example.com", "10.0.0.1")).isEmpty();
    }

    @Test
    void each_further_failure_waits_twice_as_long_up_to_an_hour() {
        for (int i = 0; i < 3; i++) {
            throttle.failed("eve@example.com", "10.0.5.1");
        }
        Duration previous = throttle.lockedFor("eve@example.com", "10.0.5.1").orElseThrow();
        for (int i = 0; i < 8; i++) {
            clock.advance(previous.plusSeconds(1));
            throttle.failed("eve@example.com", "10.0.5.1");
            Duration wait = throttle.lockedFor("eve@example.com", "10.0.5.1").orElseThrow();
            assertThat(wait)
                    .isGreaterThanOrEqualTo(
                            previous.multipliedBy(2).minusSeconds(1).compareTo(LoginThrottle.LONGEST) > 0
                                    ? LoginThrottle.LONGEST.minusSeconds(1)
                                    : previous.multipliedBy(2).minusSeconds(1));
            assertThat(wait).isLessThanOrEqualTo(LoginThrottle.LONGEST);
            previous = wait;
        }
        assertThat(previous).isBetween(LoginThrottle.LONGEST.minusSeconds(1), LoginThrottle.LONGEST);
    }

    @Test
    void emails_are_counted_without_regard_to_case() {
        throttle.failed("Bob@Example.com", "10.0.1.1");
        throttle.failed("bob@example.com", "10.0.1.1");
        throttle.failed("BOB@EXAMPLE.COM", "10.0.1.1");

        assertThat(throttle.lockedFor("bob@example.com", "10.0.1.1")).isPresent();
    }

    @Test
    void a_successful_login_clears_the_count_of_its_email_and_address() {
        throttle.failed("cy@example.com", "10.0.2.1");
        throttle.failed("cy@example.com", "10.0.2.1");
        throttle.succeeded("cy@example.com", "10.0.2.1");
        throttle.failed("cy@example.com", "10.0.2.1");

        assertThat(throttle.lockedFor("cy@example.com", "10.0.2.1")).isEmpty();
    }

    @Test
    void failures_from_one_address_make_that_address_wait_for_every_email() {
        for (int i = 0; i < 5; i++) {
            throttle.failed("user" + i + "@example.com", "10.0.3.1");
        }

        assertThat(throttle.lockedFor("someone-else@example.com", "10.0.3.1")).isPresent();
        assertThat(throttle.lockedFor("someone-else@example.com", "10.0.3.2")).isEmpty();
    }

    @Test
    void failures_older_than_the_window_no_longer_count() {
        throttle.failed("dee@example.com", "10.0.4.1");
        throttle.failed("dee@example.com", "10.0.4.1");
        clock.advance(LoginThrottle.WINDOW.plusSeconds(1));
        throttle.failed("dee@example.com", "10.0.4.1");

        assertThat(throttle.lockedFor("dee@example.com", "10.0.4.1")).isEmpty();
    }
}
