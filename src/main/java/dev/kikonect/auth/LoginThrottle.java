package dev.kikonect.auth;

import dev.kikonect.KiKonectProperties;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * Slows password guessing: after {@code max-failures-per-account} failed logins for one email (known or not, so
 * that a 429 reveals nothing) or {@code max-failures-per-address} from one client address within 15 minutes, further
 * attempts get 429 until the lockout has passed; a successful login clears the email's count. Counts are kept in
 * memory per node (a restart forgets them), bounded to the most recent 100,000 keys.
 */
@Component
class LoginThrottle {

  private static final Duration WINDOW = Duration.ofMinutes(15);
  private static final int MAX_KEYS = 100_000;

  private record Failures(int count, Instant first, Instant lockedUntil) {}

  private final Clock clock;
  private final KiKonectProperties.Auth settings;
  private final Map<String, Failures> failures =
      new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Failures> eldest) {
          return size() > MAX_KEYS;
        }
      };

  LoginThrottle(Clock clock, KiKonectProperties properties) {
    this.clock = clock;
    this.settings = properties.auth();
  }

  /** How long the caller must wait, if the email or the address is locked now. */
  synchronized Optional<Duration> lockedFor(String email, String address) {
    Instant now = clock.instant();
    Duration wait = Duration.ZERO;
    for (String key : new String[] {"email:" + email.toLowerCase(), "addr:" + address}) {
      Failures f = failures.get(key);
      if (f != null && f.lockedUntil() != null && f.lockedUntil().isAfter(now)) {
        Duration left = Duration.between(now, f.lockedUntil());
        wait = left.compareTo(wait) > 0 ? left : wait;
      }
    }
    return wait.isZero() ? Optional.empty() : Optional.of(wait);
  }

  synchronized void failed(String email, String address) {
    record("email:" + email.toLowerCase(), settings.maxFailuresPerAccount());
    record("addr:" + address, settings.maxFailuresPerAddress());
  }

  synchronized void succeeded(String email) {
    failures.remove("email:" + email.toLowerCase());
  }

  private void record(String key, int max) {
    Instant now = clock.instant();
    Failures f = failures.get(key);
    if (f == null || Duration.between(f.first(), now).compareTo(WINDOW) > 0) {
      f = new Failures(0, now, null);
    }
    int count = f.count() + 1;
    Instant locked = count >= max ? now.plus(settings.lockout()) : f.lockedUntil();
    failures.put(key, new Failures(count >= max ? 0 : count, count >= max ? now : f.first(), locked));
  }
}
