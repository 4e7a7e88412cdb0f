package dev.kikonect.audit;

import dev.kikonect.common.Page;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import tools.jackson.databind.json.JsonMapper;

/**
 * The audit log (owner of {@code audit_log}). {@link #record} is called inside the transaction of the change it
 * describes, so that a change that rolls back leaves no entry and no change is committed without one. Entries are
 * never updated or deleted, except by retention ({@link AuditRetention}).
 */
@Repository
public class AuditLog {

    /** What a secret field is shown as in {@code changes}. */
    public static final String CHANGED = "[changed]";

    private final JdbcClient jdbc;
    private final Clock clock;
    private final JsonMapper json = JsonMapper.builder().build();

    AuditLog(JdbcClient jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.clock = clock;
    }

    /** One entry as the API shows it. */
    public record Entry(
            long id,
            Long workspaceId,
            Map<String, Object> actor,
            String action,
            String objectType,
            String objectId,
            String client,
            Object changes,
            Instant at) {}

    /**
     * Records {@code action} on {@code objectType}/{@code objectId}; {@code changes} (may be null) is a map of field to
     * {@code {before, after}}, or to {@link #CHANGED} for a secret.
     */
    public void record(Actor actor, String action, String objectType, Object objectId, Map<String, ?> changes) {
        jdbc.sql("""
            INSERT INTO audit_log (workspace_id, actor_user, actor_key, actor, action, object_type, object_id, client, changes, at)
            VALUES (:workspace, :user, :key, :label, :action, :type, :object, :client, CAST(:changes AS jsonb), :at)
            """)
                .param("workspace", actor.workspaceId(), Types.BIGINT)
                .param("user", actor.userId(), Types.BIGINT)
                .param("key", actor.keyId(), Types.BIGINT)
                .param("label", actor.label())
                .param("action", action)
                .param("type", objectType)
                .param("object", objectId == null ? null : objectId.toString(), Types.VARCHAR)
                .param("client", actor.client(), Types.VARCHAR)
                .param(
                        "changes",
                        changes == null || changes.isEmpty() ? null : json.writeValueAsString(changes),
                        Types.VARCHAR)
                .param("at", Timestamp.from(clock.instant()))
                .update();
    }

    /**
     * The differences between two views of an object: every key whose value differs, as {@code {before, after}}; keys
     * in {@code secret} as {@link #CHANGED} (and only when they changed).
     */
    public static Map<String, Object> diff(Map<String, ?> before, Map<String, ?> after, Set<String> secret) {
        Map<String, Object> changes = new LinkedHashMap<>();
        Set<String> keys = new LinkedHashSet<>();
        if (before != null) {
            keys.addAll(before.keySet());
        }
        if (after != null) {
            keys.addAll(after.keySet());
        }
        for (String key : keys) {
            Object was = before == null ? null : before.get(key);
            Object is = after == null ? null : after.get(key);
            if (Objects.equals(was, is)) {
                continue;
            }
            if (secret.contains(key)) {
                changes.put(key, CHANGED);
            } else {
                Map<String, Object> change = new LinkedHashMap<>();
                change.put("before", was);
                change.put("after", is);
                changes.put(key, change);
            }
        }
        return changes;
    }

    /** Filters of {@code GET /audit}; null means any. */
    public record Filter(String actor, String action, String objectType, String objectId, Instant from, Instant to) {}

    /** A page of the workspace's entries, newest first. */
    public Page<Entry> list(long workspaceId, Filter f, String cursor, int limit) {
        List<Entry> rows = jdbc.sql("""
                SELECT id, workspace_id, actor_user, actor_key, actor, action, object_type, object_id, client, changes::text AS changes, at
                  FROM audit_log
                 WHERE workspace_id = :workspace AND id < :before
                   AND (CAST(:actor AS text) IS NULL OR actor = :actor OR CAST(actor_user AS text) = :actor OR 'key:' || actor_key = :actor)
                   AND (CAST(:action AS text) IS NULL OR action = :action OR action LIKE :action || '.%')
                   AND (CAST(:type AS text) IS NULL OR object_type = :type)
                   AND (CAST(:object AS text) IS NULL OR object_id = :object)
                   AND (CAST(:from AS timestamptz) IS NULL OR at >= CAST(:from AS timestamptz))
                   AND (CAST(:to AS timestamptz) IS NULL OR at < CAST(:to AS timestamptz))
                 ORDER BY id DESC
                 LIMIT :limit
                """)
                .param("workspace", workspaceId)
                .param("before", Page.before(cursor))
                .param("actor", f.actor(), Types.VARCHAR)
                .param("action", f.action(), Types.VARCHAR)
                .param("type", f.objectType(), Types.VARCHAR)
                .param("object", f.objectId(), Types.VARCHAR)
                .param("from", f.from() == null ? null : Timestamp.from(f.from()), Types.TIMESTAMP)
                .param("to", f.to() == null ? null : Timestamp.from(f.to()), Types.TIMESTAMP)
                .param("limit", limit + 1)
                .query(this::entry)
                .list();
        return Page.of(rows, limit, Entry::id);
    }

    /** Deletes entries older than {@code cutoff}, at most {@code batch} at a time; returns how many. */
    int prune(Instant cutoff, int batch) {
        return jdbc.sql("DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < :cutoff LIMIT :batch)")
                .param("cutoff", Timestamp.from(cutoff))
                .param("batch", batch)
                .update();
    }

    private Entry entry(ResultSet rs, int n) throws SQLException {
        Map<String, Object> actor = new LinkedHashMap<>();
        long user = rs.getLong("actor_user");
        actor.put("user_id", rs.wasNull() ? null : user);
        long key = rs.getLong("actor_key");
        actor.put("api_key_id", rs.wasNull() ? null : key);
        actor.put("name", rs.getString("actor"));
        String changes = rs.getString("changes");
        long workspace = rs.getLong("workspace_id");
        return new Entry(
                rs.getLong("id"),
                rs.wasNull() ? null : workspace,
                actor,
                rs.getString("action"),
                rs.getString("object_type"),
                rs.getString("object_id"),
                rs.getString("client"),
                changes == null ? null : json.readValue(changes, Object.class),
                rs.getTimestamp("at").toInstant());
    }
}
