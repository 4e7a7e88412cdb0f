package dev.kikonect.run;

import com.fasterxml.jackson.annotation.JsonRawValue;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;

/**
 * One firing of a workflow and what became of it: pending, then running, then succeeded or failed. {@code payload}
 * is the exact JSON text that is (or was) delivered.
 */
public record Run(
    long id,
    long workflowId,
    String status,
    String trigger,
    @JsonRawValue String payload,
    String error,
    int attempts,
    Instant createdAt,
    Instant startedAt,
    Instant endedAt) {

  /** The columns {@link #fromRow} reads, for SELECT and RETURNING clauses. */
  public static final String COLUMNS =
      "id, workflow_id, status, trigger, payload::text AS payload, error, attempts, created_at, started_at, ended_at";

  public static Run fromRow(ResultSet rs, int row) throws SQLException {
    return new Run(
        rs.getLong("id"),
        rs.getLong("workflow_id"),
        rs.getString("status"),
        rs.getString("trigger"),
        rs.getString("payload"),
        rs.getString("error"),
        rs.getInt("attempts"),
        instant(rs.getTimestamp("created_at")),
        instant(rs.getTimestamp("started_at")),
        instant(rs.getTimestamp("ended_at")));
  }

  private static Instant instant(Timestamp ts) {
    return ts == null ? null : ts.toInstant();
  }
}
