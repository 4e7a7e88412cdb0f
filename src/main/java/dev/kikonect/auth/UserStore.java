package dev.kikonect.auth;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
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

  /** Inserts a user; empty when the email (compared case-insensitively) is taken. */
  Optional<User> create(String email, String passwordHash, String firstname, String lastname, Instant now) {
    try {
      return Optional.of(
          jdbc.sql(
                  """
                  INSERT INTO users (email, password_hash, firstname, lastname, created_at)
                  VALUES (:email, :hash, :firstname, :lastname, :now)
                  RETURNING id, email, firstname, lastname, created_at
                  """)
              .param("email", email)
              .param("hash", passwordHash)
              .param("firstname", firstname)
              .param("lastname", lastname)
              .param("now", java.sql.Timestamp.from(now))
              .query(UserStore::user)
              .single());
    } catch (DuplicateKeyException e) {
      return Optional.empty();
    }
  }

  void setPassword(long userId, String passwordHash) {
    jdbc.sql("UPDATE users SET password_hash = :hash WHERE id = :id").param("hash", passwordHash).param("id", userId).update();
  }

  Optional<Credentials> findByEmail(String email) {
    return jdbc.sql(
            """
            SELECT id, email, firstname, lastname, created_at, password_hash
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
        rs.getTimestamp("created_at").toInstant());
  }
}
