package dev.kikonect.auth;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * Which account a provider's identity (provider id and the ID token's subject) signs in to, and whose address is
 * verified ({@code users.email_verified_at}). Owned by auth with the users table.
 */
@Repository
class SsoIdentities {

    private final JdbcClient jdbc;

    SsoIdentities(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** The account linked to this identity, if any. */
    Optional<Long> user(String provider, String subject) {
        return jdbc.sql("SELECT user_id FROM sso_identities WHERE provider = :provider AND subject = :subject")
                .param("provider", provider)
                .param("subject", subject)
                .query(Long.class)
                .optional();
    }

    /** Links the identity to {@code userId}; false when it is linked to another account already. */
    boolean link(String provider, String subject, long userId, Instant now) {
        return jdbc.sql("""
            WITH added AS (
              INSERT INTO sso_identities (provider, subject, user_id, created_at) VALUES (:provider, :subject, :user, :now)
              ON CONFLICT (provider, subject) DO NOTHING
              RETURNING user_id
            )
            SELECT coalesce((SELECT user_id FROM added), (SELECT user_id FROM sso_identities WHERE provider = :provider AND subject = :subject))
            """)
                        .param("provider", provider)
                        .param("subject", subject)
                        .param("user", userId)
                        .param("now", Timestamp.from(now))
                        .query(Long.class)
                        .single()
                == userId;
    }

    boolean verified(long userId) {
        return jdbc.sql("SELECT email_verified_at IS NOT NULL FROM users WHERE id = :id")
                .param("id", userId)
                .query(Boolean.class)
                .optional()
                .orElse(false);
    }

    void markVerified(long userId, Instant now) {
        jdbc.sql("UPDATE users SET email_verified_at = coalesce(email_verified_at, :now) WHERE id = :id")
                .param("now", Timestamp.from(now))
                .param("id", userId)
                .update();
    }

    /** Keeps a mailed verification link's token (its hash) for {@code userId} until {@code expiresAt}. */
    void addVerification(byte[] tokenHash, long userId, Instant expiresAt) {
        jdbc.sql("INSERT INTO email_verifications (token_hash, user_id, expires_at) VALUES (:hash, :user, :expires)")
                .param("hash", tokenHash)
                .param("user", userId)
                .param("expires", Timestamp.from(expiresAt))
                .update();
    }

    /** Uses a verification link once: the account whose address it verifies, if the link is known and not expired. */
    Optional<Long> useVerification(byte[] tokenHash, Instant now) {
        return jdbc.sql(
                        "DELETE FROM email_verifications WHERE token_hash = :hash AND expires_at > :now RETURNING user_id")
                .param("hash", tokenHash)
                .param("now", Timestamp.from(now))
                .query(Long.class)
                .optional();
    }
}
