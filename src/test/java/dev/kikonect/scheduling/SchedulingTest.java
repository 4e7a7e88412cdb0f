package dev.kikonect.scheduling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/** Interval and cron workflows fire on the injected clock, exactly once per due time. */
class SchedulingTest extends ApiTest {

    @Autowired
    Scheduler scheduler;

    @Autowired
    JdbcClient jdbc;

    private final Sink sink = new Sink();

    @AfterEach
    void closeSink() {
        sink.close();
    }

    private List<JsonNode> runs(Api.User user, long workflowId) {
        return api.get("/workflows/" + workflowId + "/runs", user.token())
                .json()
                .path("items")
                .valueStream()
                .toList();
    }

    @Test
    void an_interval_workflow_fires_when_due_with_its_payload_and_moves_to_the_next_slot_on_its_grid() {
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(
                user, "interval", sink.url(), Map.of("interval_minutes", 5, "payload", Map.of("kind", "tick")));
        long id = wf.path("id").asLong();
        Instant firstDue = Instant.parse(wf.path("next_run_at").asString());
        assertThat(runs(user, id)).isEmpty();

        clock.advance(Duration.ofMinutes(5).plusSeconds(1));

        eventually().until(() -> runs(user, id).size() == 1);
        JsonNode run = runs(user, id).get(0);
        assertThat(run.path("trigger").asString()).isEqualTo("interval");
        eventually().until(() -> sink.received().size() == 1);
        assertThat(Api.JSON.readTree(sink.received().get(0).body()).path("kind").asString())
                .isEqualTo("tick");
        JsonNode after = api.get("/workflows/" + id, user.token()).json();
        assertThat(Instant.parse(after.path("next_run_at").asString())).isEqualTo(firstDue.plus(Duration.ofMinutes(5)));
        assertThat(after.path("last_fired_at").isNull()).isFalse();
    }

    @Test
    void an_interval_workflow_that_missed_many_slots_fires_once_then_stays_on_its_grid() {
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(user, "interval", sink.url(), Map.of("interval_minutes", 1));
        long id = wf.path("id").asLong();
        Instant firstDue = Instant.parse(wf.path("next_run_at").asString());

        clock.advance(Duration.ofMinutes(10).plusSeconds(30));

        eventually().until(() -> runs(user, id).size() == 1);
        Instant next = Instant.parse(api.get("/workflows/" + id, user.token())
                .json()
                .path("next_run_at")
                .asString());
        assertThat(next).isAfter(clock.instant());
        assertThat(Duration.between(firstDue, next).toSeconds() % 60).isZero();
        scheduler.fireDue();
        assertThat(runs(user, id)).hasSize(1);
    }

    @Test
    void a_cron_workflow_fires_at_its_time() {
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(
                user, "cron", sink.url(), Map.of("expression", "0 * * * *", "timezone", "Europe/Berlin"));
        long id = wf.path("id").asLong();
        Instant due = Instant.parse(wf.path("next_run_at").asString());

        clock.advance(Duration.between(clock.instant(), due).plusSeconds(1));

        eventually().until(() -> runs(user, id).size() == 1);
        assertThat(runs(user, id).get(0).path("trigger").asString()).isEqualTo("cron");
        Instant next = Instant.parse(api.get("/workflows/" + id, user.token())
                .json()
                .path("next_run_at")
                .asString());
        assertThat(next).isEqualTo(due.plus(Duration.ofHours(1)));
        eventually().until(() -> sink.received().size() == 1);
    }

    @Test
    void a_six_field_cron_fires_every_second_in_real_time() {
        Api.User user = api.newUser();
        long id = api.createWorkflow(user, "cron", sink.url(), Map.of("expression", "* * * * * *"))
                .path("id")
                .asLong();

        eventually().until(() -> runs(user, id).size() >= 2);
        eventually().until(() -> sink.received().size() >= 2);
        // Paused, or it fires every second for the rest of the suite at a port the OS hands to a later test's server
        // (PushNotificationsTest's push service once got its deliveries).
        patch(user, id, "{\"enabled\":false}");
    }

    @Test
    void schedulers_racing_over_the_same_due_workflows_fire_each_exactly_once() throws Exception {
        Api.User user = api.newUser();
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            ids.add(api.createWorkflow(user, "interval", sink.url(), Map.of("interval_minutes", 60))
                    .path("id")
                    .asLong());
        }

