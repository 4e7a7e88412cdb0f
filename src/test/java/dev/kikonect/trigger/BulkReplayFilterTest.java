package dev.kikonect.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/** "Replay all matching" takes exactly the runs the list shows with the same filters: one test per filter. */
class BulkReplayFilterTest extends ApiTest {

    @Autowired
    JdbcClient jdbc;

    private final Sink sink = new Sink();

    @AfterEach
    void closeSink() {
        sink.close();
    }

    /** A workspace with runs of every kind the filters tell apart; returns its user and the ids the filters name. */
    private record Setup(Api.User user, long manual, long paused, Instant between) {
        /** A filter value known only once the setup is made. */
        enum Ref {
            MANUAL,
            BETWEEN;

            Object of(Setup setup) {
                return this == MANUAL
                        ? (Object) setup.manual()
                        : setup.between().toString();
            }
        }
    }

    private Setup setup() {
        Api.User user = api.newUser();
        long manual = api.createWorkflow(user, "manual", sink.url(), Map.of())
                .path("id")
                .asLong();
        JsonNode hook = api.post(
                        "/workflows",
                        user.token(),
                        Map.of(
                                "name",
                                "h",
                                "trigger_type",
                                "webhook",
                                "action_url",
                                sink.url(),
                                "filter",
                                "payload.keep = true"))
                .json();
        long paused = api.createWorkflow(user, "manual", sink.url(), Map.of())
                .path("id")
                .asLong();
        for (int i = 0; i < 2; i++) {
            awaitFinished(
                    user,
                    api.post("/workflows/" + manual + "/trigger", user.token(), "{}")
                            .json()
                            .path("id")
                            .asLong());
        }
        for (boolean keep : new boolean[] {true, true, false}) {
            long run = api.send(
                            "POST",
                            hook.path("webhook_url").asString(),
                            null,
                            "application/json",
                            "{\"keep\":" + keep + "}")
                    .json()
                    .path("id")
                    .asLong();
            if (keep) {
                awaitFinished(user, run); // (a filtered run is finished when it is made)
            }
        }
        awaitFinished(
                user,
                api.post("/workflows/" + paused + "/trigger", user.token(), "{}")
                        .json()
                        .path("id")
                        .asLong());
        assertThat(api.send("PATCH", "/workflows/" + paused, user.token(), "application/json", "{\"enabled\":false}")
                        .status())
                .isEqualTo(200);
        // the manual workflow's runs are two hours old
        Instant now = clock.instant();
        jdbc.sql("UPDATE workflow_runs SET created_at = :at WHERE workflow_id = :wf")
                .param("at", Timestamp.from(now.minus(Duration.ofHours(2))))
                .param("wf", manual)
                .update();
        return new Setup(user, manual, paused, now.minus(Duration.ofHours(1)));
    }

    private void replaysExactlyWhatTheListShows(Map<String, Object> filter, int expected) {
        Setup setup = setup();
        Map<String, Object> body = new HashMap<>(filter);
        body.replaceAll((k, v) -> v instanceof Setup.Ref ref ? ref.of(setup) : v);
        String query = body.entrySet().stream()
                .map(e -> e.getKey() + "=" + URLEncoder.encode(String.valueOf(e.getValue()), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        List<JsonNode> listed = api.get("/runs?limit=100&" + query, setup.user().token())
                .json()
                .path("items")
                .valueStream()
                .toList();
        Set<Long> replayable = listed.stream()
                .filter(r -> r.path("workflow_id").asLong() != setup.paused())
                .map(r -> r.path("id").asLong())
                .collect(Collectors.toSet());

        Map<String, Object> dry = new HashMap<>(body);
        dry.put("dry_run", true);
        JsonNode count = api.post("/runs/replay", setup.user().token(), dry).json();
        Api.Response replayed = api.post("/runs/replay", setup.user().token(), body);

        assertThat(listed).as("the list with " + body).hasSize(expected);
        assertThat(count.path("matching").asInt()).as("the count with " + body).isEqualTo(listed.size());
        assertThat(count.path("replayable").asInt()).isEqualTo(replayable.size());
        assertThat(replayed.status()).as(replayed.body()).isEqualTo(202);
        assertThat(replayed.json().path("replayed").asInt()).isEqualTo(replayable.size());
        Set<Long> sources = jdbc.sql(
                        "SELECT replay_of FROM workflow_runs WHERE workspace_id = :ws AND replay_of IS NOT NULL")
                .param("ws", api.personalWorkspace(setup.user()))
                .query(Long.class)
                .set();
        assertThat(sources).as("replayed: the listed runs of enabled workflows").isEqualTo(replayable);
    }

    @Test
    void the_trigger_filter() {
        replaysExactlyWhatTheListShows(Map.of("trigger", "webhook"), 3);
    }

    @Test
    void a_trigger_no_run_has_replays_nothing() {
        replaysExactlyWhatTheListShows(Map.of("trigger", "cron"), 0);
    }

    @Test
    void the_workflow_filter() {
        replaysExactlyWhatTheListShows(Map.of("workflow_id", Setup.Ref.MANUAL), 2);
    }

    @Test
    void the_status_filter() {
        replaysExactlyWhatTheListShows(Map.of("status", "filtered"), 1);
    }

    @Test
    void the_created_after_filter_with_a_paused_workflows_run_among_them() {
        replaysExactlyWhatTheListShows(Map.of("created_after", Setup.Ref.BETWEEN), 4);
    }

    @Test
    void the_created_before_filter() {
        replaysExactlyWhatTheListShows(Map.of("created_before", Setup.Ref.BETWEEN), 2);
    }

    @Test
    void an_unknown_trigger_is_a_400_naming_the_field_for_the_list_and_the_replay_alike() {
        Api.User user = api.newUser();
        Api.Response list = api.get("/runs?trigger=email", user.token());
        Api.Response replay = api.post("/runs/replay", user.token(), Map.of("trigger", "email"));
        assertThat(list.status()).isEqualTo(400);
        assertThat(replay.status()).isEqualTo(400);
        assertThat(replay.json().path("errors").get(0).path("field").asString()).isEqualTo("trigger");
        assertThat(replay.json().path("errors").get(0).path("reason").asString())
                .isEqualTo(list.json().path("errors").get(0).path("reason").asString());
    }
}
