package dev.kikonect;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Every {@code kikonect.*} setting, with its default. The README's configuration table mirrors this class.
 *
 * @param dataDir where the embedded PostgreSQL keeps its data (only used without {@code spring.datasource.url})
 * @param publicBaseUrl base of the absolute webhook URLs handed to users; empty means http://localhost:PORT
 */
@ConfigurationProperties("kikonect")
public record KiKonectProperties(
    @DefaultValue("./data") Path dataDir,
    @DefaultValue("") String publicBaseUrl,
    @DefaultValue Auth auth,
    @DefaultValue Delivery delivery,
    @DefaultValue Executor executor,
    @DefaultValue Scheduler scheduler) {

  /** @param tokenTtl how long a login token stays valid */
  public record Auth(@DefaultValue("7d") Duration tokenTtl) {}

  /** @param timeout how long one delivery may take, connect to last response header */
  public record Delivery(@DefaultValue("10s") Duration timeout) {}

  /**
   * @param concurrency deliveries in flight at once on this node (each on its own virtual thread)
   * @param batchSize jobs claimed per claim statement
   * @param pollInterval how often an idle executor looks for work enqueued by other nodes
   * @param leaseDuration how long a claimed job belongs to this node before others may take it
   */
  public record Executor(
      @DefaultValue("true") boolean enabled,
      @DefaultValue("256") int concurrency,
      @DefaultValue("64") int batchSize,
      @DefaultValue("250ms") Duration pollInterval,
      @DefaultValue("30s") Duration leaseDuration) {}

  /**
   * @param pollInterval how often the scheduler looks for due interval and cron workflows
   * @param batchSize due workflows claimed per transaction
   */
  public record Scheduler(
      @DefaultValue("true") boolean enabled,
      @DefaultValue("250ms") Duration pollInterval,
      @DefaultValue("500") int batchSize) {}
}
