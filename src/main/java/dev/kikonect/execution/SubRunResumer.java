package dev.kikonect.execution;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.BackgroundLoop;
import dev.kikonect.lifecycle.SubRuns;
import dev.kikonect.lifecycle.WorkSignal;
import java.time.Clock;
import java.time.Duration;
import org.springframework.stereotype.Component;

/**
 * Gives the steps waiting for a sub-workflow their job back once its run ended ({@link SubRuns#resumeEnded}): every
 * 200 ms, at once again while there is more; exactly once across nodes.
 */
@Component
class SubRunResumer extends BackgroundLoop {

    private static final int BATCH = 500;

    private final SubRuns subRuns;
    private final WorkSignal signal;
    private final Clock clock;

    SubRunResumer(SubRuns subRuns, WorkSignal signal, Clock clock, KiKonectProperties properties) {
        super(
                "kikonect-sub-runs",
                properties.hasRole("executor") && properties.executor().enabled());
        this.subRuns = subRuns;
        this.signal = signal;
        this.clock = clock;
    }

    @Override
    protected Duration runOnce() {
        int resumed = subRuns.resumeEnded(BATCH, clock.instant());
        if (resumed > 0) {
            signal.wake();
        }
        return resumed == BATCH ? Duration.ZERO : Duration.ofMillis(200);
    }
}
