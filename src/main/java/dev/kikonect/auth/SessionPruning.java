package dev.kikonect.auth;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.BackgroundLoop;
import java.time.Clock;
import java.time.Duration;
import org.springframework.stereotype.Component;

/** Deletes login sessions a day after they expired or were revoked. Runs on scheduler nodes, as retention does. */
@Component
class SessionPruning extends BackgroundLoop {

    private final SessionStore sessions;
    private final Clock clock;
    private final Duration interval;

    SessionPruning(SessionStore sessions, Clock clock, KiKonectProperties properties) {
        super("kikonect-session-pruning", properties.hasRole("scheduler"));
        this.sessions = sessions;
        this.clock = clock;
        this.interval = properties.retention().interval();
    }

    /** One pass; returns how many sessions were deleted. */
    int prune() {
        return sessions.pruneEnded(clock.instant().minus(Duration.ofDays(1)));
    }

    @Override
    protected Duration runOnce() {
        prune();
        return interval;
    }
}
