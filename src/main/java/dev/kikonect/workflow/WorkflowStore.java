package dev.kikonect.workflow;

import dev.kikonect.common.QuotaLock;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

@Repository
class WorkflowStore {

    /** Every column a {@link StoredWorkflow} needs, from {@code workflows w}, with its latest run. */
    private static final String SELECT = """
      SELECT w.id, w.workspace_id, w.name, w.trigger_type, w.action_url, w.steps::text AS steps, w.keeps_request, w.trigger_config::text AS trigger_config,
             w.enabled, w.max_attempts, w.misfire, w.overlap, w.on_failure_url, w.filter, w.output, w.next_run_at, w.last_fired_at, w.created_at,
             w.updated_at, last.status AS last_run_status, last.created_at AS last_run_at
        FROM workflows w
        LEFT JOIN LATERAL (
          SELECT r.status, r.created_at FROM workflow_runs r WHERE r.workflow_id = w.id ORDER BY r.id DESC LIMIT 1
        ) last ON true
      """;

    private final JdbcClient jdbc;

    WorkflowStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** The settings of a workflow that create and update write. */
    record Settings(
            String name,
            TriggerType type,
            String actionUrl,
            String steps,
            boolean tracked,
            boolean keepsRequest,
            String triggerConfig,
            boolean enabled,
            Integer maxAttempts,
            String misfire,
            String overlap,
            String onFailureUrl,
            String filter,
            String output) {}

    /** Inserts the workflow unless its owner already has {@code maxWorkflows}; empty then (the quota). */
    Optional<Long> insert(
            long workspaceId, Settings s, String signingSecret, Instant nextRunAt, Instant now, int maxWorkflows) {
        QuotaLock.take(jdbc, "workflows", workspaceId);
        return jdbc.sql("""
            INSERT INTO workflows (workspace_id, name, trigger_type, action_url, steps, tracked, keeps_request, trigger_config, enabled, max_attempts,
                                   misfire, overlap, on_failure_url, filter, output, signing_secret, next_run_at, created_at,
                                   updated_at)
            SELECT :workspace, :name, :type, CAST(:url AS text), :steps::jsonb, :tracked, :keeps_request, :config::jsonb, :enabled, CAST(:max_attempts AS int), :misfire,
                   :overlap, CAST(:on_failure AS text), CAST(:filter AS text), CAST(:output AS text), :secret,
                   CAST(:next AS timestamptz), :now, :now
             WHERE (SELECT count(*) FROM workflows WHERE workspace_id = :workspace) < :max_workflows
            RETURNING id
            """)
                .param("max_workflows", maxWorkflows)
                .param("workspace", workspaceId)
                .param("name", s.name())
                .param("type", s.type().wire())
                .param("url", s.actionUrl(), Types.VARCHAR)
                .param("steps", s.steps())
                .param("tracked", s.tracked())
                .param("keeps_request", s.keepsRequest())
                .param("config", s.triggerConfig())
                .param("enabled", s.enabled())
                .param("max_attempts", s.maxAttempts(), Types.INTEGER)
                .param("misfire", s.misfire())
                .param("overlap", s.overlap())
                .param("on_failure", s.onFailureUrl(), Types.VARCHAR)
                .param("filter", s.filter(), Types.VARCHAR)
                .param("output", s.output(), Types.VARCHAR)
                .param("secret", signingSecret)
                .param("next", nextRunAt == null ? null : Timestamp.from(nextRunAt), Types.TIMESTAMP)
                .param("now", Timestamp.from(now))
                .query(Long.class)
                .optional();
    }

    /**
     * Writes new settings if the row is still as it was read ({@code readAt} = its updated_at): false when someone
     * else changed it in between. {@code reschedule}: next_run_at becomes {@code nextRunAt}; otherwise the
     * scheduler's value stands.
     */
    boolean update(
            long workspaceId, long id, Instant readAt, Settings s, boolean reschedule, Instant nextRunAt, Instant now) {
        return jdbc.sql("""
                UPDATE workflows
                   SET name = :name, action_url = CAST(:url AS text), steps = :steps::jsonb, tracked = :tracked,
                       keeps_request = :keeps_request, trigger_config = :config::jsonb, enabled = :enabled,
                       max_attempts = CAST(:max_attempts AS int), misfire = :misfire, overlap = :overlap,
                       on_failure_url = CAST(:on_failure AS text), filter = CAST(:filter AS text),
                       output = CAST(:output AS text),
                       next_run_at = CASE WHEN :reschedule THEN CAST(:next AS timestamptz) ELSE next_run_at END,
                       updated_at = :now
                 WHERE id = :id AND workspace_id = :workspace AND updated_at = :read_at
                """)
                        .param("name", s.name())
                        .param("url", s.actionUrl(), Types.VARCHAR)
                        .param("steps", s.steps())
                        .param("tracked", s.tracked())
                        .param("keeps_request", s.keepsRequest())
                        .param("config", s.triggerConfig())
                        .param("enabled", s.enabled())
                        .param("max_attempts", s.maxAttempts(), Types.INTEGER)
                        .param("misfire", s.misfire())
                        .param("overlap", s.overlap())
                        .param("on_failure", s.onFailureUrl(), Types.VARCHAR)
                        .param("filter", s.filter(), Types.VARCHAR)
                        .param("output", s.output(), Types.VARCHAR)
                        .param("reschedule", reschedule)
                        .param("next", nextRunAt == null ? null : Timestamp.from(nextRunAt), Types.TIMESTAMP)
                        .param("now", Timestamp.from(now))
                        .param("id", id)
                        .param("workspace", workspaceId)
                        .param("read_at", Timestamp.from(readAt))
                        .update()
                == 1;
    }

