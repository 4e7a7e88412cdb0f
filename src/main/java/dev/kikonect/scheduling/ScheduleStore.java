package dev.kikonect.scheduling;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Claims due interval and cron workflows and advances their next_run_at. Used inside the scheduler's transaction. */
@Repository
class ScheduleStore {

  /** A due workflow, locked by this transaction until it commits. */
  record Due(long id, long userId, String triggerType, String triggerConfig, String payload, Instant nextRunAt) {}

  private final JdbcClient jdbc;

  ScheduleStore(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  /** Locks up to {@code limit} due workflows; rows another scheduler holds are skipped, never waited for. */
  List<Due> claimDue(Instant now, int limit) {
    return jdbc.sql(
            """
            SELECT id, user_id, trigger_type, trigger_config::text AS trigger_config,
                   coalesce(trigger_config->'payload', '{}'::jsonb)::text AS payload, next_run_at
              FROM workflows
             WHERE enabled AND next_run_at <= :now AND trigger_type IN ('interval', 'cron')
             ORDER BY next_run_at
             LIMIT :limit
               FOR UPDATE SKIP LOCKED
            """)
        .param("now", Timestamp.from(now))
        .param("limit", limit)
        .query(
            (rs, n) ->
                new Due(
                    rs.getLong("id"),
                    rs.getLong("user_id"),
                    rs.getString("trigger_type"),
                    rs.getString("trigger_config"),
                    rs.getString("payload"),
                    rs.getTimestamp("next_run_at").toInstant()))
        .list();
  }

  /** One statement for the whole batch: each workflow gets its next fire time and last_fired_at = now. */
  void advance(long[] ids, String[] nextRunAts, Instant now) {
    jdbc.sql(
            """
            UPDATE workflows w
               SET next_run_at = u.next_run_at, last_fired_at = :now
              FROM unnest(:ids::bigint[], :nexts::timestamptz[]) AS u(id, next_run_at)
             WHERE w.id = u.id
            """)
        .param("ids", ids)
        .param("nexts", nextRunAts)
        .param("now", Timestamp.from(now))
        .update();
  }
}
