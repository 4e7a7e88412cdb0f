package dev.kikonect.lifecycle;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where a queued job is ({@code jobs.status}). A job is inserted pending; a claim makes it processing under a lease;
 * a retry, an expired lease or a node handing it back makes it pending again; a job that is done is deleted, so
 * "done" is not a status. ({@code succeeded}, {@code failed} and {@code cancelled} are still allowed by the table's
 * CHECK from before jobs were deleted; nothing writes them.) {@code StateMachineTest} holds every statement to
 * {@link #TRANSITIONS}.
 */
public enum JobStatus {
    PENDING,
    PROCESSING;

    public static final Set<JobStatus> INITIAL = EnumSet.of(PENDING);

    public static final Map<JobStatus, Set<JobStatus>> TRANSITIONS =
            Transitions.table(JobStatus.class, PENDING, EnumSet.of(PROCESSING), PROCESSING, EnumSet.of(PENDING));

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static boolean allows(JobStatus from, JobStatus to) {
        return TRANSITIONS.get(from).contains(to);
    }
}
