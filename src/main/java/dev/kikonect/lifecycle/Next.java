package dev.kikonect.lifecycle;

/**
 * Where a step goes after an attempt (for an untracked run, the run with it). SKIPPED: its {@code when} was false,
 * nothing was sent; CANCELLED: its run was cancelled before it was sent (both only for tracked runs, with no attempt).
 */
public enum Next {
    SUCCEEDED(RunStatus.SUCCEEDED),
    RETRY(RunStatus.RETRYING),
    FAILED(RunStatus.FAILED),
    SKIPPED(RunStatus.SKIPPED),
    CANCELLED(RunStatus.CANCELLED);

    private final RunStatus runStatus;

    Next(RunStatus runStatus) {
        this.runStatus = runStatus;
    }

    /** The run's status after this outcome. */
    public RunStatus runStatus() {
        return runStatus;
    }
}
