package dev.kikonect.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.kikonect.KiKonectProperties;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * Slows password guessing: after {@code max-failures-per-account} failed logins for one email (known or not, so
 * that a 429 reveals nothing) or {@code max-failures-per-address} from one client address within 15 minutes, further
 * attempts get 429 until the lockout has passed; a successful login clears the email's count. Counts are kept in
 * memory per node (a restart forgets them) in a Caffeine cache of at most 100,000 keys, each forgotten once its
 * window and lockout are over.
 */
@Component
class LoginThrottle {

  static final Duration WINDOW = Duration.ofMinutes(15);
  static final int MAX_KEYS = 100_000;

  private record Failures(int count, Instant first, Instant lockedUntil) {}

  private final Clock clock;
  private final KiKonectProperties.Auth settings;
  private final Cache<String, Failures> failures;

  LoginThrottle(Clock clock, KiKonectProperties properties) {
    this.clock = clock;
    this.settings = properties.auth();
    this.failures =
        Caffeine.newBuilder()
            .maximumSize(MAX_KEYS)
            .expireAfterWrite(WINDOW.plus(settings.lockout()))
            .ticker(() -> clock.instant().toEpochMilli() * 1_000_000L)
            .build();
  }

  /** How long the caller must wait, if the email or the address is locked now. */
  Optional<Duration> lockedFor(String email, String address) {
    Instant now = clock.instant();
    Duration wait = Duration.ZERO;
    for (String key : new String[] {emailKey(email), "addr:" + address}) {
      Failures f = failures.getIfPresent(key);
      if (f != null && f.lockedUntil() != null && f.lockedUntil().isAfter(now)) {
        Duration left = Duration.between(now, f.lockedUntil());
        wait = left.compareTo(wait) > 0 ? left : wait;
      }
    }
    return wait.isZero() ? Optional.empty() : Optional.of(wait);
  }

  void failed(String email, String address) {
    record(emailKey(email), settings.maxFailuresPerAccount());
    record("addr:" + address, settings.maxFailuresPerAddress());
  }

  void succeeded(String email) {
    failures.invalidate(emailKey(email));
  }

  private static String emailKey(String email) {
    return "email:" + email.toLowerCase(java.util.Locale.ROOT);
  }

  private void record(String key, int max) {
    Instant now = clock.instant();
    failures.asMap().compute(key, (k, f) -> {
      if (f == null || Duration.between(f.first(), now).compareTo(WINDOW) > 0) {
        f = new Failures(0, now, null);
      }
      int count = f.count() + 1;
      boolean lock = count >= max;
      return new Failures(lock ? 0 : count, lock ? now : f.first(), lock ? now.plus(settings.lockout()) : f.lockedUntil());
    });
  }
}
