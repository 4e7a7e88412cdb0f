package dev.kikonect.scheduling;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.execution.WorkSignal;
import dev.kikonect.trigger.Triggerer;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The interval/cron loop of the seed. Each tick, in ONE transaction: lock due workflows with FOR UPDATE SKIP LOCKED,
 * insert their runs and jobs, advance next_run_at. A crash before commit fires nothing; after commit everything is
 * fired exactly once; a second scheduler on the same database skips the rows this one holds.
 */
@Component
public class Scheduler implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(Scheduler.class);
  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

  private final ScheduleStore store;
  private final Triggerer triggerer;
  private final TransactionTemplate transactions;
  private final WorkSignal signal;
  private final Clock clock;
  private final JsonMapper json;
  private final KiKonectProperties.Scheduler settings;
  private final KiKonectProperties roles;

  private volatile boolean running;
  private Thread thread;

  Scheduler(
      ScheduleStore store,
      Triggerer triggerer,
      TransactionTemplate transactions,
      WorkSignal signal,
      Clock clock,
      JsonMapper json,
      KiKonectProperties properties) {
    this.store = store;
    this.triggerer = triggerer;
    this.transactions = transactions;
    this.signal = signal;
    this.clock = clock;
    this.json = json;
    this.settings = properties.scheduler();
    this.roles = properties;
  }

  /** Fires every workflow due at the clock's now, batch by batch; returns how many fired. */
  public int fireDue() {
    int total = 0;
    while (true) {
      Integer fired = transactions.execute(status -> fireBatch(clock.instant()));
      total += fired == null ? 0 : fired;
      if (fired == null || fired < settings.batchSize()) {
        break;
      }
    }
    if (total > 0) {
      signal.wake();
    }
    return total;
  }

  private int fireBatch(Instant now) {
    List<ScheduleStore.Due> due = store.claimDue(now, settings.batchSize());
    if (due.isEmpty()) {
      return 0;
    }
    List<Triggerer.Firing> firings = new ArrayList<>(due.size());
    long[] ids = new long[due.size()];
    String[] nexts = new String[due.size()];
    for (int i = 0; i < due.size(); i++) {
      ScheduleStore.Due workflow = due.get(i);
      Instant next;
      try {
        next = Schedule.of(workflow.triggerType(), json.readValue(workflow.triggerConfig(), MAP)).nextAfter(workflow.nextRunAt(), now);
      } catch (RuntimeException e) {
        log.error("Workflow {} has an unusable schedule; it will not fire again until edited", workflow.id(), e);
        next = null;
      }
      ids[i] = workflow.id();
      nexts[i] = next == null ? null : next.toString();
      firings.add(new Triggerer.Firing(workflow.id(), workflow.userId(), workflow.triggerType(), workflow.payload()));
    }
    triggerer.enqueueAll(firings, now);
    store.advance(ids, nexts, now);
    return due.size();
  }

  @Override
  public synchronized void start() {
    if (!settings.enabled() || !roles.hasRole("scheduler") || running) {
      return;
    }
    running = true;
    thread = Thread.ofPlatform().name("kikonect-scheduler").daemon(true).start(this::loop);
  }

  private void loop() {
    while (running) {
      try {
        fireDue();
        Thread.sleep(settings.pollInterval().toMillis());
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        log.warn("Scheduler tick failed; retrying: {}", e.toString());
        try {
          Thread.sleep(1000);
        } catch (InterruptedException interrupted) {
          return;
        }
      }
    }
  }

  @Override
  public synchronized void stop() {
    if (!running) {
      return;
    }
    running = false;
    thread.interrupt();
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public boolean isRunning() {
    return running;
  }
}
