package dev.kikonect.execution;

import dev.kikonect.KiKonectProperties;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * How long to wait before the next attempt. By default 8 attempts spread over about a day: after the 1st failure
 * 5 s, then 1 min, 5 min, 30 min, 2 h, 6 h, 14 h (22 h 36 min in all), each with +-20% jitter so that a receiver
 * that comes back is not hit by every queued retry at once. A receiver's Retry-After longer than the computed wait
 * replaces it (capped by kikonect.delivery.max-retry-after); a shorter one does not shorten it, so that a receiver
 * answering "503, Retry-After: 1" cannot burn the attempt budget in seconds.
 */
@Component
class RetryPolicy {

    private final List<Duration> delays;

    @Autowired
    RetryPolicy(KiKonectProperties properties) {
        this(properties.delivery().retryDelays());
    }

    /** {@code delays}: the wait after the 1st, 2nd, ... failed attempt; the last repeats. */
    RetryPolicy(List<Duration> delays) {
        this.delays = List.copyOf(delays);
        if (delays.isEmpty()) {
            throw new IllegalArgumentException("kikonect.delivery.retry-delays must name at least one delay");
        }
    }

    /** The wait after failed attempt number {@code attempt} (1-based). */
    Duration delayAfter(int attempt, Duration retryAfter) {
        Duration base = delays.get(Math.min(attempt, delays.size()) - 1);
        double jitter = 0.8 + ThreadLocalRandom.current().nextDouble() * 0.4;
        Duration computed = Duration.ofMillis(Math.round(base.toMillis() * jitter));
        return retryAfter != null && retryAfter.compareTo(computed) > 0 ? retryAfter : computed;
    }
}