        clock.advance(Duration.ofMinutes(61));
        List<Callable<Integer>> racers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            racers.add(scheduler::fireDue);
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(6)) {
            for (Future<Integer> f : pool.invokeAll(racers)) {
                f.get();
            }
        }

        // The application's own scheduler loop raced too, and may still be committing the firings it won (the racers
        // skipped the rows it had locked): wait for all 40, then each must have fired exactly once.
        Callable<List<Long>> counts =
                () -> jdbc.sql("SELECT count(*) FROM workflow_runs WHERE workflow_id IN (:ids) GROUP BY workflow_id")
                        .param("ids", ids)
                        .query(Long.class)
                        .list();
        eventually().until(() -> counts.call().size() == 40);
        assertThat(counts.call()).hasSize(40).containsOnly(1L);
    }

    @Test
    void a_paused_workflow_does_not_fire_and_answers_409_to_triggers() {
        Api.User user = api.newUser();
        long id = api.createWorkflow(user, "interval", sink.url(), Map.of("interval_minutes", 2))
                .path("id")
                .asLong();
        assertThat(api.send("PATCH", "/workflows/" + id, user.token(), "application/json", "{\"enabled\":false}")
                        .status())
                .isEqualTo(200);

        clock.advance(Duration.ofMinutes(3));
        scheduler.fireDue();

        assertThat(runs(user, id)).isEmpty();
        Api.Response manual = api.post("/workflows/" + id + "/trigger", user.token(), "{}");
        assertThat(manual.status()).isEqualTo(409);
        assertThat(manual.json().path("detail").asString()).contains("paused");
    }

    @Test
    void a_workflow_paused_through_five_firings_fires_once_after_resuming_with_fire_once() {
        Api.User user = api.newUser();
        long id = api.createWorkflow(user, "interval", sink.url(), Map.of("interval_minutes", 1))
                .path("id")
                .asLong();
        patch(user, id, "{\"enabled\":false}");

        clock.advance(Duration.ofMinutes(5).plusSeconds(30));
        patch(user, id, "{\"enabled\":true}");

        eventually().until(() -> runs(user, id).size() == 1);
        scheduler.fireDue();
        assertThat(runs(user, id)).hasSize(1);
        Instant next = Instant.parse(api.get("/workflows/" + id, user.token())
                .json()
                .path("next_run_at")
                .asString());
        assertThat(next).isAfter(clock.instant());
    }

    @Test
    void a_workflow_paused_through_five_firings_does_not_fire_after_resuming_with_skip() {
        Api.User user = api.newUser();
        long id = api.createWorkflow(
                        user, "interval", sink.url(), Map.of("interval_minutes", 1), Map.of("misfire", "skip"))
                .path("id")
                .asLong();
        patch(user, id, "{\"enabled\":false}");

        clock.advance(Duration.ofMinutes(5).plusSeconds(30));
        patch(user, id, "{\"enabled\":true}");

        eventually()
                .until(() -> Instant.parse(api.get("/workflows/" + id, user.token())
                                .json()
                                .path("next_run_at")
                                .asString())
                        .isAfter(clock.instant()));
        assertThat(runs(user, id)).isEmpty();
        // ...and it is back on its grid: the next slot fires normally.
        clock.advance(Duration.ofMinutes(1));
        eventually().until(() -> runs(user, id).size() == 1);
    }

    @Test
    void overlap_skip_records_firings_as_skipped_while_a_slow_run_is_unfinished() {
        sink.replyWith(r -> Sink.Reply.hanging());
        Api.User user = api.newUser();
        long id = api.createWorkflow(
                        user,
                        "interval",
                        sink.url(),
                        Map.of("interval_minutes", 1),
                        Map.of("overlap", "skip", "max_attempts", 20))
                .path("id")
                .asLong();

        clock.advance(Duration.ofSeconds(61));
        eventually().until(() -> sink.received().size() >= 1);
        clock.advance(Duration.ofSeconds(60));
        eventually().until(() -> runs(user, id).size() == 2);

        List<JsonNode> runs = runs(user, id);
        assertThat(runs.get(0).path("status").asString()).isEqualTo("skipped");
        assertThat(runs.get(0).path("error").asString()).contains("overlap");
        assertThat(runs.get(0).path("scheduled_for").isNull()).isFalse();
        assertThat(runs.get(1).path("status").asString()).isIn("running", "retrying", "pending");
        assertThat(jdbc.sql("SELECT count(*) FROM jobs WHERE run_id = :r")
                        .param("r", runs.get(0).path("id").asLong())
                        .query(Long.class)
                        .single())
                .isZero();
    }

    @Test
    void each_scheduled_run_names_the_slot_it_was_fired_for_and_the_lag_is_measured() {
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(user, "interval", sink.url(), Map.of("interval_minutes", 7));
        long id = wf.path("id").asLong();

        clock.advance(Duration.ofMinutes(7).plusSeconds(1));

        eventually().until(() -> runs(user, id).size() == 1);
        JsonNode run = runs(user, id).get(0);
        assertThat(Instant.parse(run.path("scheduled_for").asString()))
                .isEqualTo(Instant.parse(wf.path("next_run_at").asString()));
        Api.Response metrics = api.get("/metrics", null);
        assertThat(metrics.status()).isEqualTo(200);
        String count = metrics.body()
                .lines()
                .filter(l -> l.startsWith("kikonect_scheduler_lag_seconds_count"))
                .findFirst()
                .orElseThrow();
        assertThat(Double.parseDouble(count.substring(count.lastIndexOf(' ') + 1)))
                .isPositive();
        assertThat(metrics.body()).contains("kikonect_scheduler_lag_seconds_bucket");
    }

    @Test
    void the_next_fire_times_are_previewed_in_utc_and_in_the_workflow_zone() {
        Api.User user = api.newUser();
        long id = api.createWorkflow(
                        user,
                        "cron",
                        sink.url(),
                        Map.of("expression", "0 9 * * MON-FRI", "timezone", "America/New_York"))
                .path("id")
                .asLong();

        Api.Response preview = api.get("/workflows/" + id + "/schedule?count=7", user.token());

        assertThat(preview.status()).isEqualTo(200);
        assertThat(preview.json().path("timezone").asString()).isEqualTo("America/New_York");
        List<JsonNode> times = preview.json().path("fire_times").valueStream().toList();
        assertThat(times).hasSize(7);
        assertThat(times).allSatisfy(t -> assertThat(t.path("local").asString()).contains("T09:00"));
        assertThat(api.get("/workflows/" + id + "/schedule?count=101", user.token())
                        .status())
                .isEqualTo(400);
    }

    @Test
    void an_unsaved_schedule_can_be_previewed_and_a_bad_one_is_explained() {
        Api.User user = api.newUser();
        Api.Response ok = api.post(
                "/schedule/preview",
                user.token(),
                Map.of("trigger_type", "interval", "trigger_config", Map.of("interval_minutes", 90), "count", 3));
        Api.Response bad = api.post(
                "/schedule/preview",
                user.token(),
                Map.of("trigger_type", "cron", "trigger_config", Map.of("expression", "0 25 * * *")));

        assertThat(ok.status()).isEqualTo(200);
        List<Instant> times = ok.json()
                .path("fire_times")
                .valueStream()
                .map(t -> Instant.parse(t.path("at").asString()))
                .toList();
        assertThat(times).hasSize(3);
        assertThat(Duration.between(times.get(0), times.get(1))).isEqualTo(Duration.ofMinutes(90));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().path("errors").get(0).path("field").asString()).isEqualTo("trigger_config.expression");
    }

    private void patch(Api.User user, long id, String body) {
        Api.Response response = api.send("PATCH", "/workflows/" + id, user.token(), "application/json", body);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
    }

    @Autowired
    ScheduleStore store;

    @Test
    void a_slot_is_never_claimed_before_its_time_not_even_by_400_nanoseconds() {
        Api.User user = api.newUser();
        long id = api.createWorkflow(user, "cron", sink.url(), Map.of("expression", "0 9 * * *"))
                .path("id")
                .asLong();
        Instant slot = Instant.parse("2099-01-01T09:00:00Z"); // far from anything the running scheduler will reach
        jdbc.sql("UPDATE workflows SET next_run_at = :slot WHERE id = :id")
                .param("slot", Timestamp.from(slot))
                .param("id", id)
                .update();
        try {
            // PostgreSQL rounds a bound 08:59:59.9999996 up to 09:00:00.000000; the claim must not take the slot then.
            assertThat(store.claimDue(slot.minusNanos(400), 1_000_000))
                    .extracting(ScheduleStore.Due::id)
                    .doesNotContain(id);
            assertThat(store.claimDue(slot.minusNanos(1), 1_000_000))
                    .extracting(ScheduleStore.Due::id)
                    .doesNotContain(id);
            assertThat(store.claimDue(slot, 1_000_000))
                    .extracting(ScheduleStore.Due::id)
                    .contains(id);
        } finally {
            api.send("DELETE", "/workflows/" + id, user.token(), null, null);
        }
    }
}
