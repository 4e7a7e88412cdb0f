package dev.kikonect.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.kikonect.KiKonectProperties;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * Slows password guessing without letting anyone lock a victim out. Failures are counted per (email, client
 * address) and per client address: after {@code max-failures-per-account} failures of one email from one address
 * (or {@code max-failures-per-address} from one address, any emails) within 15 minutes, each further failure makes
 * that key wait: {@code lockout}, then twice as long, and so on up to {@link #LONGEST} (429 with Retry-After).
 * Nobody on another address is affected: the victim of a guessing attack still logs in from their own address. A
 * successful login clears its (email, address) count. Emails count without regard to case, known or not, so that
 * a 429 reveals nothing. Counts are kept in memory per node (a restart forgets them) in a Caffeine cache of at most
 * 100,000 keys, each forgotten once its window and wait are over.
 */
@Component
class LoginThrottle {

    static final Duration WINDOW = Duration.ofMinutes(15);
    static final Duration LONGEST = Duration.ofHours(1);
    static final int MAX_KEYS = 100_000;

    /** {@code count} failures since {@code first}; {@code waits} waits imposed in a row; locked until {@code lockedUntil}. */
    private record Failures(int count, Instant first, int waits, Instant lockedUntil) {}

    private final Clock clock;
    private final KiKonectProperties.Auth settings;
    private final Cache<String, Failures> failures;

    LoginThrottle(Clock clock, KiKonectProperties properties) {
        this.clock = clock;
        this.settings = properties.auth();
        this.failures = Caffeine.newBuilder()
                .maximumSize(MAX_KEYS)
                .expireAfterWrite(WINDOW.plus(LONGEST))
                .ticker(() -> clock.instant().toEpochMilli() * 1_000_000L)
                .build();
    }

    /** How long the caller must wait, if its (email, address) or its address is waiting now. */
    Optional<Duration> lockedFor(String email, String address) {
        Instant now = clock.instant();
        Duration wait = Duration.ZERO;
        for (String key : new String[] {pairKey(email, address), addressKey(address)}) {
            Failures f = failures.getIfPresent(key);
            if (f != null && f.lockedUntil() != null && f.lockedUntil().isAfter(now)) {
                Duration left = Duration.between(now, f.lockedUntil());
                wait = left.compareTo(wait) > 0 ? left : wait;
            }
        }
        return wait.isZero() ? Optional.empty() : Optional.of(wait);
    }

    void failed(String email, String address) {
        record(pairKey(email, address), settings.maxFailuresPerAccount());
        record(addressKey(address), settings.maxFailuresPerAddress());
    }

    void succeeded(String email, String address) {
        failures.invalidate(pairKey(email, address));
    }

    private static String pairKey(String email, String address) {
        return "pair:" + email.toLowerCase(Locale.ROOT) + "|" + address;
    }

    private static String addressKey(String address) {
        return "addr:" + address;
    }

    private void record(String key, int free) {
        Instant now = clock.instant();
        failures.asMap().compute(key, (k, f) -> {
            if (f == null
                    || (f.waits() == 0 && Duration.between(f.first(), now).compareTo(WINDOW) > 0)
                    || (f.lockedUntil() != null
                            && Duration.between(f.lockedUntil(), now).compareTo(WINDOW) > 0)) {
                f = new Failures(0, now, 0, null); // quiet for a window: start over
            }
            int count = f.count() + 1;
            if (count < free) {
                return new Failures(count, f.first(), f.waits(), f.lockedUntil());
            }
            // Past the free failures, every failure waits twice as long as the one before.
            Duration wait = settings.lockout().multipliedBy(1L << Math.min(f.waits(), 20));
            if (wait.compareTo(LONGEST) > 0) {
                wait = LONGEST;
            }
            return new Failures(count, f.first(), f.waits() + 1, now.plus(wait));
        });
    }
}
