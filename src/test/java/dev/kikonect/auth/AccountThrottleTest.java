package dev.kikonect.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kikonect.common.DomainException;
import org.junit.jupiter.api.Test;

class AccountThrottleTest {

    private final AccountThrottle throttle = new AccountThrottle(2, 3);

    @Test
    void one_address_registers_at_most_its_hourly_number_of_accounts_and_another_is_not_affected() {
        throttle.register("10.0.0.1");
        throttle.register("10.0.0.1");

        assertThatThrownBy(() -> throttle.register("10.0.0.1"))
                .isInstanceOfSatisfying(DomainException.RateLimited.class, e -> {
                    assertThat(e.type()).isEqualTo("account-throttled");
                    assertThat(e.retryAfter().toSeconds()).isBetween(1L, 1800L);
                });
        throttle.register("10.0.0.2");
    }

    @Test
    void password_changes_are_counted_per_user() {
        for (int i = 0; i < 3; i++) {
            throttle.changePassword(7);
        }

        assertThatThrownBy(() -> throttle.changePassword(7)).isInstanceOf(DomainException.RateLimited.class);
        throttle.changePassword(8);
    }
}
