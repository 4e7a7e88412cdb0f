package dev.kikonect.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/** The dashboard's figures come from the database over every run; lists stay lean. */
class StatsAndListsTest extends ApiTest {

    @Autowired
    JdbcClient jdbc;

    private static final String[] STATUSES = {
        "succeeded",
        "succeeded",
        "succeeded",
        "failed",
        "succeeded",
        "cancelled",
        "succeeded",
        "skipped",
        "succeeded",
        "failed"
    };

    @Test
    void the_dashboard_figures_count_every_one_of_10000_runs() {
        Api.User user = api.newUser();
        long first = api.createWorkflow(user, "manual", "http://127.0.0.1:9/", Map.of())
                .path("id")
                .asLong();
        long second = api.createWorkflow(user, "manual", "http://127.0.0.1:9/", Map.of())
                .path("id")
                .asLong();
        Instant now = clock.instant();
        Instant since = now.truncatedTo(ChronoUnit.HOURS).minus(23, ChronoUnit.HOURS);
        // 10,000 runs spread over the last 30 hours (so some fall before the window), statuses in a fixed pattern.
        int total = 10_000;
        jdbc.sql("""
            INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, created_at, ended_at)
            SELECT CASE WHEN i % 3 = 0 THEN :second ELSE :first END, :user, (:statuses::text[])[i % 10 + 1], 'manual',
                   '{}'::json, CAST(:now AS timestamptz) - (i * interval '10.8 seconds'),
                   CAST(:now AS timestamptz) - (i * interval '10.8 seconds') + ((i % 7) * interval '1 second')
              FROM generate_series(0, :total - 1) AS i
            """)
                .param("first", first)
                .param("second", second)
                .param("user", api.personalWorkspace(user))
                .param("statuses", STATUSES)
                .param("now", Timestamp.from(now))
                .param("total", total)
                .update();
        // What the figures must be, counted here by the same rule.
        Map<String, Long> byStatus = new HashMap<>();
        long inWindow = 0;
        long[] perWorkflow = new long[2];
        for (int i = 0; i < total; i++) {
            Instant created = now.minusMillis(i * 10_800L);
            if (created.isBefore(since)) {
                continue;
            }
            inWindow++;
            byStatus.merge(STATUSES[i % 10], 1L, Long::sum);
            perWorkflow[i % 3 == 0 ? 1 : 0]++;
        }

        JsonNode stats = api.get("/stats", user.token()).json();

        assertThat(inWindow).isBetween(7_600L, 8_100L); // most, not all, of the 10,000 are in the window
        assertThat(stats.path("runs").asLong()).isEqualTo(inWindow);
        for (String status : List.of("succeeded", "failed", "cancelled", "skipped")) {
            assertThat(stats.path("by_status").path(status).asLong())
                    .as(status)
                    .isEqualTo(byStatus.getOrDefault(status, 0L));
        }
        assertThat(stats.path("by_status").path("pending").asLong()).isZero();
        assertThat(stats.path("success_rate").asDouble())
                .isCloseTo(
                        (double) byStatus.get("succeeded") / (byStatus.get("succeeded") + byStatus.get("failed")),
                        Offset.offset(1e-9));
        List<JsonNode> hourly = stats.path("hourly").valueStream().toList();
        assertThat(hourly).hasSize(24);
        assertThat(Instant.parse(hourly.get(0).path("hour").asString())).isEqualTo(since);
        assertThat(hourly.stream()
                        .mapToLong(h -> h.path("succeeded").asLong()
                                + h.path("failed").asLong()
                                + h.path("other").asLong())
                        .sum())
                .isEqualTo(inWindow);
        assertThat(hourly.stream().mapToLong(h -> h.path("failed").asLong()).sum())
                .isEqualTo(byStatus.get("failed"));
        List<JsonNode> workflows = stats.path("workflows").valueStream().toList();
        assertThat(workflows).extracting(w -> w.path("workflow_id").asLong()).containsExactly(first, second);
        assertThat(workflows).extracting(w -> w.path("runs").asLong()).containsExactly(perWorkflow[0], perWorkflow[1]);
        assertThat(stats.path("latency").path("max_ms").asLong()).isEqualTo(6_000L);
    }

    @Test
    void stats_of_a_user_without_runs_are_zeros_not_errors() {
        Api.User user = api.newUser();

        JsonNode stats = api.get("/stats", user.token()).json();

        assertThat(stats.path("runs").asLong()).isZero();
        assertThat(stats.path("success_rate").isNull()).isTrue();
        assertThat(stats.path("latency").path("p50_ms").isNull()).isTrue();
        assertThat(stats.path("hourly").size()).isEqualTo(24);
        assertThat(stats.path("workflows").size()).isZero();
    }

    @Test
    void run_lists_carry_no_payload_and_the_run_page_does() {
        Api.User user = api.newUser();
        long workflow = api.createWorkflow(user, "manual", "http://127.0.0.1:9/", Map.of(), Map.of("max_attempts", 1))
                .path("id")
                .asLong();
        long run = api.send(
                        "POST",
                        "/workflows/" + workflow + "/trigger",
                        user.token(),
                        "application/json",
                        "{\"big\":\"" + "x".repeat(10_000) + "\"}")
                .json()
                .path("id")
                .asLong();

        JsonNode all = api.get("/runs", user.token()).json().path("items").get(0);
        JsonNode ofWorkflow = api.get("/workflows/" + workflow + "/runs", user.token())
                .json()
                .path("items")
                .get(0);

        assertThat(all.path("id").asLong()).isEqualTo(run);
        assertThat(all.has("payload")).isFalse();
        assertThat(ofWorkflow.has("payload")).isFalse();
        assertThat(api.get("/runs/" + run, user.token())
                        .json()
                        .path("payload")
                        .path("big")
                        .asString())
                .hasSize(10_000);
    }
}
