package dev.kikonect.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class HookRateLimiterTest {

    @Test
    void a_burst_passes_then_the_next_request_waits_about_one_refill() {
        HookRateLimiter limiter = new HookRateLimiter(10, 5);
        for (int i = 0; i < 5; i++) {
            assertThat(limiter.acquire("hook"))
                    .as("request %d of the burst", i + 1)
                    .isEmpty();
        }

        Optional<Duration> wait = limiter.acquire("hook");

        assertThat(wait)
                .hasValueSatisfying(w -> assertThat(w).isPositive().isLessThanOrEqualTo(Duration.ofMillis(100)));
    }

    @Test
    void each_token_has_its_own_bucket() {
        HookRateLimiter limiter = new HookRateLimiter(1, 1);
        assertThat(limiter.acquire("a")).isEmpty();
        assertThat(limiter.acquire("a")).isPresent();

        assertThat(limiter.acquire("b")).isEmpty();
    }

    @Test
    void a_rate_of_zero_turns_the_limit_off_and_keeps_no_state() {
        HookRateLimiter limiter = new HookRateLimiter(0, 100);
        for (int i = 0; i < 1_000; i++) {
            assertThat(limiter.acquire("t" + i)).isEmpty();
        }
        assertThat(limiter.size()).isZero();
    }

    @Test
    void a_flood_of_long_unknown_tokens_is_held_within_the_byte_budget() {
        HookRateLimiter limiter = new HookRateLimiter(50, 100);
        String padding = "x".repeat(8_000);
        for (int i = 0; i < 20_000; i++) {
            limiter.acquire(padding + i);
        }

        // each entry weighs at least its token (2 bytes a char) and a bucket; 20,000 of them would be ~320 MB. The
        // cache may stand one entry over its budget for a moment.
        long lightestEntry = 200 + 2L * (padding.length() + 1);
        assertThat(limiter.size() * lightestEntry).isLessThanOrEqualTo(HookRateLimiter.MAX_BYTES + lightestEntry);
        assertThat(limiter.size()).isLessThan(20_000 / 2);
        assertThat(limiter.size()).isPositive();
    }
}
