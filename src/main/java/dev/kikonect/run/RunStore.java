package dev.kikonect.run;

import dev.kikonect.lifecycle.AttemptView;
import dev.kikonect.lifecycle.Run;
import dev.kikonect.lifecycle.RunFilter;
import dev.kikonect.lifecycle.RunStatus;
import dev.kikonect.lifecycle.StepView;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Reads run history, always scoped to the owner. Runs are written only by the {@code lifecycle} package. */
@Repository
class RunStore {

    private final JdbcClient jdbc;

    RunStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    Optional<Run> findOwned(long workspaceId, long id) {
        return jdbc.sql("SELECT " + Run.COLUMNS + " FROM workflow_runs WHERE id = :id AND workspace_id = :workspace")
                .param("id", id)
                .param("workspace", workspaceId)
                .query(Run::fromRow)
                .optional();
    }

    List<AttemptView> attempts(long runId) {
        return jdbc.sql("""
            SELECT step, number, started_at, duration_ms, response_status, response_headers::text AS response_headers,
                   response_body, error, request::text AS request
              FROM attempts WHERE run_id = :run ORDER BY started_at, step, number
            """)
                .param("run", runId)
                .query((rs, n) -> new AttemptView(
                        rs.getString("step"),
                        rs.getInt("number"),
                        rs.getTimestamp("started_at").toInstant(),
                        rs.getLong("duration_ms"),
                        (Integer) rs.getObject("response_status"),
                        rs.getString("response_headers"),
                        rs.getString("response_body"),
                        rs.getString("error"),
                        rs.getString("request")))
                .list();
    }

    /**
     * The steps of {@code run} with their attempts (from {@code log}). A tracked run has a row per step; an untracked
     * run is its workflow's one step, whose state is the run's own.
     */
    List<StepView> steps(Run run, List<AttemptView> log) {
        List<StepView> rows = jdbc.sql("""
                SELECT s.key, s.status, s.needs, s.webhook_id, s.attempts, s.error, s.next_attempt_at, s.started_at,
                       s.ended_at, sr.child_run_id, s.timed_out
                  FROM run_steps s
                  LEFT JOIN sub_runs sr ON sr.parent_run_id = s.run_id AND sr.parent_step = s.key
                 WHERE s.run_id = :run ORDER BY s.position
                """)
                .param("run", run.id())
                .query((rs, n) -> {
                    String key = rs.getString("key");
                    return new StepView(
                            key,
                            rs.getString("status"),
                            List.of((String[]) rs.getArray("needs").getArray()),
                            rs.getString("webhook_id"),
                            rs.getInt("attempts"),
                            rs.getString("error"),
                            instant(rs.getTimestamp("next_attempt_at")),
                            instant(rs.getTimestamp("started_at")),
                            instant(rs.getTimestamp("ended_at")),
                            (Long) rs.getObject("child_run_id"),
                            rs.getBoolean("timed_out"),
                            log.stream().filter(a -> key.equals(a.step())).toList());
                })
                .list();
        if (!rows.isEmpty()) {
            return rows;
        }
        record Single(String key, String webhookId) {}
        Single single = jdbc.sql("""
                SELECT coalesce(w.steps->0->>'key', 'deliver') AS key, r.webhook_id
                  FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id WHERE r.id = :run
                """)
                .param("run", run.id())
                .query((rs, n) -> new Single(rs.getString("key"), rs.getString("webhook_id")))
                .single();
        if (List.of(RunStatus.FILTERED, RunStatus.SKIPPED).contains(run.status())) {
            return List.of();
        }
        return List.of(new StepView(
                single.key(),
                run.status().wire(),
                List.of(),
                single.webhookId(),
                run.attemptCount(),
                run.status() == RunStatus.FAILED ? run.error() : null,
                run.nextAttemptAt(),
                run.startedAt(),
                run.endedAt(),
                null,
                false,
                log));
    }

    private static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }

    /** Newest first, {@code limit + 1} rows below {@code beforeId} (a keyset: stable while new runs arrive). */
    List<Run> list(long workspaceId, RunFilter filter, long beforeId, int limit) {
        return jdbc.sql("SELECT " + Run.SUMMARY_COLUMNS + """
                 FROM workflow_runs r
                WHERE r.workspace_id = :workspace AND r.id < :before AND
                """ + RunFilter.WHERE + """
                ORDER BY r.id DESC LIMIT :limit
                """)
                .param("workspace", workspaceId)
                .param("before", beforeId)
                .params(filter.params())
                .param("limit", limit + 1)
                .query(Run::fromRow)
                .list();
    }
}
