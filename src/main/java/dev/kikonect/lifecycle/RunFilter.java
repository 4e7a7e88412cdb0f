package dev.kikonect.lifecycle;

import dev.kikonect.common.FieldProblem;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.springframework.jdbc.core.SqlParameterValue;

/**
 * Which runs a request is about: the one filter the run list, the bulk replay's count and the bulk replay itself all
 * take, parsed and turned into SQL in one place, so that what is replayed is exactly what the list shows (a filter
 * the list knew and the replay did not once offered 3,001 runs for a list that said "No runs match"). Null fields do
 * not filter.
 */
public record RunFilter(
        Long workflowId, RunStatus status, String trigger, Instant createdAfter, Instant createdBefore) {

    public static final List<String> TRIGGERS = List.of("manual", "webhook", "interval", "cron");

    /**
     * The SQL condition over {@code workflow_runs r} (its parameters: {@link #params()}); the caller scopes it to a
     * workspace.
     */
    public static final String WHERE = """
          (CAST(:f_workflow AS bigint) IS NULL OR r.workflow_id = CAST(:f_workflow AS bigint))
      AND (CAST(:f_status AS text) IS NULL OR r.status = CAST(:f_status AS text))
      AND (CAST(:f_trigger AS text) IS NULL OR r.trigger = CAST(:f_trigger AS text))
      AND (CAST(:f_after AS timestamptz) IS NULL OR r.created_at >= CAST(:f_after AS timestamptz))
      AND (CAST(:f_before AS timestamptz) IS NULL OR r.created_at < CAST(:f_before AS timestamptz))
      """;

    /** The filter from the fields as sent (query parameters or a JSON body); each bad one is added to {@code problems}. */
    public static RunFilter parse(
            Long workflowId, String status, String trigger, String after, String before, List<FieldProblem> problems) {
        RunStatus runStatus = status == null ? null : RunStatus.parse(status).orElse(null);
        if (status != null && runStatus == null) {
            problems.add(new FieldProblem("status", "must be one of " + RunStatus.names()));
        }
        if (trigger != null && !TRIGGERS.contains(trigger)) {
            problems.add(new FieldProblem("trigger", "must be one of " + String.join(", ", TRIGGERS)));
        }
        if (workflowId != null && workflowId < 1) {
            problems.add(new FieldProblem("workflow_id", "must be a workflow id (1 or more)"));
        }
        return new RunFilter(
                workflowId,
                runStatus,
                trigger,
                time("created_after", after, problems),
                time("created_before", before, problems));
    }

    private static Instant time(String field, String value, List<FieldProblem> problems) {
        if (value == null) {
            return null;
        }
        try {
            return OffsetDateTime.parse(value).toInstant();
        } catch (DateTimeParseException e) {
            problems.add(new FieldProblem(field, "must be an ISO-8601 time with offset, like 2026-11-26T09:00:00Z"));
            return null;
        }
    }

    /** Whether nothing is filtered (every run matches). */
    public boolean isEmpty() {
        return workflowId == null && status == null && trigger == null && createdAfter == null && createdBefore == null;
    }

    /** The parameters of {@link #WHERE}. */
    public Map<String, Object> params() {
        Map<String, Object> params = new HashMap<>();
        params.put("f_workflow", new SqlParameterValue(Types.BIGINT, workflowId));
        params.put("f_status", new SqlParameterValue(Types.VARCHAR, status == null ? null : status.wire()));
        params.put("f_trigger", new SqlParameterValue(Types.VARCHAR, trigger));
        params.put(
                "f_after",
                new SqlParameterValue(Types.TIMESTAMP, createdAfter == null ? null : Timestamp.from(createdAfter)));
        params.put(
                "f_before",
                new SqlParameterValue(Types.TIMESTAMP, createdBefore == null ? null : Timestamp.from(createdBefore)));
        return params;
    }
}
