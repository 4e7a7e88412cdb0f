package dev.kikonect.trigger;

import dev.kikonect.common.Batcher;
import dev.kikonect.execution.WorkSignal;
import dev.kikonect.run.Run;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * EnqueueRun from the seed: a run and its job, inserted by ONE statement (so in one transaction: there is never a
 * run without a job or a job without a run). Every trigger (manual, webhook, interval, cron, replay) comes through
 * here.
 */
@Component
public class Triggerer {

  /** How long an Idempotency-Key keeps answering with the run it created. */
  public static final Duration IDEMPOTENCY_WINDOW = Duration.ofHours(24);

  /**
   * One firing for {@link #enqueueAll}. {@code payload} is JSON text; {@code scheduledFor} is the slot of a
   * scheduled firing (at most one run per slot); with a {@code skipReason} the run is recorded as skipped and
   * nothing is delivered.
   */
  public record Firing(long workflowId, long userId, String trigger, String payload, Instant scheduledFor, String skipReason) {
    public Firing(long workflowId, long userId, String trigger, String payload) {
      this(workflowId, userId, trigger, payload, null, null);
    }
  }

  /** The run an enqueue produced; {@code repeated}: an Idempotency-Key matched, the run is the earlier one. */
  public record Enqueued(Run run, boolean repeated) {}

  private static final String INSERT_ONE =
      """
      WITH run AS (
        INSERT INTO workflow_runs (workflow_id, user_id, status, trigger, payload, replay_of, created_at)
        VALUES (:workflow, :user, 'pending', :trigger, :payload::json, CAST(:replay_of AS bigint), :now)
        RETURNING *
      ), job AS (
        INSERT INTO jobs (run_id, workflow_id, run_at, created_at)
        SELECT id, workflow_id, created_at, created_at FROM run
      )
      SELECT
      """
          + Run.COLUMNS
          + " FROM run";

  private final JdbcClient jdbc;
  private final Clock clock;
  private final WorkSignal signal;
  private final TransactionTemplate transactions;

  Triggerer(JdbcClient jdbc, Clock clock, WorkSignal signal, TransactionTemplate transactions, MeterRegistry meters) {
    this.jdbc = jdbc;
    this.clock = clock;
    this.signal = signal;
    this.transactions = transactions;
    this.ingest = new Batcher<>("kikonect-ingest", 500, this::insertAll, r -> insertAll(List.of(r)).get(0), meters);
  }

  /**
   * One request to enqueue, for the ingest {@link Batcher}. With an {@code expectedConfig} the run is inserted only if
   * the workflow's trigger_config still is exactly that (what the request was checked against).
   */
  private record Request(long workflowId, long userId, String trigger, String payload, String webhookId, String expectedConfig) {}

  private final Batcher<Request, Run> ingest;

