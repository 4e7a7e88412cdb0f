package dev.kikonect.lifecycle;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Where a run is in its life. The one list of statuses: the {@code workflow_runs} CHECK constraint, the OpenAPI
 * {@code RunStatus} enum and the web app are tested against it ({@code RunStatusTest}).
 *
 * <pre>
 *   pending -> running -> succeeded
 *                      -> retrying -> running ...
 *                      -> failed
 *   pending, retrying -> cancelled          (by the user)
 *   skipped                                 (a scheduled firing that was recorded, not delivered)
 *   filtered                                (the workflow's filter was false: recorded, not delivered)
 * </pre>
 */
public enum RunStatus {
  PENDING,
  RUNNING,
  RETRYING,
  SUCCEEDED,
  FAILED,
  CANCELLED,
  SKIPPED,
  FILTERED;

  /** Statuses of runs that are not finished: an overlap check counts these. */
  public static final List<RunStatus> ACTIVE = List.of(PENDING, RUNNING, RETRYING);

  /** {@link #ACTIVE} as an SQL list, for {@code status IN ...}. */
  public static final String ACTIVE_SQL = sqlList(ACTIVE);

  /** The name on the wire and in the database: lower case. */
  @JsonValue
  public String wire() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public boolean finished() {
    return !ACTIVE.contains(this);
  }

  /** The status with this wire name, if there is one. */
  public static Optional<RunStatus> parse(String wire) {
    return Arrays.stream(values()).filter(s -> s.wire().equals(wire)).findFirst();
  }

  static RunStatus of(String wire) {
    return parse(wire).orElseThrow(() -> new IllegalStateException("unknown run status in the database: " + wire));
  }

  /** Every wire name, comma-separated, for error messages. */
  public static String names() {
    return Arrays.stream(values()).map(RunStatus::wire).collect(Collectors.joining(", "));
  }

  static String sqlList(List<RunStatus> statuses) {
    return statuses.stream().map(s -> "'" + s.wire() + "'").collect(Collectors.joining(", ", "(", ")"));
  }
}
