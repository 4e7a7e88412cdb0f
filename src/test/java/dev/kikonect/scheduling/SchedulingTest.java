package dev.kikonect.scheduling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
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

  @Autowired Scheduler scheduler;
  @Autowired JdbcClient jdbc;

  private final Sink sink = new Sink();

  @AfterEach
  void closeSink() {
    sink.close();
  }

  private List<JsonNode> runs(Api.User user, long workflowId) {
    return api.get("/workflows/" + workflowId + "/runs", user.token()).json().path("items").valueStream().toList();
  }

  @Test
  void an_interval_workflow_fires_when_due_with_its_payload_and_moves_to_the_next_slot_on_its_grid() {
    Api.User user = api.newUser();
    JsonNode wf =
        api.createWorkflow(user, "interval", sink.url(), Map.of("interval_minutes", 5, "payload", Map.of("kind", "tick")));
    long id = wf.path("id").asLong();
    Instant firstDue = Instant.parse(wf.path("next_run_at").asString());
    assertThat(runs(user, id)).isEmpty();

    clock.advance(Duration.ofMinutes(5).plusSeconds(1));

    eventually().until(() -> runs(user, id).size() == 1);
    JsonNode run = runs(user, id).get(0);
    assertThat(run.path("trigger").asString()).isEqualTo("interval");
    eventually().until(() -> sink.received().size() == 1);
    assertThat(Api.JSON.readTree(sink.received().get(0).body()).path("kind").asString()).isEqualTo("tick");
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
    Instant next = Instant.parse(api.get("/workflows/" + id, user.token()).json().path("next_run_at").asString());
    assertThat(next).isAfter(clock.instant());
    assertThat(Duration.between(firstDue, next).toSeconds() % 60).isZero();
    scheduler.fireDue();
    assertThat(runs(user, id)).hasSize(1);
  }

  @Test
  void a_cron_workflow_fires_at_its_time() {
    Api.User user = api.newUser();
    JsonNode wf = api.createWorkflow(user, "cron", sink.url(), Map.of("expression", "0 * * * *", "timezone", "Europe/Berlin"));
    long id = wf.path("id").asLong();
    Instant due = Instant.parse(wf.path("next_run_at").asString());

    clock.advance(Duration.between(clock.instant(), due).plusSeconds(1));

    eventually().until(() -> runs(user, id).size() == 1);
    assertThat(runs(user, id).get(0).path("trigger").asString()).isEqualTo("cron");
    Instant next = Instant.parse(api.get("/workflows/" + id, user.token()).json().path("next_run_at").asString());
    assertThat(next).isEqualTo(due.plus(Duration.ofHours(1)));
    eventually().until(() -> sink.received().size() == 1);
  }

  @Test
  void a_six_field_cron_fires_every_second_in_real_time() {
    Api.User user = api.newUser();
    long id = api.createWorkflow(user, "cron", sink.url(), Map.of("expression", "* * * * * *")).path("id").asLong();

    eventually().until(() -> runs(user, id).size() >= 2);
    eventually().until(() -> sink.received().size() >= 2);
  }

  @Test
  void schedulers_racing_over_the_same_due_workflows_fire_each_exactly_once() throws Exception {
    Api.User user = api.newUser();
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      ids.add(api.createWorkflow(user, "interval", sink.url(), Map.of("interval_minutes", 60)).path("id").asLong());
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

    // The application's own scheduler loop raced too; whoever won, each workflow fired once.
    List<Long> counts =
        jdbc.sql("SELECT count(*) FROM workflow_runs WHERE workflow_id IN (:ids) GROUP BY workflow_id")
            .param("ids", ids)
            .query(Long.class)
            .list();
    assertThat(counts).hasSize(40).containsOnly(1L);
  }

  @Test
  void a_paused_workflow_does_not_fire() {
    Api.User user = api.newUser();
    long id = api.createWorkflow(user, "interval", sink.url(), Map.of("interval_minutes", 2)).path("id").asLong();
    jdbc.sql("UPDATE workflows SET enabled = false WHERE id = :id").param("id", id).update();

    clock.advance(Duration.ofMinutes(3));
    scheduler.fireDue();

    assertThat(runs(user, id)).isEmpty();
  }
}
