package dev.kikonect.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.kikonect.common.DomainException;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Token buckets (Bucket4j) for the account operations an attacker would repeat: registrations per client address
 * ({@code kikonect.auth.registrations-per-hour}, default 20) and password changes per user ({@code
 * kikonect.auth.password-changes-per-hour}, default 10: a stolen session cannot guess the current password at
 * speed). Past either, 429 with Retry-After. At most 100,000 buckets (Caffeine), each forgotten after an idle hour.
 */
@Component
class AccountThrottle {

    private final Cache<String, Bucket> buckets = Caffeine.newBuilder()
            .maximumSize(100_000)
            .expireAfterAccess(Duration.ofHours(1))
            .build();
    private final int registrationsPerHour;
    private final int passwordChangesPerHour;

    AccountThrottle(
            @Value("${kikonect.auth.registrations-per-hour:20}") int registrationsPerHour,
            @Value("${kikonect.auth.password-changes-per-hour:10}") int passwordChangesPerHour) {
        this.registrationsPerHour = registrationsPerHour;
        this.passwordChangesPerHour = passwordChangesPerHour;
    }

    void register(String address) {
        take("register:" + address, registrationsPerHour, "registrations from this address");
    }

    void changePassword(long userId) {
        take("password:" + userId, passwordChangesPerHour, "password changes for this account");
    }

    private void take(String key, int perHour, String what) {
        if (perHour <= 0) {
            return;
        }
        Bucket bucket = buckets.get(
                key,
                k -> Bucket.builder()
                        .addLimit(Bandwidth.builder()
                                .capacity(perHour)
                                .refillGreedy(perHour, Duration.ofHours(1))
                                .build())
                        .build());
        ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
        if (!probe.isConsumed()) {
            long seconds = Math.max(1, (probe.getNanosToWaitForRefill() + 999_999_999L) / 1_000_000_000L);
            throw new DomainException.RateLimited(
                    "account-throttled",
                    "Too many requests",
                    "Too many " + what + " (at most " + perHour + " an hour); retry in " + seconds + " s.",
                    Duration.ofSeconds(seconds));
        }
    }
}
