package dev.kikonect.trigger;

import dev.kikonect.common.BackgroundLoop;
import dev.kikonect.steps.HookAnswers;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Webhook callers held until a step of their run has ended ({@code trigger_config.respond.mode = step}).
 *
 * <p>The run is stored (and its 202 could be given) before its caller is held: holding adds nothing a node's death
 * could lose; the caller then gets a broken connection, and the run goes on. A held caller is a request on a virtual
 * thread parked on a future (no platform thread, no database connection); one loop on this node asks the database, in
 * one statement every {@value #POLL_MS} ms while anyone is held, which of the held steps have ended, wherever they ran,
 * and wakes their callers. At most {@code kikonect.hooks.max-held} (200) callers are held per node and {@code
 * kikonect.hooks.max-held-per-workspace} (20) per workspace; past either, or past the hold's timeout, or when the node
 * stops, the caller gets the usual 202 at once.
 */
@Component
class HeldResponses extends BackgroundLoop {

    static final int POLL_MS = 20;

    /** What came of a hold. */
    enum Outcome {
        /** The step ended: its answer can be read. */
        ENDED,
        /** The step had not ended by the hold's timeout (or the node is stopping). */
        TIMED_OUT,
        /** Too many callers were held already (on this node, or of this workspace). */
        BUSY
    }

    private record Key(long runId, String step) {}

    private final JdbcClient jdbc;
    private final Semaphore slots;
    private final int perWorkspace;
    /** Callers held per workspace; an entry lives while it counts one at least, so there are at most max-held. */
    private final ConcurrentHashMap<Long, Integer> byWorkspace = new ConcurrentHashMap<>();

    private final ConcurrentHashMap<Key, List<CompletableFuture<Outcome>>> held = new ConcurrentHashMap<>();

    HeldResponses(
            JdbcClient jdbc,
            MeterRegistry meters,
            @Value("${kikonect.hooks.max-held:200}") int maxHeld,
            @Value("${kikonect.hooks.max-held-per-workspace:20}") int perWorkspace) {
        super("kikonect-held-responses", true);
        this.jdbc = jdbc;
        this.slots = new Semaphore(Math.max(0, maxHeld));
        this.perWorkspace = perWorkspace;
        Gauge.builder(
                        "kikonect.hooks.held",
                        held,
                        m -> m.values().stream().mapToInt(List::size).sum())
                .description(
                        "Webhook callers held for a step's answer on this node (bounded by kikonect.hooks.max-held)")
                .register(meters);
    }

    /** Holds the caller of run {@code runId} until its step {@code step} has ended, at most {@code timeout}. */
    Outcome await(long workspaceId, long runId, String step, Duration timeout) {
        if (!isRunning() || !slots.tryAcquire()) {
            return Outcome.BUSY;
        }
        try {
            boolean[] taken = {false};
            byWorkspace.compute(workspaceId, (id, n) -> {
                int now = n == null ? 0 : n;
                if (now >= perWorkspace) {
                    return n;
                }
                taken[0] = true;
                return now + 1;
            });
            if (!taken[0]) {
                return Outcome.BUSY;
            }
            try {
                return hold(new Key(runId, step), timeout);
            } finally {
                byWorkspace.computeIfPresent(workspaceId, (id, n) -> n <= 1 ? null : n - 1);
            }
        } finally {
            slots.release();
        }
    }

    private Outcome hold(Key key, Duration timeout) {
        CompletableFuture<Outcome> ended = new CompletableFuture<>();
        held.compute(key, (k, list) -> {
            List<CompletableFuture<Outcome>> out = list == null ? new CopyOnWriteArrayList<>() : list;
            out.add(ended);
            return out;
        });
        try {
            return ended.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return Outcome.TIMED_OUT;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Outcome.TIMED_OUT;
        } catch (ExecutionException e) {
            return Outcome.TIMED_OUT;
        } finally {
            held.computeIfPresent(key, (k, list) -> {
                list.remove(ended);
                return list.isEmpty() ? null : list;
            });
        }
    }

    @Override
    protected Duration runOnce() {
        if (held.isEmpty()) {
            return Duration.ofMillis(POLL_MS);
        }
        List<Key> keys = new ArrayList<>(held.keySet());
        long[] runs = keys.stream().mapToLong(Key::runId).toArray();
        String[] steps = keys.stream().map(Key::step).toArray(String[]::new);
        List<Key> ended = jdbc.sql("""
            SELECT h.run_id, h.step
              FROM unnest(:runs::bigint[], :steps::text[]) AS h(run_id, step)
              JOIN workflow_runs r ON r.id = h.run_id
              LEFT JOIN run_steps s ON s.run_id = h.run_id AND s.key = h.step
             WHERE s.status IN ('succeeded', 'failed', 'skipped', 'cancelled')
                OR r.status IN ('succeeded', 'failed', 'cancelled', 'filtered', 'skipped')
            """)
                .param("runs", runs)
                .param("steps", steps)
                .query((rs, n) -> new Key(rs.getLong("run_id"), rs.getString("step")))
                .list();
        for (Key key : ended) {
            List<CompletableFuture<Outcome>> waiting = held.get(key);
            if (waiting != null) {
                waiting.forEach(f -> f.complete(Outcome.ENDED));
            }
        }
        return Duration.ofMillis(POLL_MS);
    }

    /** The steps of run {@code runId} as its answer reads them: all of them (responses up to 1 MiB in all), or one. */
    Map<String, HookAnswers.StepEnd> steps(long runId, String only) {
        Map<String, HookAnswers.StepEnd> out = new LinkedHashMap<>();
        jdbc.sql("""
            SELECT key, status, response_status, response_headers::text AS response_headers, error,
                   CASE WHEN sum(coalesce(octet_length(response_body), 0)) OVER (ORDER BY position) <= :cap
                        THEN response_body END AS response_body
              FROM run_steps WHERE run_id = :run AND item_of IS NULL AND (CAST(:only AS text) IS NULL OR key = :only)
             ORDER BY position
            """)
                .param("run", runId)
                .param("only", only, Types.VARCHAR)
                .param("cap", 1 << 20)
                .query((rs, n) -> out.put(
                        rs.getString("key"),
                        new HookAnswers.StepEnd(
                                rs.getString("status"),
                                (Integer) rs.getObject("response_status"),
                                rs.getString("response_headers"),
                                rs.getString("response_body"),
                                rs.getString("error"))))
                .list();
        return out;
    }

    /** Stopping: every held caller gets its 202 now (the run goes on) rather than when the server is gone. */
    @Override
    public synchronized void stop() {
        super.stop();
        held.values().forEach(list -> list.forEach(f -> f.complete(Outcome.TIMED_OUT)));
    }

    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 100; // stops before the web server's graceful shutdown waits for requests
    }
}
