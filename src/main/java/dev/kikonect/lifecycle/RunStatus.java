package dev.kikonect.lifecycle;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where a run is in its life. The one list of statuses: the {@code workflow_runs} CHECK constraint, the OpenAPI
 * {@code RunStatus} enum and the web app are tested against it ({@code RunStatusTest}).
 *
 * <p>Its machine is {@link #TRANSITIONS} (with the states a run starts in, {@link #INITIAL}); {@code
 * docs/state-machine.md} draws it, and {@code StateMachineTest} drives every lifecycle statement and fails on any
 * change of status this table lacks. In short: a run starts pending (or already finished: filtered, failed by its
 * filter, skipped); a claim makes it running; a one-step run goes retrying between attempts; it ends succeeded, failed
 * or cancelled. Cancel takes a pending or retrying run, and a running one with steps (its steps in flight finish,
 * nothing new starts). Retry from the failure takes a failed run back to pending. A node that stops hands a claimed
 * run back: pending when nothing was attempted yet, else retrying.
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

    /** The statuses a run is inserted with. */
    public static final Set<RunStatus> INITIAL = EnumSet.of(PENDING, FILTERED, FAILED, SKIPPED);

    /** Every change of status a lifecycle statement may make (from, then the statuses it may go to). */
    public static final Map<RunStatus, Set<RunStatus>> TRANSITIONS = Transitions.table(
            RunStatus.class,
            PENDING,
            EnumSet.of(RUNNING, CANCELLED),
            RUNNING,
            EnumSet.of(SUCCEEDED, FAILED, RETRYING, CANCELLED, PENDING),
            RETRYING,
            EnumSet.of(RUNNING, CANCELLED),
            FAILED,
            EnumSet.of(PENDING));

    /** Whether a statement may change a run's status from {@code from} to {@code to}. */
    public static boolean allows(RunStatus from, RunStatus to) {
        return TRANSITIONS.get(from).contains(to);
    }

    /** Statuses of runs that are not finished: an overlap check counts these. */
    public static final List<RunStatus> ACTIVE = List.of(PENDING, RUNNING, RETRYING);

    /** {@link #ACTIVE} as an SQL list, for {@code status IN ...}. */
    public static final String ACTIVE_SQL = sqlList(ACTIVE);

    /** The name on the wire and in the database: lower case. */
    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
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
