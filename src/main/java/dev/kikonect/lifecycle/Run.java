package dev.kikonect.lifecycle;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonRawValue;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

/**
 * One firing of a workflow and what became of it: pending, running, retrying (with next_attempt_at), then
 * succeeded, failed or cancelled. {@code payload} is the exact JSON text that is (or was) delivered, null (and left
 * out of the JSON) in lists; {@code attempts} (the attempt log) is filled where one run is shown.
 */
public record Run(
        long id,
        long workflowId,
        RunStatus status,
        String trigger,

        @JsonInclude(JsonInclude.Include.NON_NULL) @JsonRawValue
        String payload,

        String error,
        int attemptCount,
        Instant nextAttemptAt,
        Instant scheduledFor,
        Long replayOf,
        /** The run whose step ran this one as a sub-workflow (trigger workflow). */
        Long parentRunId,
        /** The failed run that started this one (trigger run_failed, an error workflow). */
        Long causedByRunId,
        Instant createdAt,
        Instant startedAt,
        Instant endedAt,
        @JsonInclude(JsonInclude.Include.NON_NULL) List<AttemptView> attempts,
        @JsonInclude(JsonInclude.Include.NON_NULL) List<StepView> steps) {

    /** The columns {@link #fromRow} reads, for SELECT and RETURNING clauses. */
    public static final String COLUMNS =
            "id, workflow_id, status, trigger, payload::text AS payload, error, attempts AS attempt_count, next_attempt_at,"
                    + " scheduled_for, replay_of, parent_run_id, caused_by_run_id, created_at, started_at, ended_at";

    /** {@link #COLUMNS} without the payload, for lists: a list item says what happened, the run page what was sent. */
    public static final String SUMMARY_COLUMNS = COLUMNS.replace("payload::text AS payload", "NULL::text AS payload");

    public static Run fromRow(ResultSet rs, int row) throws SQLException {
        return new Run(
                rs.getLong("id"),
                rs.getLong("workflow_id"),
                RunStatus.of(rs.getString("status")),
                rs.getString("trigger"),
                rs.getString("payload"),
                rs.getString("error"),
                rs.getInt("attempt_count"),
                instant(rs.getTimestamp("next_attempt_at")),
                instant(rs.getTimestamp("scheduled_for")),
                (Long) rs.getObject("replay_of"),
                (Long) rs.getObject("parent_run_id"),
                (Long) rs.getObject("caused_by_run_id"),
                instant(rs.getTimestamp("created_at")),
                instant(rs.getTimestamp("started_at")),
                instant(rs.getTimestamp("ended_at")),
                null,
                null);
    }

    public Run withAttempts(List<AttemptView> log) {
        return new Run(
                id,
                workflowId,
                status,
                trigger,
                payload,
                error,
                attemptCount,
                nextAttemptAt,
                scheduledFor,
                replayOf,
                parentRunId,
                causedByRunId,
                createdAt,
                startedAt,
                endedAt,
                log,
                steps);
    }

    /** This run with its steps (where one run is shown). */
    public Run withSteps(List<StepView> list) {
        return new Run(
                id,
                workflowId,
                status,
                trigger,
                payload,
                error,
                attemptCount,
                nextAttemptAt,
                scheduledFor,
                replayOf,
                parentRunId,
                causedByRunId,
                createdAt,
                startedAt,
                endedAt,
                attempts,
                list);
    }

    static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }
}
