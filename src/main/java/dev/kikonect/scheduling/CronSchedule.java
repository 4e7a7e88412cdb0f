package dev.kikonect.scheduling;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.List;
import org.springframework.scheduling.support.CronExpression;

/**
 * Fire times of a cron expression in a time zone, with daylight saving time handled on purpose:
 *
 * <ul>
 *   <li>A local time skipped by the spring-forward jump (02:30 on the night clocks go from 02:00 to 03:00) fires
 *       once, at the first valid instant after the gap (03:00). Several skipped times collapse into that one firing.
 *   <li>A local time repeated by the fall-back (02:30 happens twice) fires once, at its first occurrence, when the
 *       expression names its hours. When the hour field is {@code *} (every hour, every 15 minutes...), the
 *       expression follows real time and fires in both passes of the repeated hour, so "every 15 minutes" stays
 *       every 15 minutes. This is how cron daemons have long treated fixed-time and wildcard jobs.
 * </ul>
 */
final class CronSchedule {

    private final CronExpression cron;
    private final ZoneId zone;
    private final ZoneRules rules;
    private final boolean everyHour;

    CronSchedule(CronExpression cron, ZoneId zone, boolean everyHour) {
        this.cron = cron;
        this.zone = zone;
        this.rules = zone.getRules();
        this.everyHour = everyHour;
    }

    /** The first fire time strictly after {@code after}, or null if the expression never fires again. */
    Instant next(Instant after) {
        Instant fire = nextByLocalTime(after);
        if (everyHour) {
            // Real time: the second pass through a repeated hour comes after the first in time, but its local times are
            // earlier than the end of the first pass, so a search by local time alone would jump over it.
            ZoneOffsetTransition transition = rules.nextTransition(after);
            if (transition != null
                    && transition.isOverlap()
                    && (fire == null || !transition.getInstant().isAfter(fire))) {
                LocalDateTime secondPass =
                        cron.next(transition.getDateTimeAfter().minusNanos(1));
                if (secondPass != null && secondPass.isBefore(transition.getDateTimeBefore())) {
                    Instant candidate = secondPass.toInstant(transition.getOffsetAfter());
                    if (candidate.isAfter(after) && (fire == null || candidate.isBefore(fire))) {
                        fire = candidate;
                    }
                }
            }
        }
        return fire;
    }

    private Instant nextByLocalTime(Instant after) {
        LocalDateTime local = LocalDateTime.ofInstant(after, zone);
        for (int guard = 0; guard < 100_000; guard++) {
            LocalDateTime candidate = cron.next(local);
            if (candidate == null) {
                return null;
            }
            List<ZoneOffset> offsets = rules.getValidOffsets(candidate);
            Instant fire = null;
            if (offsets.size() == 1) {
                fire = candidate.toInstant(offsets.get(0));
            } else if (offsets.isEmpty()) {
                fire = rules.getTransition(candidate).getInstant(); // in the gap: the first instant after it
            } else {
                // Repeated by the fall-back: offsets[0] is the earlier instant (the summer offset).
                Instant first = candidate.toInstant(offsets.get(0));
                Instant second = candidate.toInstant(offsets.get(1));
                Instant earlier = first.isBefore(second) ? first : second;
                Instant later = first.isBefore(second) ? second : first;
                if (earlier.isAfter(after)) {
                    fire = earlier;
                } else if (everyHour && later.isAfter(after)) {
                    fire = later;
                }
            }
            if (fire != null && fire.isAfter(after)) {
                return fire;
            }
            local = candidate;
        }
        return null;
    }
}
