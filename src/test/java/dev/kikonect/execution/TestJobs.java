package dev.kikonect.execution;

import dev.kikonect.lifecycle.ClaimedJob;
import java.time.Instant;
import java.util.UUID;

/** A claimed job as the claim returns one (job 1 of run 10 of workflow 100 in workspace 7), for the executor's tests. */
final class TestJobs {

    private TestJobs() {}

    /**
     * {@code actionUrl} for a one-call workflow, or {@code steps} (its JSON) and the {@code step} this job sends;
     * no signing secrets, no wait, no answering step.
     */
    static ClaimedJob job(
            String actionUrl,
            String steps,
            String step,
            String payload,
            int attempt,
            int maxAttempts,
            boolean cancelled,
            Instant createdAt) {
        return new ClaimedJob(
                1,
                10,
                100,
                attempt,
                0,
                maxAttempts,
                UUID.randomUUID(),
                step,
                actionUrl,
                steps,
                payload,
                "msg_1",
                null,
                null,
                "manual",
                createdAt,
                null,
                null,
                "wf",
                7,
                cancelled,
                0,
                null,
                null);
    }
}
