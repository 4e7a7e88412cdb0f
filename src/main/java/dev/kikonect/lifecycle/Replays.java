package dev.kikonect.lifecycle;

import java.sql.Timestamp;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/** Replays: a new run of the same workflow with the original's payload (or an edited one), linked by replay_of. */
@Component
public class Replays {

  private final JdbcClient jdbc;
  private final Clock clock;
  private final WorkSignal signal;

  Replays(JdbcClient jdbc, Clock clock, WorkSignal signal) {
    this.jdbc = jdbc;
    this.clock = clock;
    this.signal = signal;
  }

  /** The run a replay would copy, if it is the user's. */
  public Optional<Run> source(long workspaceId, long runId) {
    return jdbc.sql("SELECT " + Run.COLUMNS + " FROM workflow_runs WHERE id = :id AND workspace_id = :workspace")
        .param("id", runId)
        .param("workspace", workspaceId)
        .query(Run::fromRow)
        .optional();
  }

  /** A new run of the same workflow with the original's payload (or {@code payload}), linked by replay_of. */
  public Optional<Run> replay(long workspaceId, long runId, String payload) {
    Optional<Run> run =
        jdbc.sql(
                """
                WITH original AS (
                  SELECT r.workflow_id, r.workspace_id, r.trigger, r.payload, r.request FROM workflow_runs r
                   WHERE r.id = :id AND r.workspace_id = :workspace
                ), run AS (
                  INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, request, replay_of, created_at,
                                             open_steps)
                  SELECT o.workflow_id, o.workspace_id, 'pending', o.trigger, coalesce(CAST(:payload AS json), o.payload), o.request,
                         :id, :now, CASE WHEN w.tracked THEN jsonb_array_length(w.steps) END
                    FROM original o JOIN workflows w ON w.id = o.workflow_id
                  RETURNING *
                )
                """
                    + RunSteps.START
                    + """
                SELECT
                """
                    + Run.COLUMNS
                    + " FROM run")
            .param("id", runId)
            .param("workspace", workspaceId)
            .param("payload", payload, Types.VARCHAR)
            .param("now", Timestamp.from(clock.instant()))
            .query(Run::fromRow)
            .optional();
    run.ifPresent(r -> signal.wake());
    return run;
  }

  /** Which runs a bulk replay takes; null fields do not filter. */
  public record Filter(Long workflowId, RunStatus status, Instant createdAfter, Instant createdBefore) {}

  /** How many runs of this user's enabled workflows {@code filter} matches, counting at most {@code limit + 1}. */
  public int countReplayable(long workspaceId, Filter filter, int limit) {
    return jdbc.sql("SELECT count(*) FROM (SELECT 1 " + REPLAY_SOURCE + " LIMIT :limit) m")
        .params(replayParams(workspaceId, filter))
        .param("limit", limit + 1)
        .query(Integer.class)
        .single();
  }

  /** Replays every run {@code filter} matches (the caller checked the count) in one statement. */
  public int replayAll(long workspaceId, Filter filter) {
    int replayed =
        jdbc.sql(
                """
                WITH run AS (
                  INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, request, replay_of, created_at,
                                             open_steps)
                  SELECT r.workflow_id, r.workspace_id, 'pending', r.trigger, r.payload, r.request, r.id, :now, """
                    + RunSteps.OPEN_STEPS
                    + "\n"
                    + REPLAY_SOURCE
                    + """
                   ORDER BY r.id
                  RETURNING id, workflow_id, status, open_steps, created_at
                )
                """
                    + RunSteps.START
                    + """
                SELECT count(*) FROM run
                """)
            .params(replayParams(workspaceId, filter))
            .param("now", Timestamp.from(clock.instant()))
            .query(Integer.class)
            .single();
    signal.wake();
    return replayed;
  }

  private static final String REPLAY_SOURCE =
      """
        FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id AND w.enabled
       WHERE r.workspace_id = :workspace
         AND (CAST(:workflow AS bigint) IS NULL OR r.workflow_id = CAST(:workflow AS bigint))
         AND (CAST(:status AS text) IS NULL OR r.status = CAST(:status AS text))
         AND (CAST(:after AS timestamptz) IS NULL OR r.created_at >= CAST(:after AS timestamptz))
         AND (CAST(:before AS timestamptz) IS NULL OR r.created_at < CAST(:before AS timestamptz))
      """;

  private static java.util.Map<String, Object> replayParams(long workspaceId, Filter f) {
    java.util.Map<String, Object> params = new java.util.HashMap<>();
    params.put("workspace", workspaceId);
    params.put("workflow", new org.springframework.jdbc.core.SqlParameterValue(Types.BIGINT, f.workflowId()));
    params.put("status", new org.springframework.jdbc.core.SqlParameterValue(Types.VARCHAR, f.status() == null ? null : f.status().wire()));
    params.put("after", new org.springframework.jdbc.core.SqlParameterValue(Types.TIMESTAMP, f.createdAfter() == null ? null : Timestamp.from(f.createdAfter())));
    params.put("before", new org.springframework.jdbc.core.SqlParameterValue(Types.TIMESTAMP, f.createdBefore() == null ? null : Timestamp.from(f.createdBefore())));
    return params;
  }
}
