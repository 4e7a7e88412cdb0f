package dev.kikonect.lifecycle;

import dev.kikonect.common.Batcher;
import dev.kikonect.common.DatabaseHealth;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Webhook and manual triggers: a run and its job, inserted by ONE statement (never a run without a job or a job
 * without a run). Concurrent requests are gathered by a {@link Batcher} into one statement and one commit, and each
 * caller returns only once that commit is durable (micro-batched ingest: many webhooks, one fsync).
 */
@Component
public class Ingest {

    /**
     * One request to enqueue. With an {@code expectedConfig} the run is inserted only if the workflow's
     * trigger_config still is exactly that (what the request was checked against).
     */
    private record Request(
            long workflowId,
            long workspaceId,
            String trigger,
            String payload,
            String webhookId,
            String expectedConfig,
            String outcome,
            String error,
            String request,
            String expectedVersion) {}

    /**
     * How long a request's run may wait for the group commit to take it. Past that it is dropped, never written, and
     * the sender gets 503 with nothing stored. A 202 always means stored.
     */
    static final Duration DEADLINE = Duration.ofSeconds(2);

    private final JdbcClient jdbc;
    private final Clock clock;
    private final WorkSignal signal;
    private final Batcher<Request, Run> batcher;
    private final DatabaseHealth health;

    private final MeterRegistry meters;

    Ingest(JdbcClient jdbc, Clock clock, WorkSignal signal, MeterRegistry meters, DatabaseHealth health) {
        this.meters = meters;
        this.health = health;
        this.jdbc = jdbc;
        this.clock = clock;
        this.signal = signal;
        this.batcher = new Batcher<>(
                "kikonect-ingest",
                500,
                this::insertObserved,
                r -> insertObserved(List.of(r)).get(0),
                meters);
    }

    /**
     * Enqueues one run and wakes this node's executor. Returns once the run is committed (durably). Empty, and nothing
     * enqueued, when the workflow is no longer enabled (paused or deleted meanwhile) or, with an {@code
     * expectedConfig}, its trigger_config is no longer that one.
     */
    public Optional<Run> enqueueIfCurrent(
            long workflowId, long workspaceId, String trigger, String payload, String expectedConfig) {
        return enqueueIfCurrent(workflowId, workspaceId, trigger, payload, expectedConfig, null, null, null, null);
    }

    /**
     * As {@link #enqueueIfCurrent(long, long, String, String, String)}; with an {@code outcome} (filtered, or failed
     * with {@code error}: the workflow's filter said no, or failed) the run is recorded finished, with no job. {@code
     * request}: the incoming request's {headers, query} as JSON, kept for steps whose expressions read them (or null).
     * With an {@code expectedVersion} (the workflow's updated_at as the caller read it) the run is inserted only if the
     * workflow was not changed since: its filter and steps decided what was checked and kept for this request.
     */
    public Optional<Run> enqueueIfCurrent(
            long workflowId,
            long workspaceId,
            String trigger,
            String payload,
            String expectedConfig,
            RunStatus outcome,
            String error,
            String request,
            Instant expectedVersion) {
        health.requireUp(); // a database that does not answer gets no queue of requests behind it: 503 at once
        Run run = batcher.call(
                new Request(
                        workflowId,
                        workspaceId,
                        trigger,
                        payload,
                        newWebhookId(),
                        expectedConfig,
                        outcome == null ? null : outcome.wire(),
                        error,
                        request,
                        expectedVersion == null ? null : expectedVersion.toString()),
                DEADLINE);
        if (run != null && outcome != null) {
            Counter.builder("kikonect.runs")
                    .description("Runs that ended, by trigger and outcome")
                    .tags("trigger", trigger, "outcome", outcome.wire())
                    .register(meters)
                    .increment();
            return Optional.of(run);
        }
        if (run != null) {
            signal.wake();
        }
        return Optional.ofNullable(run);
    }

    /** Writes a batch; a write the database refuses (disk full, read-only) turns readiness down for a while. */
    private List<Run> insertObserved(List<Request> requests) {
        try {
            return insertAll(requests);
        } catch (RuntimeException e) {
            health.observe(e);
            throw e;
        }
    }

    @PreDestroy
    void close() {
        batcher.close();
    }

    private static String newWebhookId() {
        return "msg_" + UUID.randomUUID().toString().replace("-", "");
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
        String[] outcomes = new String[n];
        String[] errors = new String[n];
        String[] requestContexts = new String[n];
        String[] versions = new String[n];
        for (int i = 0; i < n; i++) {
            Request r = requests.get(i);
            workflows[i] = r.workflowId();
            users[i] = r.workspaceId();
            triggers[i] = r.trigger();
            payloads[i] = r.payload();
            webhookIds[i] = r.webhookId();
            configs[i] = r.expectedConfig();
            outcomes[i] = r.outcome();
            errors[i] = r.error();
            requestContexts[i] = r.request();
            versions[i] = r.expectedVersion();
        }
        Map<String, Run> byWebhookId = new HashMap<>();
        // The join re-checks each request's workflow in the statement that commits it (see trigger/HookLookup): a run
        // is only created for a workflow that is still there, enabled and, if asked, configured as the request was
        // checked.
        jdbc.sql("""
            WITH run AS (
              INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, webhook_id, error, created_at, ended_at,
                                         open_steps, request, filter_failed)
              SELECT f.workflow_id, f.workspace_id, coalesce(f.outcome, 'pending'), f.trigger, f.payload::json, f.webhook_id,
                     f.error, :now, CASE WHEN f.outcome IS NULL THEN NULL ELSE CAST(:now AS timestamptz) END,
                     CASE WHEN f.outcome IS NULL THEN CASE WHEN w.tracked THEN jsonb_array_length(w.steps) END END, f.request::jsonb,
                     f.outcome IS NOT DISTINCT FROM 'failed' -- a run decided at ingest fails only by its filter
                FROM unnest(:workflows::bigint[], :users::bigint[], :triggers::text[], :payloads::text[],
                            :webhook_ids::text[], :configs::text[], :outcomes::text[], :errors::text[], :requests::text[],
                            :versions::timestamptz[])
                     AS f(workflow_id, workspace_id, trigger, payload, webhook_id, config, outcome, error, request, version)
                JOIN workflows w ON w.id = f.workflow_id AND w.workspace_id = f.workspace_id AND w.enabled
                                AND (f.config IS NULL OR w.trigger_config = f.config::jsonb)
                                AND (f.version IS NULL OR w.updated_at = f.version)
              RETURNING *
            )
            """ + RunSteps.START + """
            SELECT webhook_id,
            """ + Run.COLUMNS + " FROM run")
                .param("workflows", workflows)
                .param("users", users)
                .param("triggers", triggers)
                .param("payloads", payloads)
                .param("webhook_ids", webhookIds)
                .param("configs", configs)
                .param("outcomes", outcomes)
                .param("errors", errors)
                .param("requests", requestContexts)
                .param("versions", versions)
                .param("now", Timestamp.from(clock.instant()))
                .query((rs, i) -> {
                    byWebhookId.put(rs.getString("webhook_id"), Run.fromRow(rs, i));
                    return null;
                })
                .list();
        return requests.stream().map(r -> byWebhookId.get(r.webhookId())).toList();
    }
}
