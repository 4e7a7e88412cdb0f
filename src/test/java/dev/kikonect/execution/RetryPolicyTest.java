package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kikonect.support.TestProperties;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

    private final RetryPolicy policy = new RetryPolicy(TestProperties.of(Map.of("delivery.retry-delays", "10s,1m,5m")));

    @Test
    void each_attempt_waits_its_delay_with_at_most_20_percent_jitter_either_way() {
        long[] base = {10_000, 60_000, 300_000};
        for (int attempt = 1; attempt <= 3; attempt++) {
            Set<Long> seen = new HashSet<>();
            for (int i = 0; i < 1_000; i++) {
                long ms = policy.delayAfter(attempt, null).toMillis();
                assertThat(ms).isBetween(Math.round(base[attempt - 1] * 0.8), Math.round(base[attempt - 1] * 1.2));
                seen.add(ms);
            }
            assertThat(seen).as("jitter spreads the retries").hasSizeGreaterThan(100);
        }
    }

    @Test
    void attempts_past_the_list_repeat_its_last_delay() {
        assertThat(policy.delayAfter(7, null)).isBetween(Duration.ofMinutes(4), Duration.ofMinutes(6));
    }

    @Test
    void a_retry_after_longer_than_the_computed_wait_replaces_it() {
        assertThat(policy.delayAfter(1, Duration.ofSeconds(42))).isEqualTo(Duration.ofSeconds(42));
    }

    @Test
    void a_retry_after_shorter_than_the_computed_wait_does_not_burn_the_attempts_faster() {
        assertThat(policy.delayAfter(3, Duration.ofSeconds(1))).isBetween(Duration.ofMinutes(4), Duration.ofMinutes(6));
    }

    @Test
    void the_defaults_spread_eight_attempts_over_about_a_day() {
        RetryPolicy defaults = new RetryPolicy(TestProperties.of(Map.of()));
        long totalMs = 0;
        for (int attempt = 1; attempt <= 7; attempt++) {
            totalMs += defaults.delayAfter(attempt, null).toMillis();
        }
        assertThat(Duration.ofMillis(totalMs)).isBetween(Duration.ofHours(18), Duration.ofHours(28));
    }

    @Test
    void an_empty_delay_list_is_refused_at_start() {
        assertThatThrownBy(() -> new RetryPolicy(TestProperties.of(Map.of("delivery.retry-delays", ""))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("retry-delays");
    }
}