    /** Deletes the workflow with its runs, attempts and queued jobs. */
    boolean delete(long workspaceId, long id) {
        return jdbc.sql("DELETE FROM workflows WHERE id = :id AND workspace_id = :workspace")
                        .param("id", id)
                        .param("workspace", workspaceId)
                        .update()
                == 1;
    }

    /** The trigger types of those of {@code ids} that are workflows of the workspace, by id. */
    Map<Long, TriggerType> triggerTypes(long workspaceId, long[] ids) {
        Map<Long, TriggerType> out = new HashMap<>();
        jdbc.sql("SELECT id, trigger_type FROM workflows WHERE workspace_id = :workspace AND id = ANY(:ids::bigint[])")
                .param("workspace", workspaceId)
                .param("ids", ids)
                .query((rs, n) -> out.put(
                        rs.getLong("id"),
                        TriggerType.fromWire(rs.getString("trigger_type")).orElseThrow()))
                .list();
        return out;
    }

    Optional<StoredWorkflow> findOwned(long workspaceId, long id) {
        return jdbc.sql(SELECT + " WHERE w.id = :id AND w.workspace_id = :workspace")
                .param("id", id)
                .param("workspace", workspaceId)
                .query(WorkflowStore::row)
                .optional();
    }

    /** Newest first, {@code limit + 1} rows below {@code beforeId}, optionally of one trigger type or enabled state. */
    List<StoredWorkflow> list(long workspaceId, String triggerType, Boolean enabled, long beforeId, int limit) {
        return jdbc.sql(SELECT + """
                 WHERE w.workspace_id = :workspace AND w.id < :before
                   AND (CAST(:type AS text) IS NULL OR w.trigger_type = CAST(:type AS text))
                   AND (CAST(:enabled AS boolean) IS NULL OR w.enabled = CAST(:enabled AS boolean))
                 ORDER BY w.id DESC LIMIT :limit
                """)
                .param("workspace", workspaceId)
                .param("before", beforeId)
                .param("type", triggerType, Types.VARCHAR)
                .param("enabled", enabled, Types.BOOLEAN)
                .param("limit", limit + 1)
                .query(WorkflowStore::row)
                .list();
    }

    /**
     * Replaces the signing secret; the old one keeps signing alongside until {@code previousValidUntil}, so that
     * receivers can switch without dropping deliveries. Empty when the workflow is not the user's.
     */
    Optional<Instant> rotateSecret(
            long workspaceId, long id, String newSecret, Instant previousValidUntil, Instant now) {
        return jdbc.sql("""
            UPDATE workflows
               SET previous_signing_secret = signing_secret, previous_secret_expires_at = :until,
                   signing_secret = :secret, updated_at = :now
             WHERE id = :id AND workspace_id = :workspace
            RETURNING previous_secret_expires_at
            """)
                .param("until", Timestamp.from(previousValidUntil))
                .param("secret", newSecret)
                .param("now", Timestamp.from(now))
                .param("id", id)
                .param("workspace", workspaceId)
                .query((rs, n) -> rs.getTimestamp(1).toInstant())
                .optional();
    }

    /** Gives a webhook workflow a new token; the old URL stops working with this commit. */
    boolean rotateToken(long workspaceId, long id, String token, Instant now) {
        return jdbc.sql("""
                UPDATE workflows SET trigger_config = jsonb_set(trigger_config, '{token}', to_jsonb(CAST(:token AS text))),
                                     updated_at = :now
                 WHERE id = :id AND workspace_id = :workspace AND trigger_type = 'webhook'
                """)
                        .param("token", token)
                        .param("now", Timestamp.from(now))
                        .param("id", id)
                        .param("workspace", workspaceId)
                        .update()
                == 1;
    }

    Optional<StoredWorkflow> findByWebhookToken(String token) {
        return jdbc.sql("""
            SELECT w.id, w.workspace_id, w.name, w.trigger_type, w.action_url, w.steps::text AS steps, w.keeps_request, w.trigger_config::text AS trigger_config,
                   w.enabled, w.max_attempts, w.misfire, w.overlap, w.on_failure_url, w.filter, w.output, w.next_run_at, w.last_fired_at, w.created_at,
                   w.updated_at, NULL AS last_run_status, NULL AS last_run_at
              FROM workflows w
             WHERE w.trigger_type = 'webhook' AND w.trigger_config->>'token' = :token
            """).param("token", token).query(WorkflowStore::row).optional();
    }

    static StoredWorkflow row(ResultSet rs, int n) throws SQLException {
        return new StoredWorkflow(
                rs.getLong("id"),
                rs.getLong("workspace_id"),
                rs.getString("name"),
                TriggerType.fromWire(rs.getString("trigger_type")).orElseThrow(),
                rs.getString("action_url"),
                rs.getString("steps"),
                rs.getBoolean("keeps_request"),
                rs.getString("trigger_config"),
                rs.getBoolean("enabled"),
                (Integer) rs.getObject("max_attempts"),
                rs.getString("misfire"),
                rs.getString("overlap"),
                rs.getString("on_failure_url"),
                rs.getString("filter"),
                rs.getString("output"),
                instant(rs, "next_run_at"),
                instant(rs, "last_fired_at"),
                rs.getString("last_run_status"),
                instant(rs, "last_run_at"),
                instant(rs, "created_at"),
                instant(rs, "updated_at"));
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        Timestamp ts = rs.getTimestamp(column);
        return ts == null ? null : ts.toInstant();
    }
}
