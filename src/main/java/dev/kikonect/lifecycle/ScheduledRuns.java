package dev.kikonect.lifecycle;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/** The scheduler's firings: many runs, one statement, inside the scheduler's transaction. */
@Component
public class ScheduledRuns {

    /**
     * One firing. {@code payload} is JSON text; {@code scheduledFor} is its slot (at most one run per slot); with a
     * {@code skipReason} the run is recorded as skipped and nothing is delivered.
     */
    public record Firing(
            long workflowId,
            long workspaceId,
            String trigger,
            String payload,
            Instant scheduledFor,
            String skipReason) {
        /** A firing outside any schedule (no slot, not skipped). */
        public Firing(long workflowId, long workspaceId, String trigger, String payload) {
            this(workflowId, workspaceId, trigger, payload, null, null);
        }
    }

    private final JdbcClient jdbc;

    ScheduledRuns(JdbcClient jdbc) {
        this.jdbc = jdbc;
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
            users[i] = f.workspaceId();
            triggers[i] = f.trigger();
            payloads[i] = f.payload();
            slots[i] = f.scheduledFor() == null ? null : f.scheduledFor().toString();
            skips[i] = f.skipReason();
        }
        return jdbc.sql("""
            WITH f AS (
              SELECT * FROM unnest(:workflows::bigint[], :users::bigint[], :triggers::text[], :payloads::text[],
                                   :slots::timestamptz[], :skips::text[]) WITH ORDINALITY
                         AS f(workflow_id, workspace_id, trigger, payload, slot, skip, n)
            ), slot AS (
              -- at most one run per slot: the slot's row is taken in the same statement as its run
              INSERT INTO schedule_slots (workflow_id, scheduled_for)
              SELECT workflow_id, slot FROM f WHERE slot IS NOT NULL
              ON CONFLICT DO NOTHING
              RETURNING workflow_id, scheduled_for
            ), run AS (
              INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, scheduled_for, error,
                                         created_at, ended_at, open_steps)
              SELECT f.workflow_id, f.workspace_id, CASE WHEN f.skip IS NULL THEN 'pending' ELSE 'skipped' END, f.trigger,
                     f.payload::json, f.slot, f.skip, CAST(:now AS timestamptz),
                     CASE WHEN f.skip IS NULL THEN NULL ELSE CAST(:now AS timestamptz) END,
                     CASE WHEN f.skip IS NULL
                          THEN (SELECT CASE WHEN w.tracked THEN jsonb_array_length(w.steps) END FROM workflows w WHERE w.id = f.workflow_id)
                     END
              FROM f
              WHERE f.slot IS NULL
                 OR (EXISTS (SELECT 1 FROM slot s WHERE s.workflow_id = f.workflow_id AND s.scheduled_for = f.slot)
                     AND NOT EXISTS (SELECT 1 FROM f e WHERE e.workflow_id = f.workflow_id AND e.slot = f.slot AND e.n < f.n))
              RETURNING id, workflow_id, status, open_steps, created_at
            )
            """ + RunSteps.START + """
            SELECT count(*) FROM run WHERE status = 'pending'
            """)
                .param("workflows", workflows)
                .param("users", users)
                .param("triggers", triggers)
                .param("payloads", payloads)
                .param("slots", slots)
                .param("skips", skips)
                .param("now", Timestamp.from(now))
                .query(Integer.class)
                .single();
    }
}
