package dev.kikonect.execution;

import dev.kikonect.lifecycle.ClaimedJob;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * Fair claims between workspaces. The queue is first come, first served across owners, so one owner's backlog would
 * make every other owner's jobs wait behind it. When one owner took at least three quarters of a batch (of four jobs
 * or more), the executor claims once more without it, so that the others' oldest jobs go out now; when that finds
 * nothing, it does not ask again for {@link #QUIET}. Claim thread only.
 */
final class FairShare {

    /** After a claim without the dominant owner found nothing, how long before the next such claim. */
    static final Duration QUIET = Duration.ofMillis(500);

    private Long dominant;
    private Instant quietUntil = Instant.EPOCH;

    /** An ordinary claim took {@code batch}. */
    void claimed(List<ClaimedJob> batch) {
        dominant = dominant(batch);
    }

    /** The owner to claim without now, if any. */
    OptionalLong skip(Instant now) {
        return dominant != null && now.isAfter(quietUntil) ? OptionalLong.of(dominant) : OptionalLong.empty();
    }

    /** The claim without the dominant owner took {@code found} jobs. */
    void probed(int found, Instant now) {
        if (found == 0) {
            quietUntil = now.plus(QUIET);
        }
    }

    /** The owner of at least three quarters of a batch of four or more jobs, else null. */
    static Long dominant(List<ClaimedJob> jobs) {
        if (jobs.size() < 4) {
            return null;
        }
        Map<Long, Long> counts =
                jobs.stream().collect(Collectors.groupingBy(ClaimedJob::workspaceId, Collectors.counting()));
        return counts.entrySet().stream()
                .filter(e -> e.getValue() * 4 >= jobs.size() * 3L)
                .map(Map.Entry::getKey)
                .findFirst()
                .orElse(null);
    }
}
