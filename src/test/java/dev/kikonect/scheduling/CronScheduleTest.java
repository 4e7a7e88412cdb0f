package dev.kikonect.scheduling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Fire times across daylight saving time changes, weekdays and macros. */
class CronScheduleTest {

    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private static final ZoneId NEW_YORK = ZoneId.of("America/New_York");

    private static List<Instant> times(String expression, ZoneId zone, String from, int count) {
        return Schedule.cron(expression, zone).upcoming(null, Instant.parse(from), count);
    }

    private static List<Instant> instants(String... utc) {
        return Arrays.stream(utc).map(Instant::parse).toList();
    }

    @Test
    void berlin_spring_forward_fires_a_skipped_time_once_at_the_end_of_the_gap() {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that night.
        assertThat(times("30 2 * * *", BERLIN, "2026-03-27T12:00:00Z", 3))
                .containsExactlyElementsOf(
                        instants("2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"));
    }

    @Test
    void berlin_fall_back_fires_a_repeated_time_once() {
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice; only the first counts.
        assertThat(times("30 2 * * *", BERLIN, "2026-10-24T12:00:00Z", 2))
                .containsExactlyElementsOf(instants("2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"));
    }

    @Test
    void new_york_spring_forward_and_fall_back_fire_once_each() {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT.
        assertThat(times("30 2 * * *", NEW_YORK, "2026-03-07T12:00:00Z", 3))
                .containsExactlyElementsOf(
                        instants("2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"));
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST, so 01:30 happens twice.
        assertThat(times("30 1 * * *", NEW_YORK, "2026-10-31T12:00:00Z", 2))
                .containsExactlyElementsOf(instants("2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"));
    }

    @Test
    void a_frequent_schedule_keeps_real_time_through_the_repeated_hour() {
        assertThat(times("*/30 * * * *", BERLIN, "2026-10-25T00:00:00Z", 4))
                .containsExactlyElementsOf(instants(
                        "2026-10-25T00:30:00Z",
                        "2026-10-25T01:00:00Z",
                        "2026-10-25T01:30:00Z",
                        "2026-10-25T02:00:00Z"));
    }

    @Test
    void an_hourly_schedule_fires_once_per_real_hour_across_the_gap() {
        assertThat(times("0 * * * *", BERLIN, "2026-03-28T23:30:00Z", 3))
                .containsExactlyElementsOf(
                        instants("2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"));
    }

    @Test
    void weekdays_only_fires_monday_to_friday() {
        List<Instant> fires = times("0 9 * * MON-FRI", BERLIN, "2026-11-28T12:00:00Z", 10); // a Saturday
        assertThat(fires).hasSize(10);
        assertThat(fires).allSatisfy(t -> {
            var local = t.atZone(BERLIN);
            assertThat(local.getDayOfWeek()).isNotIn(DayOfWeek.SATURDAY, DayOfWeek.SUNDAY);
            assertThat(local.getHour()).isEqualTo(9);
            assertThat(local.getMinute()).isZero();
        });
        assertThat(fires.get(0)).isEqualTo(Instant.parse("2026-11-30T08:00:00Z"));
    }

    @Test
    void six_fields_put_seconds_first_and_macros_work() {
        assertThat(times("15 30 9 * * *", ZoneId.of("UTC"), "2026-11-26T00:00:00Z", 1))
                .containsExactly(Instant.parse("2026-11-26T09:30:15Z"));
        assertThat(times("@daily", BERLIN, "2026-11-26T12:00:00Z", 1))
                .containsExactly(Instant.parse("2026-11-26T23:00:00Z"));
        assertThat(times("@hourly", ZoneId.of("UTC"), "2026-11-26T12:10:00Z", 1))
                .containsExactly(Instant.parse("2026-11-26T13:00:00Z"));
        assertThat(times("@weekly", ZoneId.of("UTC"), "2026-11-26T12:00:00Z", 1))
                .containsExactly(Instant.parse("2026-11-29T00:00:00Z"));
        assertThat(times("@monthly", ZoneId.of("UTC"), "2026-11-26T12:00:00Z", 1))
                .containsExactly(Instant.parse("2026-12-01T00:00:00Z"));
        assertThat(times("@yearly", ZoneId.of("UTC"), "2026-11-26T12:00:00Z", 1))
                .containsExactly(Instant.parse("2027-01-01T00:00:00Z"));
    }

    @Test
    void invalid_expressions_say_what_is_wrong() {
        assertThatThrownBy(() -> Schedule.cron("* * *", BERLIN)).hasMessageContaining("5 fields");
        assertThatThrownBy(() -> Schedule.cron("61 * * * *", BERLIN))
                .hasMessageContaining("not a valid cron expression");
        assertThatThrownBy(() -> Schedule.cron("@fortnightly", BERLIN)).hasMessageContaining("unknown macro");
        assertThatThrownBy(() -> Schedule.cron("0 0 30 2 *", BERLIN)).hasMessageContaining("never fires");
    }
}