  /**
   * Enqueues one run and wakes this node's executor. Returns once the run is committed (durably): concurrent
   * requests share that commit (micro-batched ingest), so many webhooks cost one fsync. Empty, and nothing
   * enqueued, when the workflow is no longer enabled (paused or deleted meanwhile) or, with an {@code
   * expectedConfig}, its trigger_config is no longer that one.
   */
  Optional<Run> enqueueIfCurrent(long workflowId, long userId, String trigger, String payload, String expectedConfig) {
    Run run;
    try {
      run = ingest.submit(new Request(workflowId, userId, trigger, payload, newWebhookId(), expectedConfig)).join();
    } catch (java.util.concurrent.CompletionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
    if (run != null) {
      signal.wake();
    }
    return Optional.ofNullable(run);
  }

  @jakarta.annotation.PreDestroy
  void close() {
    ingest.close();
  }

  private static String newWebhookId() {
    return "msg_" + java.util.UUID.randomUUID().toString().replace("-", "");
  }

  /** Inserts the runs and jobs of many requests with one statement; results in request order. */
  private List<Run> insertAll(List<Request> requests) {
    int n = requests.size();
    long[] workflows = new long[n];
    long[] users = new long[n];
    String[] triggers = new String[n];
    String[] payloads = new String[n];
    String[] webhookIds = new String[n];
    String[] configs = new String[n];
    for (int i = 0; i < n; i++) {
      Request r = requests.get(i);
      workflows[i] = r.workflowId();
      users[i] = r.userId();
      triggers[i] = r.trigger();
      payloads[i] = r.payload();
      webhookIds[i] = r.webhookId();
      configs[i] = r.expectedConfig();
    }
    java.util.Map<String, Run> byWebhookId = new java.util.HashMap<>();
    // The join re-checks each request's workflow in the statement that commits it (see HookLookup): a run is only
    // created for a workflow that is still there, enabled and, if asked, configured as the request was checked.
    jdbc.sql(
            """
            WITH run AS (
              INSERT INTO workflow_runs (workflow_id, user_id, status, trigger, payload, webhook_id, created_at)
              SELECT f.workflow_id, f.user_id, 'pending', f.trigger, f.payload::json, f.webhook_id, :now
                FROM unnest(:workflows::bigint[], :users::bigint[], :triggers::text[], :payloads::text[],
                            :webhook_ids::text[], :configs::text[])
                     AS f(workflow_id, user_id, trigger, payload, webhook_id, config)
                JOIN workflows w ON w.id = f.workflow_id AND w.user_id = f.user_id AND w.enabled
                                AND (f.config IS NULL OR w.trigger_config = f.config::jsonb)
              RETURNING *
            ), job AS (
              INSERT INTO jobs (run_id, workflow_id, run_at, created_at)
              SELECT id, workflow_id, created_at, created_at FROM run
            )
            SELECT webhook_id,
            """
                + Run.COLUMNS
                + " FROM run")
        .param("workflows", workflows)
        .param("users", users)
        .param("triggers", triggers)
        .param("payloads", payloads)
        .param("webhook_ids", webhookIds)
        .param("configs", configs)
        .param("now", Timestamp.from(clock.instant()))
        .query(
            (rs, i) -> {
              byWebhookId.put(rs.getString("webhook_id"), Run.fromRow(rs, i));
              return null;
            })
        .list();
    return requests.stream().map(r -> byWebhookId.get(r.webhookId())).toList();
  }

  private Run insert(long workflowId, long userId, String trigger, String payload, Long replayOf, Instant now) {
    return jdbc.sql(INSERT_ONE)
        .param("workflow", workflowId)
        .param("user", userId)
        .param("trigger", trigger)
        .param("payload", payload)
        .param("replay_of", replayOf, Types.BIGINT)
        .param("now", Timestamp.from(now))
        .query(Run::fromRow)
        .single();
  }

  /**
   * Enqueues one run unless {@code key} was used on this workflow within 24 hours; then the run that request created
   * is returned instead. Two requests racing with one key get one run: the second waits on the key's unique index
   * until the first commits, then finds its run.
   */
  Enqueued enqueueIdempotent(long workflowId, long userId, String trigger, String payload, String key) {
    Enqueued result =
        transactions.execute(
            status -> {
              Instant now = clock.instant();
              boolean claimed =
                  jdbc.sql(
                              """
                              INSERT INTO idempotency_keys (workflow_id, key, created_at) VALUES (:workflow, :key, :now)
                              ON CONFLICT (workflow_id, key) DO UPDATE SET created_at = EXCLUDED.created_at, run_id = NULL
                               WHERE idempotency_keys.created_at < :expired
                              RETURNING 1
                              """)
                          .param("workflow", workflowId)
                          .param("key", key)
                          .param("now", Timestamp.from(now))
                          .param("expired", Timestamp.from(now.minus(IDEMPOTENCY_WINDOW)))
                          .query(Integer.class)
                          .optional()
                          .isPresent();
              if (!claimed) {
                Run earlier =
                    jdbc.sql(
                            "SELECT " + Run.COLUMNS + " FROM workflow_runs WHERE id ="
                                + " (SELECT run_id FROM idempotency_keys WHERE workflow_id = :workflow AND key = :key)")
                        .param("workflow", workflowId)
                        .param("key", key)
                        .query(Run::fromRow)
                        .optional()
                        .orElseThrow(
                            () ->
                                dev.kikonect.web.ApiException.conflict(
                                    "idempotency-key-reused", "The run this Idempotency-Key created no longer exists; use a new key."));
                return new Enqueued(earlier, true);
              }
              Run run = insert(workflowId, userId, trigger, payload, null, now);
              jdbc.sql("UPDATE idempotency_keys SET run_id = :run WHERE workflow_id = :workflow AND key = :key")
                  .param("run", run.id())
                  .param("workflow", workflowId)
                  .param("key", key)
                  .update();
              return new Enqueued(run, false);
            });
    if (!result.repeated()) {
      signal.wake();
    }
    return result;
  }

  /** The run a replay would copy, if it is the user's. */
  Optional<Run> replaySource(long userId, long runId) {
    return jdbc.sql("SELECT " + Run.COLUMNS + " FROM workflow_runs WHERE id = :id AND user_id = :user")
        .param("id", runId)
        .param("user", userId)
        .query(Run::fromRow)
        .optional();
  }

  /** A new run of the same workflow with the original's payload (or {@code payload}), linked by replay_of. */
  Optional<Run> replay(long userId, long runId, String payload) {
    Optional<Run> run =
        jdbc.sql(
                """
                WITH original AS (
                  SELECT r.workflow_id, r.user_id, r.trigger, r.payload FROM workflow_runs r
                   WHERE r.id = :id AND r.user_id = :user
                ), run AS (
                  INSERT INTO workflow_runs (workflow_id, user_id, status, trigger, payload, replay_of, created_at)
                  SELECT workflow_id, user_id, 'pending', trigger, coalesce(CAST(:payload AS json), payload), :id, :now
                    FROM original
                  RETURNING *
                ), job AS (
                  INSERT INTO jobs (run_id, workflow_id, run_at, created_at)
                  SELECT id, workflow_id, created_at, created_at FROM run
                )
                SELECT
                """
                    + Run.COLUMNS
                    + " FROM run")
            .param("id", runId)
            .param("user", userId)
            .param("payload", payload, Types.VARCHAR)
            .param("now", Timestamp.from(clock.instant()))
            .query(Run::fromRow)
            .optional();
    run.ifPresent(r -> signal.wake());
    return run;
  }

  /** Which runs a bulk replay takes; null fields do not filter. */
  record ReplayFilter(Long workflowId, String status, Instant createdAfter, Instant createdBefore) {}

  /** How many runs of this user's enabled workflows {@code filter} matches, counting at most {@code limit + 1}. */
  int countReplayable(long userId, ReplayFilter filter, int limit) {
    return jdbc.sql("SELECT count(*) FROM (SELECT 1 " + REPLAY_SOURCE + " LIMIT :limit) m")
        .params(replayParams(userId, filter))
        .param("limit", limit + 1)
        .query(Integer.class)
        .single();
  }

  /** Replays every run {@code filter} matches (the caller checked the count) in one statement. */
  int replayAll(long userId, ReplayFilter filter) {
    int replayed =
        jdbc.sql(
                """
                WITH run AS (
                  INSERT INTO workflow_runs (workflow_id, user_id, status, trigger, payload, replay_of, created_at)
                  SELECT r.workflow_id, r.user_id, 'pending', r.trigger, r.payload, r.id, :now
                """
                    + REPLAY_SOURCE
                    + """
                   ORDER BY r.id
                  RETURNING id, workflow_id, created_at
                )
                INSERT INTO jobs (run_id, workflow_id, run_at, created_at)
                SELECT id, workflow_id, created_at, created_at FROM run
                """)
            .params(replayParams(userId, filter))
            .param("now", Timestamp.from(clock.instant()))
            .update();
    signal.wake();
    return replayed;
  }

  private static final String REPLAY_SOURCE =
      """
        FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id AND w.enabled
       WHERE r.user_id = :user
         AND (CAST(:workflow AS bigint) IS NULL OR r.workflow_id = CAST(:workflow AS bigint))
         AND (CAST(:status AS text) IS NULL OR r.status = CAST(:status AS text))
         AND (CAST(:after AS timestamptz) IS NULL OR r.created_at >= CAST(:after AS timestamptz))
         AND (CAST(:before AS timestamptz) IS NULL OR r.created_at < CAST(:before AS timestamptz))
      """;

  private static java.util.Map<String, Object> replayParams(long userId, ReplayFilter f) {
    java.util.Map<String, Object> params = new java.util.HashMap<>();
    params.put("user", userId);
    params.put("workflow", new org.springframework.jdbc.core.SqlParameterValue(Types.BIGINT, f.workflowId()));
    params.put("status", new org.springframework.jdbc.core.SqlParameterValue(Types.VARCHAR, f.status()));
    params.put("after", new org.springframework.jdbc.core.SqlParameterValue(Types.TIMESTAMP, f.createdAfter() == null ? null : Timestamp.from(f.createdAfter())));
    params.put("before", new org.springframework.jdbc.core.SqlParameterValue(Types.TIMESTAMP, f.createdBefore() == null ? null : Timestamp.from(f.createdBefore())));
    return params;
  }

  /**
   * Enqueues many runs with one statement, inside the caller's transaction. The caller wakes the executor after its
   * commit (see {@link WorkSignal#wake()}).
   */
  public int enqueueAll(List<Firing> firings, Instant now) {
    if (firings.isEmpty()) {
      return 0;
    }
    int size = firings.size();
    long[] workflows = new long[size];
    long[] users = new long[size];
    String[] triggers = new String[size];
    String[] payloads = new String[size];
    String[] slots = new String[size];
    String[] skips = new String[size];
    for (int i = 0; i < size; i++) {
      Firing f = firings.get(i);
      workflows[i] = f.workflowId();
      users[i] = f.userId();
      triggers[i] = f.trigger();
      payloads[i] = f.payload();
      slots[i] = f.scheduledFor() == null ? null : f.scheduledFor().toString();
      skips[i] = f.skipReason();
    }
    return jdbc.sql(
            """
            WITH run AS (
              INSERT INTO workflow_runs (workflow_id, user_id, status, trigger, payload, scheduled_for, error,
                                         created_at, ended_at)
              SELECT f.workflow_id, f.user_id, CASE WHEN f.skip IS NULL THEN 'pending' ELSE 'skipped' END, f.trigger,
                     f.payload::json, f.slot, f.skip, CAST(:now AS timestamptz),
                     CASE WHEN f.skip IS NULL THEN NULL ELSE CAST(:now AS timestamptz) END
              FROM unnest(:workflows::bigint[], :users::bigint[], :triggers::text[], :payloads::text[],
                          :slots::timestamptz[], :skips::text[])
                   AS f(workflow_id, user_id, trigger, payload, slot, skip)
              ON CONFLICT (workflow_id, scheduled_for) WHERE scheduled_for IS NOT NULL DO NOTHING
              RETURNING id, workflow_id, status, created_at
            )
            INSERT INTO jobs (run_id, workflow_id, run_at, created_at)
            SELECT id, workflow_id, created_at, created_at FROM run WHERE status = 'pending'
            """)
        .param("workflows", workflows)
        .param("users", users)
        .param("triggers", triggers)
        .param("payloads", payloads)
        .param("slots", slots)
        .param("skips", skips)
        .param("now", Timestamp.from(now))
        .update();
  }
}
