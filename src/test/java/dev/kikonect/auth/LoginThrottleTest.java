package dev.kikonect.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.support.TestClock;
import dev.kikonect.support.TestProperties;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LoginThrottleTest {

  private final TestClock clock = new TestClock();
  private final LoginThrottle throttle =
      new LoginThrottle(
          clock,
          TestProperties.of(Map.of("auth.max-failures-per-account", "3", "auth.max-failures-per-address", "5", "auth.lockout", "1m")));

  @Test
  void the_third_failure_locks_the_email_for_the_lockout_and_then_it_opens_again() {
    throttle.failed("ann@example.com", "10.0.0.1");
    throttle.failed("ann@example.com", "10.0.0.2");
    assertThat(throttle.lockedFor("ann@example.com", "10.0.0.3")).isEmpty();

    throttle.failed("ann@example.com", "10.0.0.3");

    assertThat(throttle.lockedFor("ann@example.com", "10.0.0.9"))
        .hasValueSatisfying(w -> assertThat(w).isPositive().isLessThanOrEqualTo(Duration.ofMinutes(1)));
    clock.advance(Duration.ofSeconds(61));
    assertThat(throttle.lockedFor("ann@example.com", "10.0.0.9")).isEmpty();
  }

  @Test
  void emails_are_counted_without_regard_to_case() {
    throttle.failed("Bob@Example.com", "10.0.1.1");
    throttle.failed("bob@example.com", "10.0.1.2");
    throttle.failed("BOB@EXAMPLE.COM", "10.0.1.3");

    assertThat(throttle.lockedFor("bob@example.com", "10.0.1.4")).isPresent();
  }

  @Test
  void a_successful_login_clears_the_emails_count() {
    throttle.failed("cy@example.com", "10.0.2.1");
    throttle.failed("cy@example.com", "10.0.2.1");
    throttle.succeeded("cy@example.com");
    throttle.failed("cy@example.com", "10.0.2.1");

    assertThat(throttle.lockedFor("cy@example.com", "10.0.2.99")).isEmpty();
  }

  @Test
  void failures_from_one_address_lock_that_address_for_every_email() {
    for (int i = 0; i < 5; i++) {
      throttle.failed("user" + i + "@example.com", "10.0.3.1");
    }

    assertThat(throttle.lockedFor("someone-else@example.com", "10.0.3.1")).isPresent();
    assertThat(throttle.lockedFor("someone-else@example.com", "10.0.3.2")).isEmpty();
  }

  @Test
  void failures_older_than_the_window_no_longer_count() {
    throttle.failed("dee@example.com", "10.0.4.1");
    throttle.failed("dee@example.com", "10.0.4.2");
    clock.advance(LoginThrottle.WINDOW.plusSeconds(1));
    throttle.failed("dee@example.com", "10.0.4.3");

    assertThat(throttle.lockedFor("dee@example.com", "10.0.4.4")).isEmpty();
  }
}
