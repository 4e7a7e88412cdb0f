package dev.kikonect.credentials;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** The credentials table, always scoped to the owner. Secrets go in and out sealed; this class never opens one. */
@Repository
class CredentialStore {

    /** A row. {@code secret} is sealed. */
    record Row(
            long id,
            long workspaceId,
            String name,
            String type,
            String fields,
            MasterKeys.Sealed secret,
            Instant createdAt,
            Instant updatedAt,
            Instant lastUsedAt,
            List<String> allowedHosts) {}

    private static final String COLUMNS =
            "id, workspace_id, name, type, fields::text AS fields, secret, key_id, created_at, updated_at, last_used_at, allowed_hosts";

    private final JdbcClient jdbc;

    CredentialStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** The id the next credential gets: a secret is sealed with its record's id, so the id comes first. */
    long nextId() {
        return jdbc.sql("SELECT nextval(pg_get_serial_sequence('credentials', 'id'))")
                .query(Long.class)
                .single();
    }

    /** Inserts unless the owner already has a credential of that name (empty then). */
    boolean insert(
            long id,
            long workspaceId,
            String name,
            String type,
            String fields,
            MasterKeys.Sealed secret,
            List<String> hosts,
            Instant now) {
        return jdbc.sql("""
                INSERT INTO credentials (id, workspace_id, name, type, fields, secret, key_id, created_at, updated_at, allowed_hosts)
                VALUES (:id, :workspace, :name, :type, :fields::jsonb, :secret, :key_id, :now, :now, :hosts::text[])
                ON CONFLICT (workspace_id, name) DO NOTHING
                """)
                        .param("id", id)
                        .param("workspace", workspaceId)
                        .param("name", name)
                        .param("type", type)
                        .param("fields", fields)
                        .param("secret", secret.bytes())
                        .param("key_id", secret.keyId())
                        .param("hosts", hosts.toArray(String[]::new))
                        .param("now", Timestamp.from(now))
                        .update()
                == 1;
    }

    int count(long workspaceId) {
        return jdbc.sql("SELECT count(*) FROM credentials WHERE workspace_id = :workspace")
                .param("workspace", workspaceId)
                .query(Integer.class)
                .single();
    }

    List<Row> list(long workspaceId) {
        return jdbc.sql("SELECT " + COLUMNS + " FROM credentials WHERE workspace_id = :workspace ORDER BY name")
                .param("workspace", workspaceId)
                .query(CredentialStore::row)
                .list();
    }

    Optional<Row> find(long workspaceId, long id) {
        return jdbc.sql("SELECT " + COLUMNS + " FROM credentials WHERE id = :id AND workspace_id = :workspace")
                .param("id", id)
                .param("workspace", workspaceId)
                .query(CredentialStore::row)
                .optional();
    }

    Optional<Row> findByName(long workspaceId, String name) {
        return jdbc.sql("SELECT " + COLUMNS + " FROM credentials WHERE workspace_id = :workspace AND name = :name")
                .param("workspace", workspaceId)
                .param("name", name)
                .query(CredentialStore::row)
                .optional();
    }

    boolean replace(
            long workspaceId, long id, String fields, MasterKeys.Sealed secret, List<String> hosts, Instant now) {
        return jdbc.sql("""
                UPDATE credentials SET fields = :fields::jsonb, secret = :secret, key_id = :key_id, updated_at = :now,
                                       allowed_hosts = :hosts::text[]
                 WHERE id = :id AND workspace_id = :workspace
                """)
                        .param("fields", fields)
                        .param("secret", secret.bytes())
                        .param("key_id", secret.keyId())
                        .param("hosts", hosts.toArray(String[]::new))
                        .param("now", Timestamp.from(now))
                        .param("id", id)
                        .param("workspace", workspaceId)
                        .update()
                == 1;
    }

    /** Deletes the credential unless a workflow's step names it (checked in the same statement). */
    boolean deleteUnused(long workspaceId, long id) {
        return jdbc.sql("""
                DELETE FROM credentials c
                 WHERE c.id = :id AND c.workspace_id = :workspace
                   AND NOT EXISTS (SELECT 1 FROM workflows w WHERE w.workspace_id = :workspace
                                      AND w.steps @> jsonb_build_array(jsonb_build_object('credential', c.name)))
                """).param("id", id).param("workspace", workspaceId).update() == 1;
    }

    /** The owner's workflows with a step that names {@code name}: {id, name}. */
    List<Map<String, Object>> usedBy(long workspaceId, String name) {
        return jdbc.sql("""
            SELECT id, name FROM workflows
             WHERE workspace_id = :workspace AND steps @> jsonb_build_array(jsonb_build_object('credential', CAST(:name AS text)))
             ORDER BY id
            """)
                .param("workspace", workspaceId)
                .param("name", name)
                .query((rs, n) -> Map.<String, Object>of("id", rs.getLong("id"), "name", rs.getString("name")))
                .list();
    }

    /** Records a use, at most once a minute per credential (a delivery costs no write of its own). */
    void touch(long id, Instant now) {
        jdbc.sql("""
            UPDATE credentials SET last_used_at = :now
             WHERE id = :id AND (last_used_at IS NULL OR last_used_at < CAST(:now AS timestamptz) - interval '1 minute')
            """).param("id", id).param("now", Timestamp.from(now)).update();
    }

    /** The master keys the stored values are sealed with. */
    List<String> keyIds() {
        return jdbc.sql("SELECT DISTINCT key_id FROM credentials")
                .query(String.class)
                .list();
    }

    /** Up to {@code limit} values not sealed with {@code keyId}. */
    List<Row> sealedWithOtherThan(String keyId, int limit) {
        return jdbc.sql("SELECT " + COLUMNS + " FROM credentials WHERE key_id <> :key ORDER BY id LIMIT :limit")
                .param("key", keyId)
                .param("limit", limit)
                .query(CredentialStore::row)
                .list();
    }

    /** Replaces a value sealed with {@code oldKeyId} by {@code secret} (unless it changed meanwhile). */
    boolean reseal(long id, String oldKeyId, MasterKeys.Sealed secret) {
        return jdbc.sql("UPDATE credentials SET secret = :secret, key_id = :key_id WHERE id = :id AND key_id = :old")
                        .param("secret", secret.bytes())
                        .param("key_id", secret.keyId())
                        .param("id", id)
                        .param("old", oldKeyId)
                        .update()
                == 1;
    }

    private static Row row(ResultSet rs, int n) throws SQLException {
        return new Row(
                rs.getLong("id"),
                rs.getLong("workspace_id"),
                rs.getString("name"),
                rs.getString("type"),
                rs.getString("fields"),
                new MasterKeys.Sealed(rs.getString("key_id"), rs.getBytes("secret")),
                rs.getTimestamp("created_at").toInstant(),
                rs.getTimestamp("updated_at").toInstant(),
                rs.getTimestamp("last_used_at") == null
                        ? null
                        : rs.getTimestamp("last_used_at").toInstant(),
                List.of((String[]) rs.getArray("allowed_hosts").getArray()));
    }
}
