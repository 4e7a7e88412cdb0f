package dev.kikonect.trigger;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * A token bucket per hook token (per node): {@code kikonect.hooks.rate-limit} requests per second with bursts of
 * {@code kikonect.hooks.burst}. A rate of 0 turns it off (benchmarks do).
 */
@Component
class HookRateLimiter {

  private final double rate;
  private final double burst;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

  HookRateLimiter(@Value("${kikonect.hooks.rate-limit:50}") double rate, @Value("${kikonect.hooks.burst:100}") double burst) {
    this.rate = rate;
    this.burst = Math.max(1, burst);
  }

  /** Empty when the request may pass; otherwise how long until it would. */
  Optional<Duration> acquire(String token) {
    if (rate <= 0) {
      return Optional.empty();
    }
    long now = System.nanoTime();
    if (buckets.size() > 100_000) {
      buckets.entrySet().removeIf(e -> e.getValue().idleSince(now) > 60_000_000_000L);
    }
    return buckets.computeIfAbsent(token, t -> new Bucket(burst, now)).take(now, rate, burst);
  }

  private static final class Bucket {
    private double tokens;
    private long last;

    Bucket(double tokens, long now) {
      this.tokens = tokens;
      this.last = now;
    }

    synchronized Optional<Duration> take(long now, double rate, double burst) {
      tokens = Math.min(burst, tokens + (now - last) / 1e9 * rate);
      last = now;
      if (tokens >= 1) {
        tokens -= 1;
        return Optional.empty();
      }
      return Optional.of(Duration.ofMillis((long) Math.ceil((1 - tokens) / rate * 1000)));
    }

    synchronized long idleSince(long now) {
      return now - last;
    }
  }
}
