package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RetryAfterTest {

    private static final Instant NOW = Instant.parse("2026-11-26T10:00:00Z");
    private static final Duration CAP = Duration.ofHours(6);

    @Test
    void seconds_are_taken_as_given() {
        assertThat(Delivery.parseRetryAfter("120", NOW, CAP)).isEqualTo(Duration.ofSeconds(120));
    }

    @Test
    void an_http_date_is_the_wait_until_that_moment() {
        assertThat(Delivery.parseRetryAfter("Thu, 26 Nov 2026 10:05:00 GMT", NOW, CAP))
                .isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void a_date_in_the_past_means_now_and_a_huge_wait_is_capped() {
        assertThat(Delivery.parseRetryAfter("Wed, 25 Nov 2026 10:00:00 GMT", NOW, CAP))
                .isEqualTo(Duration.ZERO);
        assertThat(Delivery.parseRetryAfter("999999", NOW, CAP)).isEqualTo(CAP);
    }

    @Test
    void an_unreadable_value_is_ignored() {
        assertThat(Delivery.parseRetryAfter("soon", NOW, CAP)).isNull();
        assertThat(Delivery.parseRetryAfter("-5", NOW, CAP)).isNull();
    }
}
