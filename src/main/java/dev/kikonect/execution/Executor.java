package dev.kikonect.execution;

import dev.kikonect.lifecycle.Attempt;
import dev.kikonect.lifecycle.ClaimedJob;
import dev.kikonect.lifecycle.JobQueue;
import dev.kikonect.lifecycle.WorkSignal;

import dev.kikonect.KiKonectProperties;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import dev.kikonect.common.Batcher;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The executor loop of the seed. One platform thread claims batches of due jobs (as many as there are free delivery
 * slots) and hands each to its own virtual thread, so one slow action URL never holds up the others. It sleeps only
 * when there is nothing to claim, until this node enqueues work ({@link WorkSignal}) or the poll interval passes.
 *
 * <p>A second thread renews the leases of in-flight jobs every third of the lease (so a long delivery is never taken
 * from a live node) and returns jobs of dead nodes, whose leases ran out, to the queue. On shutdown the node stops
 * claiming, lets in-flight deliveries finish within the grace period and hands the rest back.
 */
@Component
class Executor implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(Executor.class);

  private final JobQueue queue;
  private final Delivery delivery;
  private final RetryPolicy retries;
  private final WorkSignal signal;
  private final Clock clock;
  private final KiKonectProperties.Executor settings;
  private final boolean enabled;
  private final Semaphore slots;
  private final String node;
  private final Map<Long, ClaimedJob> inFlight = new ConcurrentHashMap<>();
  private final MeterRegistry meters;
  private final Timer deliveryDuration;
  /** Completions of many deliveries share one statement and one commit (see {@link Batcher}). */
  private final Batcher<JobQueue.Completion, Boolean> completer;

  private volatile boolean running;
  private Thread dispatcher;
  private Thread keeper;
  private ExecutorService deliveries;

  Executor(
      JobQueue queue,
      Delivery delivery,
      RetryPolicy retries,
      WorkSignal signal,
      Clock clock,
      KiKonectProperties properties,
      MeterRegistry meters) {
    this.meters = meters;
    this.deliveryDuration =
        Timer.builder("kikonect.delivery.duration").description("How long one delivery attempt took").publishPercentileHistogram().register(meters);
    this.queue = queue;
    this.completer =
        new Batcher<>(
            "kikonect-completer",
            500,
            batch -> queue.completeAll(batch, clock.instant()),
            one -> queue.completeAll(java.util.List.of(one), clock.instant()).get(0),
            meters);
    this.delivery = delivery;
    this.retries = retries;
    this.signal = signal;
    this.clock = clock;
    this.settings = properties.executor();
    this.enabled = settings.enabled() && properties.hasRole("executor");
    this.slots = new Semaphore(settings.concurrency());
    this.node = ManagementFactory.getRuntimeMXBean().getName() + "/" + UUID.randomUUID().toString().substring(0, 8);
  }

  @Override
  public synchronized void start() {
    if (!enabled || running) {
      return;
    }
    running = true;
    deliveries = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("delivery-", 0).factory());
    dispatcher = Thread.ofPlatform().name("kikonect-executor").daemon(true).start(this::claimLoop);
    keeper = Thread.ofPlatform().name("kikonect-leases").daemon(true).start(this::leaseLoop);
    log.info("Executor {} started: {} concurrent deliveries, batches of {}", node, settings.concurrency(), settings.batchSize());
  }

  private void claimLoop() {
    while (running) {
      try {
        slots.acquire();
        int wanted = 1;
        while (wanted < settings.batchSize() && slots.tryAcquire()) {
          wanted++;
        }
        List<ClaimedJob> jobs;
        try {
          jobs = running ? queue.claim(wanted, clock.instant(), settings.leaseDuration(), node) : List.of();
        } catch (RuntimeException e) {
          slots.release(wanted);
          throw e;
        }
        slots.release(wanted - jobs.size());
        for (ClaimedJob job : jobs) {
          inFlight.put(job.jobId(), job);
          deliveries.submit(() -> deliverAndRecord(job));
        }
        if (jobs.size() < wanted && running) {
          signal.await(settings.pollInterval());
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        log.warn("Claiming jobs failed; retrying in 1s: {}", e.toString());
        if (!pause(Duration.ofSeconds(1))) {
          return;
        }
      }
    }
  }

  private void leaseLoop() {
    Duration renewEvery = settings.leaseDuration().dividedBy(3);
    Duration tick = renewEvery.compareTo(settings.sweepInterval()) < 0 ? renewEvery : settings.sweepInterval();
    Instant nextSweep = Instant.EPOCH;
    while (running) {
      try {
        Instant now = clock.instant();
        queue.renew(inFlight.values(), now.plus(settings.leaseDuration()));
        if (!now.isBefore(nextSweep)) {
          int requeued;
          while ((requeued = queue.requeueExpired(now, 500)) > 0) {
            log.warn("Returned {} jobs with expired leases to the queue", requeued);
            signal.wake();
          }
          nextSweep = now.plus(settings.sweepInterval());
        }
      } catch (RuntimeException e) {
        log.warn("Lease upkeep failed; retrying: {}", e.toString());
      }
      if (!pause(tick)) {
        return;
      }
    }
  }

  private static boolean pause(Duration d) {
    try {
      Thread.sleep(d.toMillis());
      return true;
    } catch (InterruptedException e) {
      return false;
    }
  }

  private void deliverAndRecord(ClaimedJob job) {
    MDC.put("run_id", Long.toString(job.runId()));
    MDC.put("workflow_id", Long.toString(job.workflowId()));
    try {
      Attempt attempt = attempt(job);
      deliveryDuration.record(Duration.ofMillis(attempt.durationMs()));
      if (Thread.currentThread().isInterrupted()) {
        return; // shutting down: the job was handed back and will be delivered again elsewhere
      }
      Instant now = clock.instant();
      JobQueue.Next next;
      Instant retryAt = null;
      if (attempt.succeeded()) {
        next = JobQueue.Next.SUCCEEDED;
      } else if (attempt.retryable() && job.attempt() < job.maxAttempts()) {
        next = JobQueue.Next.RETRY;
        retryAt = now.plus(retries.delayAfter(job.attempt(), attempt.retryAfter()));
      } else {
        next = JobQueue.Next.FAILED;
      }
      if (!completer.submit(new JobQueue.Completion(job, attempt, next, retryAt)).join()) {
        log.warn("Job {} (run {}) lost its lease before completing; its newer attempt stands", job.jobId(), job.runId());
      } else {
        String outcome = attempt.succeeded() ? "success" : next == JobQueue.Next.RETRY ? "retryable_failure" : "permanent_failure";
        meters.counter("kikonect.deliveries", "outcome", outcome).increment();
        if (next != JobQueue.Next.RETRY) {
          meters.counter("kikonect.runs", "trigger", job.trigger(), "outcome", next.runStatus().wire()).increment();
          Timer.builder("kikonect.run.latency")
              .description("From run created to run finished (succeeded or failed)")
              .tag("outcome", next.runStatus().wire())
              .publishPercentileHistogram()
              .register(meters)
              .record(Duration.between(job.runCreatedAt(), now));
        }
        if (!attempt.succeeded()) {
          log.info("Delivery attempt {} of run {} failed: {}", attempt.number(), job.runId(), attempt.error());
        }
      }
    } catch (RuntimeException e) {
      log.error("Recording the outcome of job {} (run {}) failed; its lease will expire and it will be retried", job.jobId(), job.runId(), e);

    } finally {
      inFlight.remove(job.jobId());
      slots.release();
      MDC.clear();
    }
  }

  /**
   * One attempt. Whatever the attempt throws (a bug, a corrupt row) still counts as an attempt, so the job goes
   * through the retry policy to its end instead of losing its lease and coming back forever.
   */
  private Attempt attempt(ClaimedJob job) {
    Instant started = clock.instant();
    try {
      return delivery.deliver(job);
    } catch (OutOfMemoryError e) {
      throw e; // the process exits (-XX:+ExitOnOutOfMemoryError); the lease brings the job back elsewhere
    } catch (Throwable e) {
      log.error("Delivery attempt {} of run {} failed inside KiKonect; counted as a failed attempt", job.attempt(), job.runId(), e);
      return new Attempt(
          job.attempt(), started, Duration.between(started, clock.instant()).toMillis(), false, true, null, null, null,
          "internal error: " + e.getClass().getSimpleName(), null);
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
    keeper.interrupt();
    try {
      dispatcher.join(5000);
      keeper.join(5000);
      deliveries.shutdown();
      if (!deliveries.awaitTermination(settings.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
        List<ClaimedJob> unfinished = List.copyOf(inFlight.values());
        int released = queue.release(unfinished, clock.instant());
        log.warn("{} deliveries did not finish within {}; handed {} back to the queue", unfinished.size(), settings.shutdownGrace(), released);
        deliveries.shutdownNow();
        deliveries.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.error("Handing unfinished jobs back failed; their leases will expire instead", e);
    }
    log.info("Executor {} stopped", node);
  }

  @jakarta.annotation.PreDestroy
  void closeCompleter() {
    completer.close();
  }

  @Override
  public boolean isRunning() {
    return running;
  }
}
