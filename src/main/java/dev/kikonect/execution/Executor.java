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
import dev.kikonect.steps.ExpressionException;
import dev.kikonect.steps.ExpressionSandbox;
import dev.kikonect.steps.ParsedSize;
import dev.kikonect.steps.StepDefinitions;
import dev.kikonect.steps.StepRequests;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import tools.jackson.databind.json.JsonMapper;
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

  /** What one delivery holds besides its payload: OkHttp's buffers, the headers, the 4 KiB of response kept. */
  static final long OVERHEAD = 16 * 1024;
  /** Room for the largest payload (1 MiB of form fields grows when turned into JSON): a claim waits for it. */
  static final long LARGEST = 3 * 1024 * 1024;

  private final JobQueue queue;
  private final Delivery delivery;
  private final RetryPolicy retries;
  private final WorkSignal signal;
  private final Clock clock;
  private final KiKonectProperties.Executor settings;
  private final boolean enabled;
  private final Semaphore slots;
  private final HostLimiter hosts;
  private final Duration hostPatience;
  private final Duration defaultTimeout;
  /** The memory budget ({@code kikonect.executor.memory-budget}) in KiB: payload plus {@link #OVERHEAD} per delivery. */
  private final Semaphore memory;
  private final String node;
  private final Map<Long, ClaimedJob> inFlight = new ConcurrentHashMap<>();
  /** Deliveries in flight per owner; an owner leaves the map when it has none (so at most one entry per delivery). */
  private final Map<Long, Integer> inFlightByOwner = new ConcurrentHashMap<>();
  /** KiB of the memory budget held per owner; an owner leaves the map when it holds none. */
  private final Map<Long, Long> memoryByOwner = new ConcurrentHashMap<>();
  /** One owner's share of the memory budget, in KiB ({@code kikonect.executor.per-owner-memory}). */
  private final long ownerShareKib;
  /** At most this many payload bytes come back from one claim statement (the driver holds them all at once). */
  private final long claimBytes;
  /** Parsed payloads shared by the steps of a run in flight. */
  private final SharedPayloads payloads = new SharedPayloads();
  private final MeterRegistry meters;
  private final Timer deliveryDuration;
  /** Completions of many deliveries share one statement and one commit (see {@link Batcher}). */
  private final Batcher<JobQueue.Completion, JobQueue.Done> completer;
  private final JsonMapper json;
  private final StepCredentials credentials;
  /** Compiled step lists, by their JSON text (shared by every run of a workflow), budgeted at 16 MiB of text. */
  private final Cache<String, StepDefinitions.Definition> definitions =
      Caffeine.newBuilder().maximumWeight(16L * 1024 * 1024).weigher((String text, StepDefinitions.Definition d) -> 64 + 16 * text.length()).build();
  /** How much of a step's response is kept for the steps that need it. */
  private final int keepBytes;

  private static final long NO_OWNER = Long.MIN_VALUE;
  /** After a claim without the dominant owner found nothing, how long before the next such claim. */
  private static final Duration OTHERS_QUIET = Duration.ofMillis(500);
  /** The owner of most of the last claimed batch (claim thread only). */
  private long dominantOwner = NO_OWNER;
  private Instant othersQuietUntil = Instant.EPOCH;

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
      MeterRegistry meters,
      JsonMapper json,
      StepCredentials credentials) {
    this.meters = meters;
    this.credentials = credentials;
    this.json = json;
    this.keepBytes = (int) Math.min(Integer.MAX_VALUE - 1, properties.delivery().maxKeptResponse().toBytes());
    this.deliveryDuration =
        Timer.builder("kikonect.delivery.duration").description("How long one delivery attempt took").publishPercentileHistogram().register(meters);
    io.micrometer.core.instrument.Counter.builder("kikonect.payloads.parsed")
        .description("Payloads parsed for the expressions of steps (the steps of a run in flight on this node share one)")
        .register(meters);
    // Registered at once (0 until it happens), so that dashboards and alerts see the series before the first deferral.
    io.micrometer.core.instrument.Counter.builder("kikonect.deliveries.deferred")
        .description("Deliveries put back without an attempt, by reason (host_busy: its receiver had the most in flight; "
            + "expressions_busy: the expression sandbox had no room)")
        .tags("reason", "host_busy")
        .register(meters);
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
    this.hosts = new HostLimiter(Math.max(1, settings.perHostConcurrency()));
    this.hostPatience = properties.delivery().timeout();
    this.defaultTimeout = properties.delivery().timeout();
    long budgetKib = Math.max(settings.memoryBudget().toBytes(), LARGEST + settings.batchSize() * OVERHEAD) / 1024;
    this.memory = new Semaphore((int) Math.min(Integer.MAX_VALUE, budgetKib));
    this.ownerShareKib = Math.min(budgetKib, Math.max(settings.perOwnerMemory().toBytes(), LARGEST + OVERHEAD) / 1024);
    this.claimBytes = Math.max(LARGEST, budgetKib * 1024 / 8);
    io.micrometer.core.instrument.Gauge.builder("kikonect.executor.memory", memory, m -> (budgetKib - m.availablePermits()) * 1024.0)
        .description("Bytes held by the deliveries in flight (bounded by kikonect.executor.memory-budget)")
        .baseUnit("bytes")
        .register(meters);
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
    int reserveKib = (int) ((LARGEST + settings.batchSize() * OVERHEAD) / 1024);
    while (running) {
      try {
        slots.acquire();
        int wanted = 1;
        while (wanted < settings.batchSize() && slots.tryAcquire()) {
          wanted++;
        }
        int claimed = 0;
        try {
          // Wait for room for the largest payload plus a batch's overhead, then claim what the free memory holds.
          memory.acquire(reserveKib);
          memory.release(reserveKib);
          claimed = running ? claimAndDispatch(wanted, NO_OWNER) : 0;
        } finally {
          slots.release(wanted - claimed);
        }
        long dominant = dominantOwner;
        if (dominant != NO_OWNER && running && clock.instant().isAfter(othersQuietUntil)) {
          // One owner took most of the batch: claim once more without it, so that the other owners' oldest jobs go
          // out now instead of waiting behind its backlog (the queue is first come, first served across owners). When
          // nobody else has work due, do not ask again for a while.
          int probe = 0;
          while (probe < settings.batchSize() && slots.tryAcquire()) {
            probe++;
          }
          int others = 0;
          try {
            others = probe > 0 ? claimAndDispatch(probe, dominant) : 0;
          } finally {
            slots.release(probe - others);
          }
          if (others == 0) {
            othersQuietUntil = clock.instant().plus(OTHERS_QUIET);
          }
          claimed += others;
        }
        if (claimed < wanted && running) {
          signal.await(settings.pollInterval());
        }
      } catch (InterruptedException e) {
        return;
      } catch (Throwable e) { // no Error from one claim may end the loop (OutOfMemoryError exits the process)
        log.warn("Claiming jobs failed; retrying in 1s: {}", e.toString());
        if (!pause(Duration.ofSeconds(1))) {
          return;
        }
      }
    }
  }

  /**
   * Claims up to {@code wanted} jobs whose payloads fit the free memory and starts their deliveries; returns how
   * many were started (each holds one slot). Interrupted or shut down midway, the claimed jobs not started go back to
   * the queue at once. Each delivery holds its payload once, as the bytes it sends.
   */
  private int claimAndDispatch(int wanted, long skipOwner) {
    long free = memory.availablePermits() * 1024L - wanted * OVERHEAD;
    long[] saturated =
        java.util.stream.LongStream.concat(
                inFlightByOwner.entrySet().stream()
                    .filter(e -> e.getValue() >= settings.ownerConcurrency().getOrDefault(e.getKey(), settings.perOwnerConcurrency()))
                    .mapToLong(Map.Entry::getKey),
                memoryByOwner.entrySet().stream().filter(e -> e.getValue() >= ownerShareKib).mapToLong(Map.Entry::getKey))
            .distinct()
            .toArray();
    if (skipOwner != NO_OWNER) {
      saturated = java.util.Arrays.copyOf(saturated, saturated.length + 1);
      saturated[saturated.length - 1] = skipOwner;
    }
    long[] held = payloads.pin();
    List<SharedPayloads.Charge> taken = new java.util.ArrayList<>();
    List<ClaimedJob> jobs = List.of();
    List<ClaimedJob> undelivered = new java.util.ArrayList<>();
    java.util.Set<Long> skippedRuns = new java.util.HashSet<>();
    int dispatched = 0;
    int at = 0;
    try {
      jobs = queue.claim(wanted, Math.min(free, claimBytes), saturated, held, clock.instant(), settings.leaseDuration(), node);
      for (; at < jobs.size(); at++) {
        ClaimedJob claimed = jobs.get(at);
        byte[] given = claimed.payload() == null ? null : claimed.payload().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        // The run's payload (bytes, and its parsed size for a step whose expressions read it) is charged once per run.
        SharedPayloads.Charge charge =
            skippedRuns.contains(claimed.runId()) ? null : payloads.charge(claimed.runId(), claimed.workspaceId(), given, readsPayload(claimed));
        if (charge == null) { // its run's job that brought the payload went back: so does this one
          undelivered.add(claimed);
          continue;
        }
        int costKib = costKib(claimed);
        long chargeKib = costKib + charge.kib();
        long ownerKib = memoryByOwner.getOrDefault(claimed.workspaceId(), 0L);
        // Never wait for memory while holding claimed jobs (their leases are renewed only once they are in flight):
        // a job that would take its owner past its share goes back to the queue without an attempt, and the other
        // owners' jobs of the batch go on; when the budget itself is full, the rest of the batch goes back.
        if (ownerKib > 0 && ownerKib + chargeKib > ownerShareKib) {
          undelivered.add(claimed);
          skippedRuns.add(claimed.runId());
          continue;
        }
        if (!memory.tryAcquire((int) Math.min(Integer.MAX_VALUE, chargeKib))) {
          break;
        }
        payloads.take(charge);
        taken.add(charge);
        memoryByOwner.merge(claimed.workspaceId(), chargeKib, Long::sum);
        ClaimedJob job = claimed.withoutPayload();
        inFlightByOwner.merge(job.workspaceId(), 1, Integer::sum);
        inFlight.put(job.jobId(), job);
        byte[] body = charge.bytes();
        try {
          deliveries.submit(() -> deliverAndRecord(job, body, costKib));
        } catch (RuntimeException e) { // shutting down: undo this one, hand it back below
          inFlight.remove(job.jobId());
          inFlightByOwner.computeIfPresent(job.workspaceId(), (owner, n) -> n == 1 ? null : n - 1);
          releaseMemory(job, costKib);
          throw e;
        }
        dispatched++;
      }
    } catch (RuntimeException e) {
      if (e instanceof java.util.concurrent.RejectedExecutionException) {
        Thread.currentThread().interrupt(); // stopping: the claim loop ends
      } else {
        log.warn("Starting claimed deliveries failed; handing the rest back: {}", e.toString());
      }
    } finally {
      for (long run : held) {
        unpin(run);
      }
      for (long run : payloads.created(taken)) {
        unpin(run);
      }
    }
    if (skipOwner == NO_OWNER) {
      dominantOwner = dominant(jobs);
    }
    undelivered.addAll(jobs.subList(Math.min(at, jobs.size()), jobs.size())); // from the one that did not fit or start on
    if (!undelivered.isEmpty()) {
      try {
        queue.release(undelivered, clock.instant());
      } catch (RuntimeException releaseFailed) {
        log.warn("Handing back {} claimed jobs failed; their leases will expire: {}", undelivered.size(), releaseFailed.toString());
      }
    }
    return dispatched;
  }

  /** The owner of at least three quarters of a batch of four or more jobs, else {@link #NO_OWNER}. */
  private static long dominant(List<ClaimedJob> jobs) {
    if (jobs.size() < 4) {
      return NO_OWNER;
    }
    Map<Long, Long> counts = jobs.stream().collect(java.util.stream.Collectors.groupingBy(ClaimedJob::workspaceId, java.util.stream.Collectors.counting()));
    return counts.entrySet().stream().filter(e -> e.getValue() * 4 >= jobs.size() * 3L).mapToLong(Map.Entry::getKey).findFirst().orElse(NO_OWNER);
  }

  private void unpin(long runId) {
    SharedPayloads.Freed freed = payloads.release(runId);
    if (freed != null) {
      giveBack(freed.workspaceId(), freed.kib());
    }
  }

  private void giveBack(long workspaceId, long kib) {
    memoryByOwner.computeIfPresent(workspaceId, (owner, held) -> held - kib <= 0 ? null : held - kib);
    memory.release((int) kib);
  }

  /**
   * What one delivery holds, in KiB, besides its run's payload (charged once per run, see {@link SharedPayloads}):
   * {@link #OVERHEAD} for the exchange and the response it keeps for later steps.
   */
  private int costKib(ClaimedJob claimed) {
    long keeps = claimed.tracked() && claimed.steps() != null && keepsResponse(claimed) ? keepBytes : 0;
    return (int) ((OVERHEAD + keeps + 1023) / 1024);
  }

  /** Whether the job's step has expressions, which read the parsed payload (a definition that does not compile: no). */
  private boolean readsPayload(ClaimedJob job) {
    if (job.steps() == null) {
      return false;
    }
    try {
      StepDefinitions.Definition definition = definitions.get(job.steps(), this::compile);
      StepDefinitions.Step step = job.step() == null ? definition.steps().get(0) : definition.step(job.step()).orElse(null);
      return step != null && step.dynamic();
    } catch (RuntimeException e) {
      return false;
    }
  }

  private void releaseMemory(ClaimedJob job, int costKib) {
    giveBack(job.workspaceId(), costKib);
    unpin(job.runId());
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
      } catch (Throwable e) { // the lease keeper must outlive any failure
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

  private void deferred(String reason) {
    io.micrometer.core.instrument.Counter.builder("kikonect.deliveries.deferred")
        .description("Deliveries put back without an attempt, by reason (host_busy: its receiver had the most in flight; "
            + "expressions_busy: the expression sandbox had no room)")
        .tags("reason", reason)
        .register(meters)
        .increment();
  }

  private void deliverAndRecord(ClaimedJob job, byte[] payload, int costKib) {
    MDC.put("run_id", Long.toString(job.runId()));
    MDC.put("workflow_id", Long.toString(job.workflowId()));
    String host = null;
    boolean turn = false;
    try {
      Instant started = clock.instant();
      if (job.runCancelled()) {
        record(job, null, JobQueue.Next.CANCELLED, null, null);
        return;
      }
      StepDefinitions.Step step = null;
      StepRequests.Rendered request;
      boolean keep = false;
      if (job.steps() == null) {
        if (attemptsUsedUp(job, job.maxAttempts(), started)) {
          return;
        }
        // The one-step shorthand (action_url): the payload, byte for byte, POSTed there. Nothing to evaluate.
        request = new StepRequests.Rendered("POST", job.actionUrl(), List.of(), payload);
      } else {
        try {
          StepDefinitions.Definition definition = definitions.get(job.steps(), this::compile);
          step = job.step() == null ? definition.steps().get(0) : definition.step(job.step()).orElse(null);
          if (step == null) {
            record(job, refused(job, started, "the step '" + job.step() + "' is no longer in the workflow"), JobQueue.Next.FAILED, null, null);
            return;
          }
          if (attemptsUsedUp(job, step.maxAttempts() == null ? job.maxAttempts() : step.maxAttempts(), started)) {
            return;
          }
          java.util.Map<String, Object> context = step.dynamic() ? context(job, payload, definition, step) : null;
          StepDefinitions.Step current = step;
          byte[] bytes = payload;
          // The payload is parsed (once per run) inside the same task of the sandbox as the step's expressions: one
          // hand-over to the sandbox's thread per step, not two.
          request = !step.dynamic()
              ? StepRequests.prepare(step, null, payload, json::writeValueAsString, job.tracked())
              : ExpressionSandbox.onBehalfOf(job.workspaceId(), () -> ExpressionSandbox.shared().call("steps", () -> {
                  context.put("payload", payloads.tree(job.runId(), this::parsePayload));
                  return StepRequests.prepare(current, context, bytes, json::writeValueAsString, job.tracked());
                }));
          if (request == null) {
            record(job, null, JobQueue.Next.SKIPPED, null, null);
            return;
          }
          keep = job.tracked() && definition.needed(step.key());
        } catch (ExpressionException e) {
          if (e.busy()) {
            // The expression sandbox had no room: nothing was evaluated or sent; back to the queue, no attempt spent.
            queue.release(List.of(job), clock.instant());
            deferred("expressions_busy");
            return;
          }
          // An expression that fails at run time fails its step at once: sending it again would fail the same way.
          record(job, refused(job, started, relative(e.field()) + ": " + e.reason()), JobQueue.Next.FAILED, null, null);
          return;
        } catch (RuntimeException e) {
          // A bug or a corrupt row still ends as a failed attempt, never as a lease that expires again and again.
          log.error("Preparing step {} of run {} failed inside KiKonect", job.step(), job.runId(), e);
          record(job, refused(job, started, "internal error: " + e.getClass().getSimpleName()), JobQueue.Next.FAILED, null, null);
          return;
        }
      }
      boolean bodyIsPayload = request.body() == payload; // no body expression: the payload itself, byte for byte
      payload = null; // the request holds what is sent
      java.util.Optional<String> badUrl = step == null ? java.util.Optional.empty() : badUrl(request.url());
      if (badUrl.isPresent()) {
        record(job, refused(job, started, "url: " + badUrl.get()), JobQueue.Next.FAILED, null, null);
        return;
      }
      host = host(request.url());
      turn = hosts.acquire(host, hostPatience);
      if (!turn) {
        // Its host has as many deliveries in flight as one host may: back to the queue, no attempt spent.
        queue.release(List.of(job), clock.instant());
        deferred("host_busy");
        return;
      }
      Duration timeout = step == null || step.timeoutSeconds() == null ? defaultTimeout : Duration.ofSeconds(step.timeoutSeconds());
      Delivery.Sent sent = attemptWithCredential(job, step, request, bodyIsPayload, timeout, keep ? keepBytes : 0);
      Attempt attempt = sent.attempt();
      deliveryDuration.record(Duration.ofMillis(attempt.durationMs()));
      if (Thread.currentThread().isInterrupted()) {
        return; // shutting down: the job was handed back and will be delivered again elsewhere
      }
      Instant now = clock.instant();
      int maxAttempts = step == null || step.maxAttempts() == null ? job.maxAttempts() : step.maxAttempts();
      JobQueue.Next next;
      Instant retryAt = null;
      if (attempt.succeeded()) {
        next = JobQueue.Next.SUCCEEDED;
      } else if (attempt.retryable() && job.attempt() < maxAttempts) {
        next = JobQueue.Next.RETRY;
        retryAt = now.plus(retries.delayAfter(job.attempt(), attempt.retryAfter()));
      } else {
        next = JobQueue.Next.FAILED;
      }
      record(job, attempt, next, retryAt, sent.kept());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // shutting down while waiting for a turn: the job is handed back
    } catch (Throwable e) {
      log.error("Recording the outcome of job {} (run {}) failed; its lease will expire and it will be retried", job.jobId(), job.runId(), e);
    } finally {
      if (turn) {
        hosts.release(host);
      }
      inFlight.remove(job.jobId());
      inFlightByOwner.computeIfPresent(job.workspaceId(), (owner, n) -> n == 1 ? null : n - 1);
      releaseMemory(job, costKib);
      slots.release();
      MDC.clear();
    }
  }

  /** Completes the job (through the batched completer) and counts what happened. */
  private void record(ClaimedJob job, Attempt attempt, JobQueue.Next next, Instant retryAt, JobQueue.KeptResponse kept) {
    Instant now = clock.instant();
    JobQueue.Done done = completer.submit(new JobQueue.Completion(job, attempt, next, retryAt, kept)).join();
    if (!done.applied()) {
      log.warn("Job {} (run {}) lost its lease before completing; its newer attempt stands", job.jobId(), job.runId());
      return;
    }
    if (attempt != null) {
      String outcome = attempt.succeeded() ? "success" : next == JobQueue.Next.RETRY ? "retryable_failure" : "permanent_failure";
      io.micrometer.core.instrument.Counter.builder("kikonect.deliveries")
          .description("Delivery attempts, by outcome: success, retryable_failure, permanent_failure")
          .tags("outcome", outcome)
          .register(meters)
          .increment();
      if (!attempt.succeeded()) {
        log.info("Delivery attempt {} of run {}{} failed: {}", attempt.number(), job.runId(),
            job.step() == null ? "" : " (step " + job.step() + ")", attempt.error());
      }
    }
    if (done.runEnded() != null) {
      io.micrometer.core.instrument.Counter.builder("kikonect.runs")
          .description("Runs that ended, by trigger and outcome")
          .tags("trigger", job.trigger(), "outcome", done.runEnded().wire())
          .register(meters)
          .increment();
      Timer.builder("kikonect.run.latency")
          .description("From run created to run finished (succeeded or failed)")
          .tag("outcome", done.runEnded().wire())
          .publishPercentileHistogram()
          .register(meters)
          .record(Duration.between(job.runCreatedAt(), now));
    }
  }

  /**
   * Whether the job's attempts are used up before this one starts: its last attempt was lost with its lease
   * ({@code JobQueue#requeueExpired} counted it). Then the step fails with that attempt's "lease expired" and nothing
   * is sent, evaluated or parsed (what killed a node is not tried again). The lost attempt is already in the log, so
   * the completion's attempt, numbered as it, adds no row.
   */
  private boolean attemptsUsedUp(ClaimedJob job, int maxAttempts, Instant started) {
    if (job.attempt() <= maxAttempts) {
      return false;
    }
    Attempt lost = new Attempt(job.number() - 1, started, 0, false, false, null, null, null,
        "lease expired: the node delivering it stopped (crash or lost connection); outcome unknown, and that was the last attempt",
        null, null);
    record(job, lost, JobQueue.Next.FAILED, null, null);
    return true;
  }

  /** A failed attempt that sent nothing (an expression or the URL failed first): not worth retrying. */
  private Attempt refused(ClaimedJob job, Instant started, String error) {
    return new Attempt(
        job.number(), started, Duration.between(started, clock.instant()).toMillis(), false, false, null, null, null,
        dev.kikonect.common.Printable.of(error, 1000), null, null);
  }

  /** "steps[1].body" as the step's own field, "body". */
  private static String relative(String field) {
    return field.startsWith("steps[") && field.contains("].") ? field.substring(field.indexOf("].") + 2) : field;
  }

  /** Why a URL (templated ones are only known now) cannot be sent to; the address is checked when connecting. */
  private static java.util.Optional<String> badUrl(String url) {
    try {
      java.net.URI uri = new java.net.URI(url);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
      if (scheme.equals("listen") && Listeners.validName(uri.getAuthority())) {
        return java.util.Optional.empty();
      }
      if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
        return java.util.Optional.of("'" + dev.kikonect.common.Printable.of(url, 200) + "' is not an absolute http or https URL");
      }
      if (uri.getUserInfo() != null) {
        return java.util.Optional.of("must not contain credentials");
      }
      return java.util.Optional.empty();
    } catch (java.net.URISyntaxException e) {
      return java.util.Optional.of("'" + dev.kikonect.common.Printable.of(url, 200) + "' is not a valid URL: " + e.getReason());
    }
  }

  /** Whether some step needs this job's step (a definition that does not compile counts as yes: the larger reserve). */
  private boolean keepsResponse(ClaimedJob job) {
    try {
      return definitions.get(job.steps(), this::compile).needed(job.step());
    } catch (RuntimeException e) {
      return true;
    }
  }

  @SuppressWarnings("unchecked")
  private StepDefinitions.Definition compile(String steps) {
    return StepDefinitions.parse(java.util.Map.of("steps", json.readValue(steps, java.util.List.class)));
  }

  /**
   * What a step's expressions see: payload, headers and query (of the incoming webhook, when kept), run, workflow
   * and, for a step of a tracked run, {@code steps.<key>} for the steps it needs, directly or indirectly.
   */
  @SuppressWarnings("unchecked")
  private java.util.Map<String, Object> context(
      ClaimedJob job, byte[] payload, StepDefinitions.Definition definition, StepDefinitions.Step step) {
    java.util.Map<String, Object> context = new java.util.LinkedHashMap<>();
    context.put("payload", null); // parsed in the sandbox, with the step's expressions
    java.util.Map<String, Object> request = job.request() == null ? java.util.Map.of() : json.readValue(job.request(), java.util.Map.class);
    context.put("headers", request.getOrDefault("headers", java.util.Map.of()));
    context.put("query", request.getOrDefault("query", java.util.Map.of()));
    java.util.Map<String, Object> run = new java.util.LinkedHashMap<>();
    run.put("id", job.runId());
    run.put("trigger", job.trigger());
    run.put("created_at", job.runCreatedAt().toString());
    run.put("scheduled_for", job.scheduledFor() == null ? null : job.scheduledFor().toString());
    context.put("run", run);
    java.util.Map<String, Object> workflow = new java.util.LinkedHashMap<>();
    workflow.put("id", job.workflowId());
    workflow.put("name", job.workflowName());
    context.put("workflow", workflow);
    java.util.Map<String, Object> steps = new java.util.LinkedHashMap<>();
    List<String> ancestors = job.tracked() ? definition.ancestors(step) : List.of();
    if (!ancestors.isEmpty()) {
      queue.stepResponses(job.runId(), ancestors).forEach((key, r) -> {
        java.util.Map<String, Object> view = new java.util.LinkedHashMap<>();
        view.put("status", r.status());
        if (r.responseStatus() != null) {
          java.util.Map<String, Object> response = new java.util.LinkedHashMap<>();
          response.put("status", r.responseStatus());
          response.put("headers", r.headers() == null ? java.util.Map.of() : json.readValue(r.headers(), java.util.Map.class));
          response.put("body", parsedBody(r.body()));
          view.put("response", response);
        }
        steps.put(key, view);
      });
    }
    context.put("steps", steps);
    return context;
  }

  /**
   * The payload as expressions read it, parsed in the expression sandbox (its threads, its memory budget): a payload
   * whose parsed size would not fit what an evaluation may allocate fails the step instead of filling the heap.
   */
  private Object parsePayload(byte[] payload) {
    long parsed = ParsedSize.estimate(payload);
    long limit = ExpressionSandbox.shared().maxContextBytes();
    if (parsed > limit) {
      throw ExpressionException.overBudget("payload", "the payload is too large for expressions: parsed, it would take about "
          + (parsed >> 20) + " MiB; at most " + (limit >> 20) + " MiB");
    }
    meters.counter("kikonect.payloads.parsed").increment();
    return ExpressionSandbox.shared().parse("payload", () -> json.readValue(payload, Object.class));
  }

  /** A response body as an expression reads it: parsed when it is JSON, else the text. */
  private Object parsedBody(String body) {
    if (body == null || body.isEmpty()) {
      return null;
    }
    try {
      return json.readValue(body, Object.class);
    } catch (tools.jackson.core.JacksonException e) {
      return body;
    }
  }

  /** The receiver a delivery goes to, as host:port ("" when the URL has none: such a delivery fails on its own). */
  private static String host(String url) {
    try {
      java.net.URI uri = java.net.URI.create(url);
      if (uri.getHost() == null) {
        return "";
      }
      int port = uri.getPort() >= 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
      return uri.getHost().toLowerCase(java.util.Locale.ROOT) + ":" + port;
    } catch (IllegalArgumentException e) {
      return "";
    }
  }

  /**
   * One attempt of a step that names a credential: the credential is applied to the request last, after every
   * expression and the URL check, so its values are in no expression, error or log. A fetched token (OAuth2) that the
   * target answers 401 to is fetched again once and the request sent again within the attempt. A credential that
   * cannot be applied fails the attempt (retried when trying later may work: a token endpoint that is down).
   */
  private Delivery.Sent attemptWithCredential(
      ClaimedJob job, StepDefinitions.Step step, StepRequests.Rendered request, boolean bodyIsPayload, Duration timeout, int keep) {
    if (step == null || step.credential() == null) {
      return attempt(job, request, bodyIsPayload, timeout, keep);
    }
    Instant started = clock.instant();
    if (request.url().regionMatches(true, 0, "listen:", 0, 7)) {
      // Checked on the URL as rendered, at send: a templated URL ({{ 'listen://dev' }}) passes the check at save.
      return new Delivery.Sent(failedAttempt(job, started,
          "credential: a listen:// step cannot use a credential (the listener would receive the secret)", false), null);
    }
    try {
      String target = credentialHost(request.url());
      StepCredentials.Applied applied = credentials.apply(job.workspaceId(), step.credential(), target, null);
      Delivery.Sent sent = scrubbed(attempt(job, withCredential(request, applied), bodyIsPayload, timeout, keep), applied);
      if (applied.stamp() != null && Integer.valueOf(401).equals(sent.attempt().statusCode())) {
        applied = credentials.apply(job.workspaceId(), step.credential(), target, applied.stamp());
        sent = scrubbed(attempt(job, withCredential(request, applied), bodyIsPayload, timeout, keep), applied);
      }
      return sent;
    } catch (StepCredentials.Failure f) {
      return new Delivery.Sent(failedAttempt(job, started, "credential: " + f.getMessage(), f.retryable()), null);
    } catch (RuntimeException e) {
      log.error("Applying credential '{}' to run {} failed", step.credential(), job.runId(), e);
      return new Delivery.Sent(failedAttempt(job, started, "credential '" + step.credential() + "' could not be applied: "
          + e.getClass().getSimpleName(), false), null);
    }
  }

  /** The host a request goes to, as a credential's allowed_hosts name it (lower case; an IPv6 address in brackets). */
  private static String credentialHost(String url) {
    try {
      String host = java.net.URI.create(url).getHost();
      return host == null ? null : host.toLowerCase(java.util.Locale.ROOT);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * The attempt (and kept response) with every value the credential added replaced by [redacted], wherever a receiver
   * may have echoed it (an error message, a response header or body): the attempt log never holds a secret.
   */
  private static Delivery.Sent scrubbed(Delivery.Sent sent, StepCredentials.Applied applied) {
    List<String> secrets = new java.util.ArrayList<>();
    applied.headers().forEach(h -> secrets.add(h.getValue()));
    applied.query().forEach(q -> {
      secrets.add(q.getValue());
      secrets.add(java.net.URLEncoder.encode(q.getValue(), java.nio.charset.StandardCharsets.UTF_8));
    });
    applied.headers().stream()
        .filter(h -> h.getValue().startsWith("Bearer ") || h.getValue().startsWith("Basic "))
        .forEach(h -> secrets.add(h.getValue().substring(h.getValue().indexOf(' ') + 1)));
    for (String secret : List.copyOf(secrets)) {
      secrets.add(secret.replace("\\", "\\\\").replace("\"", "\\\"")); // as it appears inside the JSON of the request record
      secrets.add(dev.kikonect.common.Printable.of(secret, Integer.MAX_VALUE)); // as an error or the log quotes it (control characters escaped)
    }
    return scrubbed(sent, Secrets.scrubber(secrets));
  }

  private static Delivery.Sent scrubbed(Delivery.Sent sent, java.util.function.UnaryOperator<String> scrub) {
    Attempt a = sent.attempt();
    Attempt clean = new Attempt(a.number(), a.startedAt(), a.durationMs(), a.succeeded(), a.retryable(), a.statusCode(),
        scrub.apply(a.responseHeaders()), scrub.apply(a.responseBody()), scrub.apply(a.error()), a.retryAfter(),
        scrub.apply(a.request()));
    JobQueue.KeptResponse k = sent.kept();
    return new Delivery.Sent(clean, k == null ? null : new JobQueue.KeptResponse(k.status(), scrub.apply(k.headers()), scrub.apply(k.body())));
  }

  /** The request with the credential's headers (replacing the step's of the same name) and query parameters. */
  private static StepRequests.Rendered withCredential(StepRequests.Rendered request, StepCredentials.Applied applied) {
    java.util.Set<String> replaced = new java.util.HashSet<>();
    applied.headers().forEach(h -> replaced.add(h.getKey().toLowerCase(java.util.Locale.ROOT)));
    List<Map.Entry<String, String>> headers = new java.util.ArrayList<>();
    request.headers().stream().filter(h -> !replaced.contains(h.getKey().toLowerCase(java.util.Locale.ROOT))).forEach(headers::add);
    headers.addAll(applied.headers());
    String url = request.url();
    if (!applied.query().isEmpty()) {
      int hash = url.indexOf('#');
      String fragment = hash < 0 ? "" : url.substring(hash);
      StringBuilder u = new StringBuilder(hash < 0 ? url : url.substring(0, hash));
      for (Map.Entry<String, String> q : applied.query()) {
        u.append(u.indexOf("?") < 0 ? '?' : '&')
            .append(java.net.URLEncoder.encode(q.getKey(), java.nio.charset.StandardCharsets.UTF_8))
            .append('=')
            .append(java.net.URLEncoder.encode(q.getValue(), java.nio.charset.StandardCharsets.UTF_8));
      }
      url = u.append(fragment).toString();
    }
    return new StepRequests.Rendered(request.method(), url, headers, request.body());
  }

  private Attempt failedAttempt(ClaimedJob job, Instant started, String error, boolean retryable) {
    return new Attempt(
        job.number(), started, Duration.between(started, clock.instant()).toMillis(), false, retryable, null, null, null,
        dev.kikonect.common.Printable.of(error, 1000), null, null);
  }

  /**
   * One attempt. Whatever the attempt throws (a bug, a corrupt row) still counts as an attempt, so the job goes
   * through the retry policy to its end instead of losing its lease and coming back forever.
   */
  private Delivery.Sent attempt(ClaimedJob job, StepRequests.Rendered request, boolean bodyIsPayload, Duration timeout, int keep) {
    Instant started = clock.instant();
    try {
      return delivery.send(
          request.method(), request.url(), request.headers(), job.webhookId(), job.signingSecret(), job.previousSecret(),
          request.body(), bodyIsPayload, job.number(), timeout, keep, job.workspaceId());
    } catch (OutOfMemoryError e) {
      throw e; // the process exits (-XX:+ExitOnOutOfMemoryError); the lease brings the job back elsewhere
    } catch (Throwable e) {
      log.error("Delivery attempt {} of run {} failed inside KiKonect; counted as a failed attempt", job.number(), job.runId(), e);
      return new Delivery.Sent(new Attempt(
          job.number(), started, Duration.between(started, clock.instant()).toMillis(), false, true, null, null, null,
          "internal error: " + e.getClass().getSimpleName(), null, null), null);
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
