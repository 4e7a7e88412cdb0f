package dev.kikonect.lifecycle;

import java.sql.Timestamp;
import java.sql.Types;
import java.time.Clock;
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
        Optional<Run> run = jdbc.sql("""
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
                """ + RunSteps.START + """
                SELECT
                """ + Run.COLUMNS + " FROM run")
                .param("id", runId)
                .param("workspace", workspaceId)
                .param("payload", payload, Types.VARCHAR)
                .param("now", Timestamp.from(clock.instant()))
                .query(Run::fromRow)
                .optional();
        run.ifPresent(r -> signal.wake());
        return run;
    }

    /** How many runs {@code filter} matches (as the run list shows them), and of those how many would be replayed. */
    public record Count(int matching, int replayable) {}

    /**
     * How many runs {@code filter} matches, as the run list would show them, and how many of those belong to enabled
     * workflows (the ones a replay makes again: a paused workflow takes no runs), each counted to at most {@code
     * limit + 1}.
     */
    public Count countReplayable(long workspaceId, RunFilter filter, int limit) {
        return jdbc.sql(
                        "SELECT (SELECT count(*) FROM (SELECT 1 FROM workflow_runs r WHERE r.workspace_id = :workspace AND "
                                + RunFilter.WHERE
                                + " LIMIT :limit) m) AS matching, (SELECT count(*) FROM (SELECT 1 "
                                + REPLAY_SOURCE
                                + " LIMIT :limit) m) AS replayable")
                .params(filter.params())
                .param("workspace", workspaceId)
                .param("limit", limit + 1)
                .query((rs, n) -> new Count(rs.getInt("matching"), rs.getInt("replayable")))
                .single();
    }

    /** Replays every run {@code filter} matches (the caller checked the count) in one statement. */
    public int replayAll(long workspaceId, RunFilter filter) {
        int replayed = jdbc.sql("""
                WITH run AS (
                  INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, request, replay_of, created_at,
                                             open_steps)
                  SELECT r.workflow_id, r.workspace_id, 'pending', r.trigger, r.payload, r.request, r.id, :now, """ + RunSteps.OPEN_STEPS + "\n" + REPLAY_SOURCE + """
                   ORDER BY r.id
                  RETURNING id, workflow_id, status, open_steps, created_at
                )
                """ + RunSteps.START + """
                SELECT count(*) FROM run
                """)
                .params(filter.params())
                .param("workspace", workspaceId)
                .param("now", Timestamp.from(clock.instant()))
                .query(Integer.class)
                .single();
        signal.wake();
        return replayed;
    }

    private static final String REPLAY_SOURCE = """
        FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id AND w.enabled
       WHERE r.workspace_id = :workspace AND
      """ + RunFilter.WHERE;
}
