package dev.kikonect.execution;

import dev.kikonect.KiKonectProperties;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The executor loop of the seed. One platform thread claims batches of due jobs (as many as there are free delivery
 * slots) and hands each to its own virtual thread, so one slow action URL never holds up the others. It sleeps only
 * when there is nothing to claim, until this node enqueues work ({@link WorkSignal}) or the poll interval passes.
 */
@Component
class Executor implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(Executor.class);

  private final JobQueue queue;
  private final Delivery delivery;
  private final WorkSignal signal;
  private final Clock clock;
  private final KiKonectProperties.Executor settings;
  private final Semaphore slots;
  private final String node;

  private volatile boolean running;
  private Thread dispatcher;
  private ExecutorService deliveries;

  Executor(JobQueue queue, Delivery delivery, WorkSignal signal, Clock clock, KiKonectProperties properties) {
    this.queue = queue;
    this.delivery = delivery;
    this.signal = signal;
    this.clock = clock;
    this.settings = properties.executor();
    this.slots = new Semaphore(settings.concurrency());
    this.node = ManagementFactory.getRuntimeMXBean().getName() + "/" + UUID.randomUUID().toString().substring(0, 8);
  }

  @Override
  public synchronized void start() {
    if (!settings.enabled() || running) {
      return;
    }
    running = true;
    deliveries = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("delivery-", 0).factory());
    dispatcher = Thread.ofPlatform().name("kikonect-executor").daemon(true).start(this::loop);
    log.info("Executor {} started: {} concurrent deliveries, batches of {}", node, settings.concurrency(), settings.batchSize());
  }

  private void loop() {
    while (running) {
      try {
        slots.acquire();
        int wanted = 1;
        while (wanted < settings.batchSize() && slots.tryAcquire()) {
          wanted++;
        }
        List<ClaimedJob> jobs;
        try {
          jobs = queue.claim(wanted, clock.instant(), settings.leaseDuration(), node);
        } catch (RuntimeException e) {
          slots.release(wanted);
          throw e;
        }
        slots.release(wanted - jobs.size());
        for (ClaimedJob job : jobs) {
          deliveries.submit(() -> deliverAndRecord(job));
        }
        if (jobs.size() < wanted) {
          signal.await(settings.pollInterval());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        log.warn("Claiming jobs failed; retrying in 1s: {}", e.toString());
        try {
          Thread.sleep(1000);
        } catch (InterruptedException interrupted) {
          return;
        }
      }
    }
  }

  private void deliverAndRecord(ClaimedJob job) {
    try {
      Outcome outcome = delivery.deliver(job);
      if (Thread.currentThread().isInterrupted()) {
        // Shutting down mid-delivery: leave the job to its lease, another node (or the next start) delivers it.
        return;
      }
      if (!queue.complete(job, outcome, clock.instant())) {
        log.warn("Job {} (run {}) lost its lease before completing; its newer attempt stands", job.jobId(), job.runId());
      }
    } catch (RuntimeException e) {
      log.error("Recording the outcome of job {} (run {}) failed", job.jobId(), job.runId(), e);
    } finally {
      slots.release();
    }
  }

  @Override
  public synchronized void stop() {
    if (!running) {
      return;
    }
    running = false;
    signal.wake();
    dispatcher.interrupt();
    try {
      dispatcher.join(5000);
      deliveries.shutdown();
      if (!deliveries.awaitTermination(10, TimeUnit.SECONDS)) {
        deliveries.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    log.info("Executor {} stopped", node);
  }

  @Override
  public boolean isRunning() {
    return running;
  }
}
