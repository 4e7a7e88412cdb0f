package dev.kikonect.common;

import java.time.Duration;
import org.springframework.stereotype.Component;

/**
 * Whether the database takes work now, as the last probe found it (db/DatabaseWatch probes every half second; an
 * error or two seconds without an answer is "down"). Readiness reports it, and ingest refuses at once with 503 while it is down instead of
 * letting requests queue behind a database that will not answer.
 */
@Component
public class DatabaseHealth {

  private volatile boolean up = true;
  private volatile String reason = "";

  public boolean isUp() {
    return up;
  }

  public String reason() {
    return reason;
  }

  public void report(boolean up, String reason) {
    this.up = up;
    this.reason = reason == null ? "" : reason;
  }

  /** Throws 503 database-unavailable (Retry-After 2 s) while the database is down. */
  public void requireUp() {
    if (!up) {
      throw new DomainException.Unavailable(
          "database-unavailable", "The database cannot take this request now; nothing was stored. Retry shortly.", Duration.ofSeconds(2));
    }
  }
}
