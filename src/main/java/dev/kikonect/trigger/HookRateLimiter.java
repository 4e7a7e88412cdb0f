package dev.kikonect.trigger;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;
import java.util.Optional;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * A token bucket (Bucket4j) per hook token, per node: {@code kikonect.hooks.rate-limit} requests per second with
 * bursts of {@code kikonect.hooks.burst}. A rate of 0 turns it off (benchmarks do).
 *
 * <p>The buckets live in a Caffeine cache bounded in bytes, not entries (a token is whatever the caller put in the
 * URL, up to the request line's limit), and a bucket idle for a minute is forgotten: it would be full again by then.
 */
@Component
class HookRateLimiter {

    /** What the buckets may hold at most, counted as the tokens' characters plus a bucket's own size. */
    static final long MAX_BYTES = 16L * 1024 * 1024;

    private static final int BUCKET_BYTES = 200;

    private final long perSecond;
    private final long burst;
    private final Cache<String, Bucket> buckets;

    HookRateLimiter(
            @Value("${kikonect.hooks.rate-limit:50}") double rate, @Value("${kikonect.hooks.burst:100}") double burst) {
        this.perSecond = (long) Math.ceil(rate);
        this.burst = Math.max(1, (long) burst);
        this.buckets = Caffeine.newBuilder()
                .maximumWeight(MAX_BYTES)
                .weigher((String token, Bucket bucket) -> BUCKET_BYTES + 2 * token.length())
                .expireAfterAccess(Duration.ofMinutes(1))
                .build();
    }

    /** Empty when the request may pass; otherwise how long until it would. */
    Optional<Duration> acquire(String token) {
        if (perSecond <= 0) {
            return Optional.empty();
        }
        ConsumptionProbe probe = buckets.get(token, t -> newBucket()).tryConsumeAndReturnRemaining(1);
        return probe.isConsumed() ? Optional.empty() : Optional.of(Duration.ofNanos(probe.getNanosToWaitForRefill()));
    }

    private Bucket newBucket() {
        return Bucket.builder()
                .addLimit(Bandwidth.builder()
                        .capacity(burst)
                        .refillGreedy(perSecond, Duration.ofSeconds(1))
                        .build())
                .build();
    }

    /** How many buckets are held now (for tests). */
    long size() {
        buckets.cleanUp();
        return buckets.estimatedSize();
    }
}
