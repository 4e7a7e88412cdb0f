package dev.kikonect.scheduling;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.scheduling.support.CronExpression;

/** When a scheduled workflow fires next. */
public sealed interface Schedule {

    /**
     * The fire time that follows a firing which was due at {@code due} and is being made at {@code now}. Missed
     * firings in between are collapsed: the result is always after {@code now}, so downtime never causes a burst.
     */
    Instant nextAfter(Instant due, Instant now);

    /** The first fire time of a schedule created or resumed at {@code now}. */
    Instant first(Instant now);

    /** Every {@code every}, on a fixed grid that starts one period after creation (no drift from processing time). */
    record Interval(Duration every) implements Schedule {
        @Override
        public Instant nextAfter(Instant due, Instant now) {
            if (due.isAfter(now)) {
                return due;
            }
            long periods = Duration.between(due, now).toMillis() / every.toMillis() + 1;
            return due.plus(every.multipliedBy(periods));
        }

        @Override
        public Instant first(Instant now) {
            return now.plus(every);
        }
    }

    /** A cron expression evaluated in an IANA time zone; see {@link CronSchedule} for daylight saving time. */
    record Cron(String expression, ZoneId zone, CronSchedule times) implements Schedule {
        @Override
        public Instant nextAfter(Instant due, Instant now) {
            return first(now);
        }

        @Override
        public Instant first(Instant now) {
            return times.next(now);
        }
    }

    /**
     * {@code count} fire times starting with {@code firstFire} (fewer if the schedule ends); with a null
     * {@code firstFire}, starting with the first fire time after {@code now}.
     */
    default List<Instant> upcoming(Instant firstFire, Instant now, int count) {
        List<Instant> times = new ArrayList<>(count);
        Instant next = firstFire != null ? firstFire : first(now);
        while (next != null && times.size() < count) {
            times.add(next);
            next = nextAfter(next, next);
        }
        return times;
    }

    /**
     * The shortest gap between two of the next {@code firings} fire times from {@code now} (a schedule that fires
     * fewer than twice: {@link Duration#ofSeconds(long) Long.MAX_VALUE seconds}). Used to refuse cron expressions that
     * fire more often than the configured minimum.
     */
    default Duration shortestGap(Instant now, int firings) {
        List<Instant> times = upcoming(null, now, firings);
        Duration shortest = Duration.ofSeconds(Long.MAX_VALUE);
        for (int i = 1; i < times.size(); i++) {
            Duration gap = Duration.between(times.get(i - 1), times.get(i));
            if (gap.compareTo(shortest) < 0) {
                shortest = gap;
            }
        }
        return shortest;
    }

    /**
     * The schedule a stored trigger_config describes.
     *
     * @throws IllegalArgumentException for trigger types without a schedule or an invalid config
     */
    static Schedule of(String triggerType, Map<String, Object> config) {
        return switch (triggerType) {
            case "interval" -> new Interval(Duration.ofMinutes(((Number) config.get("interval_minutes")).longValue()));
            case "cron" ->
                cron((String) config.get("expression"), ZoneId.of((String) config.getOrDefault("timezone", "UTC")));
            default -> throw new IllegalArgumentException(triggerType + " workflows have no schedule");
        };
    }

    Set<String> MACROS = Set.of("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly");

    /**
     * Parses a cron expression: 5 fields (minute first), 6 fields (seconds first) or a macro.
     *
     * @throws IllegalArgumentException with a readable reason
     */
    static Cron cron(String expression, ZoneId zone) {
        String trimmed = expression.strip();
        String[] fields = trimmed.split("\\s+");
        String normalized;
        if (trimmed.startsWith("@")) {
            if (!MACROS.contains(trimmed.toLowerCase())) {
                throw new IllegalArgumentException(
                        "unknown macro '" + trimmed + "'; use one of @yearly @monthly @weekly @daily @hourly");
            }
            normalized = trimmed.toLowerCase();
        } else if (fields.length == 5) {
            normalized = "0 " + trimmed;
        } else if (fields.length == 6) {
            normalized = trimmed;
        } else {
            throw new IllegalArgumentException(
                    "must have 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, not "
                            + fields.length);
        }
        CronExpression cron;
        try {
            cron = CronExpression.parse(normalized);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("is not a valid cron expression: " + e.getMessage());
        }
        String hourField = trimmed.startsWith("@")
                ? (trimmed.equalsIgnoreCase("@hourly") ? "*" : "0")
                : normalized.split("\\s+")[2];
        Cron result = new Cron(trimmed, zone, new CronSchedule(cron, zone, hourField.equals("*")));
        if (result.first(Instant.now()) == null) {
            throw new IllegalArgumentException("never fires");
        }
        return result;
    }
}
