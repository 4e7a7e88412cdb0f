package dev.kikonect.auth;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

@Repository
class UserStore {

    record Credentials(User user, String passwordHash) {}

    private final JdbcClient jdbc;

    UserStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * Inserts a user; empty when the email (compared case-insensitively) is taken. {@code instanceAdmin} for the first
     * user of the instance (the caller holds {@link #lockFirstUser()} and asked {@link #none()}).
     */
    Optional<User> create(
            String email, String passwordHash, String firstname, String lastname, Instant now, boolean instanceAdmin) {
        try {
            return Optional.of(jdbc.sql("""
                  INSERT INTO users (email, password_hash, firstname, lastname, created_at, instance_admin)
                  VALUES (:email, :hash, :firstname, :lastname, :now, :admin)
                  RETURNING id, email, firstname, lastname, created_at, instance_admin
                  """)
                    .param("email", email)
                    .param("hash", passwordHash)
                    .param("firstname", firstname)
                    .param("lastname", lastname)
                    .param("now", Timestamp.from(now))
                    .param("admin", instanceAdmin)
                    .query(UserStore::user)
                    .single());
        } catch (DuplicateKeyException e) {
            return Optional.empty();
        }
    }

    /** Takes an id from the users' sequence without making a user (a decoy answer looks like a new account's). */
    long takeId() {
        return jdbc.sql("SELECT nextval(pg_get_serial_sequence('users', 'id'))")
                .query(Long.class)
                .single();
    }

    /**
     * Serialises the transactions that create users or change who is an instance administrator, until commit: so that
     * two first registrations at the same instant make one administrator, and two administrators demoting each other at
     * the same instant leave one.
     */
    void lockFirstUser() {
        jdbc.sql("SELECT pg_advisory_xact_lock(7170627, 1)").query(Object.class).single();
    }

    /** No user exists yet: the next one to register is the first (and the instance administrator). */
    boolean none() {
        return jdbc.sql("SELECT NOT EXISTS (SELECT 1 FROM users)")
                .query(Boolean.class)
                .single();
    }

    /** A page of every user, newest first (keyset: ids below {@code before}), with the number of workspaces each is in. */
    List<Map.Entry<User, Integer>> list(long before, int limit) {
        return jdbc.sql(LISTED + " WHERE u.id < :before ORDER BY u.id DESC LIMIT :limit")
                .param("before", before)
                .param("limit", limit)
                .query((rs, n) -> Map.entry(user(rs, n), rs.getInt("workspaces")))
                .list();
    }

    /** One user as {@link #list} shows it. */
    Optional<Map.Entry<User, Integer>> listed(long id) {
        return jdbc.sql(LISTED + " WHERE u.id = :id")
                .param("id", id)
                .query((rs, n) -> Map.entry(user(rs, n), rs.getInt("workspaces")))
                .optional();
    }

    private static final String LISTED = """
      SELECT u.id, u.email, u.firstname, u.lastname, u.created_at, u.instance_admin,
             (SELECT count(*) FROM workspace_members m WHERE m.user_id = u.id) AS workspaces
        FROM users u
      """;

    Optional<User> find(long id) {
        return jdbc.sql("SELECT id, email, firstname, lastname, created_at, instance_admin FROM users WHERE id = :id")
                .param("id", id)
                .query(UserStore::user)
                .optional();
    }

    /**
     * Makes a user an instance administrator or not; never takes the role from the last one (then, and for an unknown
     * user, nothing changes: empty). Run under {@link #lockFirstUser()}.
     */
    Optional<User> setInstanceAdmin(long id, boolean admin) {
        return jdbc.sql("""
            UPDATE users SET instance_admin = :admin
             WHERE id = :id
               AND (:admin OR EXISTS (SELECT 1 FROM users o WHERE o.instance_admin AND o.id <> :id))
            RETURNING id, email, firstname, lastname, created_at, instance_admin
            """)
                .param("admin", admin)
                .param("id", id)
                .query(UserStore::user)
                .optional();
    }

    void setPassword(long userId, String passwordHash) {
        jdbc.sql("UPDATE users SET password_hash = :hash WHERE id = :id")
                .param("hash", passwordHash)
                .param("id", userId)
                .update();
    }

    Optional<Credentials> findByEmail(String email) {
        return jdbc.sql("""
            SELECT id, email, firstname, lastname, created_at, instance_admin, password_hash
            FROM users WHERE lower(email) = lower(:email)
            """)
                .param("email", email)
                .query((rs, n) -> new Credentials(user(rs, n), rs.getString("password_hash")))
                .optional();
    }

    static User user(ResultSet rs, int row) throws SQLException {
        return new User(
                rs.getLong("id"),
                rs.getString("email"),
                rs.getString("firstname"),
                rs.getString("lastname"),
                rs.getTimestamp("created_at").toInstant(),
                rs.getBoolean("instance_admin"));
    }
}
