package dev.kikonect.auth;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Login sessions, each known only by the SHA-256 of its bearer token. */
@Repository
class SessionStore {

    private final JdbcClient jdbc;

    SessionStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * Stores a new session and revokes the user's oldest live ones beyond {@code keep} in all (the sessions quota):
     * signing in once more never fails, it signs out the oldest device instead.
     */
    void create(long userId, byte[] tokenHash, String method, Instant now, Instant expiresAt, int keep) {
        jdbc.sql("""
            WITH created AS (
              INSERT INTO sessions (user_id, token_hash, method, created_at, expires_at)
              VALUES (:user, :hash, :method, :now, :expires)
            )
            UPDATE sessions SET revoked_at = :now
             WHERE user_id = :user AND revoked_at IS NULL AND expires_at > :now
               AND id NOT IN (SELECT id FROM sessions
                               WHERE user_id = :user AND revoked_at IS NULL AND expires_at > :now
                               ORDER BY id DESC LIMIT :older)
            """)
                .param("user", userId)
                .param("hash", tokenHash)
                .param("method", method)
                .param("now", Timestamp.from(now))
                .param("expires", Timestamp.from(expiresAt))
                .param("older", Math.max(0, keep - 1)) // the new one is not visible to this statement's own reads
                .update();
    }

    /** A live session's user and how it signed in (password or sso). */
    record Found(User user, String method) {}

    Optional<Found> findUser(byte[] tokenHash, Instant now) {
        return jdbc.sql("""
            SELECT u.id, u.email, u.firstname, u.lastname, u.created_at, u.instance_admin, s.method
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.token_hash = :hash AND s.revoked_at IS NULL AND s.expires_at > :now
            """)
                .param("hash", tokenHash)
                .param("now", Timestamp.from(now))
                .query((rs, n) -> new Found(UserStore.user(rs, n), rs.getString("method")))
                .optional();
    }

    /** Signs the user out everywhere but the session with {@code keepHash} (which may be an API key's: then all). */
    void revokeAllExcept(long userId, byte[] keepHash, Instant now) {
        jdbc.sql(
                        "UPDATE sessions SET revoked_at = :now WHERE user_id = :user AND token_hash <> :keep AND revoked_at IS NULL")
                .param("now", Timestamp.from(now))
                .param("user", userId)
                .param("keep", keepHash)
                .update();
    }

    void revoke(byte[] tokenHash, Instant now) {
        jdbc.sql("UPDATE sessions SET revoked_at = :now WHERE token_hash = :hash AND revoked_at IS NULL")
                .param("hash", tokenHash)
                .param("now", Timestamp.from(now))
                .update();
    }

    /** Deletes sessions that expired or were revoked before {@code cutoff}; returns how many. */
    int pruneEnded(Instant cutoff) {
        return jdbc.sql("DELETE FROM sessions WHERE expires_at < :cutoff OR revoked_at < :cutoff")
                .param("cutoff", Timestamp.from(cutoff))
                .update();
    }
}
