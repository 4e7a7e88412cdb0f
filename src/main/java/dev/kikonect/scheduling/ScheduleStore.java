package dev.kikonect.scheduling;

import dev.kikonect.lifecycle.RunStatus;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Claims due interval and cron workflows and advances their next_run_at. Used inside the scheduler's transaction. */
@Repository
class ScheduleStore {

    /**
     * A due workflow, locked by this transaction until it commits. {@code busy}: its overlap policy is skip and an
     * earlier run is still pending, running or retrying.
     */
    record Due(
            long id,
            long workspaceId,
            String triggerType,
            String triggerConfig,
            String payload,
            Instant nextRunAt,
            String misfire,
            boolean busy) {}

    private final JdbcClient jdbc;

    ScheduleStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * Locks up to {@code limit} workflows due at {@code now}; rows another scheduler holds are skipped, never waited
     * for. {@code now} is truncated to the database's microseconds (PostgreSQL would round it, possibly up: a slot
     * could then be claimed before it is due).
     */
    List<Due> claimDue(Instant now, int limit) {
        return jdbc.sql("""
            SELECT w.id, w.workspace_id, w.trigger_type, w.trigger_config::text AS trigger_config,
                   coalesce(w.trigger_config->'payload', '{}'::jsonb)::text AS payload, w.next_run_at, w.misfire,
                   CASE WHEN w.overlap = 'skip' THEN EXISTS (
                     SELECT 1 FROM workflow_runs r
                      WHERE r.workflow_id = w.id AND r.status IN """ + RunStatus.ACTIVE_SQL + """
                   ) ELSE false END AS busy
              FROM workflows w
             WHERE w.enabled AND w.next_run_at <= :now AND w.trigger_type IN ('interval', 'cron')
             ORDER BY w.next_run_at
             LIMIT :limit
               FOR UPDATE OF w SKIP LOCKED
            """)
                .param("now", Timestamp.from(now.truncatedTo(ChronoUnit.MICROS)))
                .param("limit", limit)
                .query((rs, n) -> new Due(
                        rs.getLong("id"),
                        rs.getLong("workspace_id"),
                        rs.getString("trigger_type"),
                        rs.getString("trigger_config"),
                        rs.getString("payload"),
                        rs.getTimestamp("next_run_at").toInstant(),
                        rs.getString("misfire"),
                        rs.getBoolean("busy")))
                .list();
    }

    /**
     * One statement for the whole batch: each workflow gets its next fire time; those that fired also get
     * last_fired_at = now.
     */
    void advance(long[] ids, String[] nextRunAts, boolean[] fired, Instant now) {
        Boolean[] firedBoxed = new Boolean[fired.length];
        for (int i = 0; i < fired.length; i++) {
            firedBoxed[i] = fired[i];
        }
        jdbc.sql("""
            UPDATE workflows w
               SET next_run_at = u.next_run_at,
                   last_fired_at = CASE WHEN u.fired THEN :now ELSE w.last_fired_at END
              FROM unnest(:ids::bigint[], :nexts::timestamptz[], :fired::boolean[]) AS u(id, next_run_at, fired)
             WHERE w.id = u.id
            """)
                .param("ids", ids)
                .param("nexts", nextRunAts)
                .param("fired", firedBoxed)
                .param("now", Timestamp.from(now))
                .update();
    }
}
