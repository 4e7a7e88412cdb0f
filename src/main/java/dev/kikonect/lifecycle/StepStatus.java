package dev.kikonect.lifecycle;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where a step of a run with steps is ({@code run_steps.status}). A step starts pending (it needs nothing) or waiting
 * (for the steps it needs); the last of those to succeed makes it pending, one that fails or is skipped makes it
 * skipped. A claim makes it running; it ends succeeded, failed, skipped (its {@code when} was false) or cancelled, or
 * goes retrying until its next attempt. A node that stops hands it back (pending, or retrying after an attempt).
 * Retry from the failure takes a failed step, and a step skipped because of a failure, back to pending or waiting.
 * {@code docs/state-machine.md} draws it; {@code StateMachineTest} holds every statement to {@link #TRANSITIONS}.
 */
public enum StepStatus {
    WAITING,
    PENDING,
    RUNNING,
    RETRYING,
    SUCCEEDED,
    FAILED,
    SKIPPED,
    CANCELLED;

    /** The statuses a step row is inserted with. */
    public static final Set<StepStatus> INITIAL = EnumSet.of(WAITING, PENDING);

    /** Every change of status a lifecycle statement may make. */
    public static final Map<StepStatus, Set<StepStatus>> TRANSITIONS = Transitions.table(
            StepStatus.class,
            WAITING,
            EnumSet.of(PENDING, SKIPPED, CANCELLED),
            PENDING,
            EnumSet.of(RUNNING, CANCELLED),
            RUNNING,
            EnumSet.of(SUCCEEDED, FAILED, SKIPPED, RETRYING, CANCELLED, PENDING),
            RETRYING,
            EnumSet.of(RUNNING, CANCELLED),
            FAILED,
            EnumSet.of(PENDING, WAITING),
            SKIPPED,
            EnumSet.of(PENDING, WAITING));

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static boolean allows(StepStatus from, StepStatus to) {
        return TRANSITIONS.get(from).contains(to);
    }
}
