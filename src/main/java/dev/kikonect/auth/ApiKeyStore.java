package dev.kikonect.auth;

import dev.kikonect.common.QuotaLock;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Personal API keys, each known only by the SHA-256 of the key. */
@Repository
class ApiKeyStore {

    /** A key as its owner sees it in the list: never the key itself. */
    record ApiKey(
            long id,
            String name,
            String scope,
            String role,
            String prefix,
            Instant createdAt,
            Instant lastUsedAt,
            Instant expiresAt,
            long createdBy) {}

    private final JdbcClient jdbc;

    ApiKeyStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** Creates the key unless the user already has {@code maxKeys} unrevoked ones; empty then (the quota). */
    Optional<ApiKey> create(
            long workspaceId,
            long userId,
            String name,
            Scope scope,
            byte[] hash,
            String prefix,
            Instant expiresAt,
            Instant now,
            int maxKeys) {
        QuotaLock.take(jdbc, "api_keys", workspaceId);
        return jdbc.sql("""
            INSERT INTO api_keys (workspace_id, user_id, name, scope, key_hash, prefix, created_at, expires_at)
            SELECT :workspace, :user, :name, :scope, :hash, :prefix, :now, CAST(:expires AS timestamptz)
             WHERE (SELECT count(*) FROM api_keys WHERE workspace_id = :workspace AND revoked_at IS NULL) < :max_keys
            RETURNING id, name, scope, prefix, created_at, last_used_at, expires_at, user_id
            """)
                .param("workspace", workspaceId)
                .param("scope", scope.wire())
                .param("max_keys", maxKeys)
                .param("user", userId)
                .param("name", name)
                .param("hash", hash)
                .param("prefix", prefix)
                .param("now", Timestamp.from(now))
                .param("expires", expiresAt == null ? null : Timestamp.from(expiresAt), Types.TIMESTAMP)
                .query(ApiKeyStore::row)
                .optional();
    }

    List<ApiKey> list(long workspaceId) {
        return jdbc.sql(
                        "SELECT id, name, scope, prefix, created_at, last_used_at, expires_at, user_id FROM api_keys WHERE workspace_id = :workspace ORDER BY id DESC")
                .param("workspace", workspaceId)
                .query(ApiKeyStore::row)
                .list();
    }

    int deleteMadeBy(long workspaceId, long userId) {
        return jdbc.sql("DELETE FROM api_keys WHERE workspace_id = :workspace AND user_id = :user")
                .param("workspace", workspaceId)
                .param("user", userId)
                .update();
    }

    /** Deletes every key of the user (a password change); returns how many. */
    int deleteAll(long userId) {
        return jdbc.sql("DELETE FROM api_keys WHERE user_id = :user")
                .param("user", userId)
                .update();
    }

    /** Deletes the key; returns it as it was (for the audit log), empty when the workspace has no such key. */
    Optional<ApiKey> delete(long workspaceId, long id) {
        return jdbc.sql(
                        "DELETE FROM api_keys WHERE id = :id AND workspace_id = :workspace RETURNING id, name, scope, prefix, created_at, last_used_at, expires_at, user_id")
                .param("id", id)
                .param("workspace", workspaceId)
                .query(ApiKeyStore::row)
                .optional();
    }

    /** Whose a key is (the member who made it), in which workspace, and what it may do. */
    record Owner(User user, Scope scope, long keyId, String label, long workspaceId) {}

    /** The owner of a valid, unexpired key; notes its use (at most once a minute, to keep reads cheap). */
    Optional<Owner> findOwner(byte[] hash, Instant now) {
        Optional<Map.Entry<Long, Owner>> found = jdbc.sql("""
                SELECT k.id AS key_id, k.last_used_at, k.scope, k.name AS key_name, k.prefix, k.workspace_id, u.id, u.email, u.firstname, u.lastname, u.created_at, u.instance_admin
                  FROM api_keys k JOIN users u ON u.id = k.user_id
                 WHERE k.key_hash = :hash AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > :now)
                """)
                .param("hash", hash)
                .param("now", Timestamp.from(now))
                .query((rs, n) -> {
                    Timestamp last = rs.getTimestamp("last_used_at");
                    long keyId = last == null || last.toInstant().isBefore(now.minus(Duration.ofMinutes(1)))
                            ? rs.getLong("key_id")
                            : -1;
                    return Map.entry(
                            keyId,
                            new Owner(
                                    UserStore.user(rs, n),
                                    Scope.parse(rs.getString("scope")).orElse(Scope.READ),
                                    rs.getLong("key_id"),
                                    rs.getString("key_name") + " (" + rs.getString("prefix") + ")",
                                    rs.getLong("workspace_id")));
                })
                .optional();
        found.filter(e -> e.getKey() > 0)
                .ifPresent(e -> jdbc.sql("UPDATE api_keys SET last_used_at = :now WHERE id = :id")
                        .param("now", Timestamp.from(now))
                        .param("id", e.getKey())
                        .update());
        return found.map(Map.Entry::getValue);
    }

    private static ApiKey row(ResultSet rs, int n) throws SQLException {
        Timestamp last = rs.getTimestamp("last_used_at");
        Timestamp expires = rs.getTimestamp("expires_at");
        return new ApiKey(
                rs.getLong("id"),
                rs.getString("name"),
                rs.getString("scope"),
                Role.of(Scope.parse(rs.getString("scope")).orElse(Scope.READ)).wire(),
                rs.getString("prefix"),
                rs.getTimestamp("created_at").toInstant(),
                last == null ? null : last.toInstant(),
                expires == null ? null : expires.toInstant(),
                rs.getLong("user_id"));
    }
}
