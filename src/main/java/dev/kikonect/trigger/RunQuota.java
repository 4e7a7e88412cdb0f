package dev.kikonect.trigger;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.DomainException;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import java.time.Duration;
import org.springframework.stereotype.Component;

/**
 * Runs one workspace (the owner of workflows) may start per minute on this node, by webhook, manual trigger or replay ({@code
 * kikonect.quotas.runs-per-minute}, default 60,000, a token bucket that holds a minute's worth; 0 turns it off).
 * Past it: 429 {@code quota-exceeded} naming the quota. Scheduled runs are bounded by the workflow quota and the
 * shortest cron interval instead. At most 100,000 buckets (Caffeine), each forgotten after an idle hour.
 */
@Component
class RunQuota {

    private final Cache<Long, Bucket> buckets = Caffeine.newBuilder()
            .maximumSize(100_000)
            .expireAfterAccess(Duration.ofHours(1))
            .build();
    private final long perMinute;

    RunQuota(KiKonectProperties properties) {
        this.perMinute = properties.quotas().runsPerMinute();
    }

    /** Takes {@code runs} from the owner's allowance, or throws. */
    void take(long userId, long runs) {
        if (perMinute <= 0 || runs <= 0) {
            return;
        }
        Bucket bucket = buckets.get(
                userId,
                id -> Bucket.builder()
                        .addLimit(Bandwidth.builder()
                                .capacity(perMinute)
                                .refillGreedy(perMinute, Duration.ofMinutes(1))
                                .build())
                        .build());
        if (!bucket.tryConsume(runs)) {
            throw new DomainException.QuotaExceeded(
                    "kikonect.quotas.runs-per-minute",
                    "This account starts at most " + perMinute + " runs a minute; retry shortly");
        }
    }
}
