package dev.kikonect.workflow;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

@Repository
class WorkflowStore {

  private static final String COLUMNS =
      """
      id, user_id, name, trigger_type, action_url, trigger_config::text AS trigger_config, enabled, max_attempts,
      next_run_at, last_fired_at, created_at, updated_at
      """;

  private final JdbcClient jdbc;

  WorkflowStore(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  StoredWorkflow insert(
      long userId,
      String name,
      TriggerType type,
      String actionUrl,
      String triggerConfig,
      Integer maxAttempts,
      String signingSecret,
      Instant nextRunAt,
      Instant now) {
    return jdbc.sql(
            """
            INSERT INTO workflows (user_id, name, trigger_type, action_url, trigger_config, enabled, max_attempts,
                                   signing_secret, next_run_at, created_at, updated_at)
            VALUES (:user, :name, :type, :url, :config::jsonb, true, CAST(:max_attempts AS int), :secret,
                    CAST(:next AS timestamptz), :now, :now)
            RETURNING
            """
                + COLUMNS)
        .param("user", userId)
        .param("name", name)
        .param("type", type.wire())
        .param("url", actionUrl)
        .param("config", triggerConfig)
        .param("max_attempts", maxAttempts, java.sql.Types.INTEGER)
        .param("secret", signingSecret)
        .param("next", nextRunAt == null ? null : Timestamp.from(nextRunAt), java.sql.Types.TIMESTAMP)
        .param("now", Timestamp.from(now))
        .query(WorkflowStore::row)
        .single();
  }

  Optional<StoredWorkflow> findOwned(long userId, long id) {
    return jdbc.sql("SELECT " + COLUMNS + " FROM workflows WHERE id = :id AND user_id = :user")
        .param("id", id)
        .param("user", userId)
        .query(WorkflowStore::row)
        .optional();
  }

  /** Newest first, {@code limit + 1} rows below {@code beforeId}. */
  List<StoredWorkflow> list(long userId, long beforeId, int limit) {
    return jdbc.sql(
            "SELECT " + COLUMNS + " FROM workflows WHERE user_id = :user AND id < :before ORDER BY id DESC LIMIT :limit")
        .param("user", userId)
        .param("before", beforeId)
        .param("limit", limit + 1)
        .query(WorkflowStore::row)
        .list();
  }

  /**
   * Replaces the signing secret; the old one keeps signing alongside until {@code previousValidUntil}, so that
   * receivers can switch without dropping deliveries. Empty when the workflow is not the user's.
   */
  Optional<Instant> rotateSecret(long userId, long id, String newSecret, Instant previousValidUntil, Instant now) {
    return jdbc.sql(
            """
            UPDATE workflows
               SET previous_signing_secret = signing_secret, previous_secret_expires_at = :until,
                   signing_secret = :secret, updated_at = :now
             WHERE id = :id AND user_id = :user
            RETURNING previous_secret_expires_at
            """)
        .param("until", Timestamp.from(previousValidUntil))
        .param("secret", newSecret)
        .param("now", Timestamp.from(now))
        .param("id", id)
        .param("user", userId)
        .query((rs, n) -> rs.getTimestamp(1).toInstant())
        .optional();
  }

  Optional<StoredWorkflow> findByWebhookToken(String token) {
    return jdbc.sql(
            "SELECT " + COLUMNS + " FROM workflows WHERE trigger_type = 'webhook' AND trigger_config->>'token' = :token")
        .param("token", token)
        .query(WorkflowStore::row)
        .optional();
  }

  static StoredWorkflow row(ResultSet rs, int n) throws SQLException {
    return new StoredWorkflow(
        rs.getLong("id"),
        rs.getLong("user_id"),
        rs.getString("name"),
        TriggerType.fromWire(rs.getString("trigger_type")).orElseThrow(),
        rs.getString("action_url"),
        rs.getString("trigger_config"),
        rs.getBoolean("enabled"),
        (Integer) rs.getObject("max_attempts"),
        instant(rs, "next_run_at"),
        instant(rs, "last_fired_at"),
        instant(rs, "created_at"),
        instant(rs, "updated_at"));
  }

  private static Instant instant(ResultSet rs, String column) throws SQLException {
    Timestamp ts = rs.getTimestamp(column);
    return ts == null ? null : ts.toInstant();
  }
}
