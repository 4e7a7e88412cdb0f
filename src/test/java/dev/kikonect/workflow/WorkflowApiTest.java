package dev.kikonect.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class WorkflowApiTest extends ApiTest {

    @Test
    void a_manual_workflow_is_created_with_every_field_in_snake_case() {
        Api.User user = api.newUser();
        Api.Response created = api.post(
                "/workflows",
                user.token(),
                Map.of("name", "Notify", "trigger_type", "manual", "action_url", "https://example.com/in"));

        assertThat(created.status()).isEqualTo(201);
        JsonNode wf = created.json();
        assertThat(wf.path("id").asLong()).isPositive();
        assertThat(wf.path("name").asString()).isEqualTo("Notify");
        assertThat(wf.path("trigger_type").asString()).isEqualTo("manual");
        assertThat(wf.path("action_url").asString()).isEqualTo("https://example.com/in");
        assertThat(wf.path("trigger_config").isObject()).isTrue();
        assertThat(wf.path("enabled").asBoolean()).isTrue();
        assertThat(wf.has("next_run_at")).isTrue();
        assertThat(wf.path("next_run_at").isNull()).isTrue();
        assertThat(wf.path("webhook_url").isNull()).isTrue();
        assertThat(Instant.parse(wf.path("created_at").asString()))
                .isEqualTo(Instant.parse(wf.path("updated_at").asString()));
    }

    @Test
    void
            a_create_with_every_optional_field_null_and_an_empty_steps_list_as_generated_clients_send_it_is_the_shorthand() {
        Api.User user = api.newUser();
        Map<String, Object> body = new HashMap<>();
        body.put("name", "Generated");
        body.put("trigger_type", "manual");
        body.put("action_url", "https://example.com/in");
        body.put("steps", List.of());
        for (String unset : new String[] {
            "on_failure_url", "filter", "max_attempts", "misfire", "overlap", "enabled", "trigger_config"
        }) {
            body.put(unset, null);
        }
        Api.Response created = api.post("/workflows", user.token(), body);

        assertThat(created.status()).as(created.body()).isEqualTo(201);
        assertThat(created.json().path("steps").get(0).path("key").asString()).isEqualTo("deliver");
        assertThat(created.json().path("enabled").asBoolean()).isTrue();
        assertThat(created.json().path("misfire").asString()).isEqualTo("fire_once");
        // steps given for real beside action_url is still refused
        body.put("steps", List.of(Map.of("key", "a", "url", "https://example.com/a")));
        assertThat(api.post("/workflows", user.token(), body).status()).isEqualTo(400);
    }

    @Test
    void a_webhook_workflow_gets_an_unguessable_token_and_an_absolute_url() {
        Api.User user = api.newUser();
        JsonNode first = api.createWorkflow(user, "webhook", "https://example.com/in", Map.of());
        JsonNode second = api.createWorkflow(user, "webhook", "https://example.com/in", Map.of());

        String token = first.path("trigger_config").path("token").asString();
        // 24 random bytes, URL-safe base64: 192 bits.
        assertThat(token).matches("[A-Za-z0-9_-]{32}");
        assertThat(second.path("trigger_config").path("token").asString()).isNotEqualTo(token);
        assertThat(first.path("webhook_url").asString()).isEqualTo(api.base() + "/hooks/" + token);
    }

    @Test
    void an_interval_workflow_is_next_due_one_interval_after_creation() {
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(user, "interval", "https://example.com/in", Map.of("interval_minutes", 15));

        Instant created = Instant.parse(wf.path("created_at").asString());
        assertThat(Instant.parse(wf.path("next_run_at").asString())).isEqualTo(created.plus(Duration.ofMinutes(15)));
        assertThat(wf.path("trigger_config").path("interval_minutes").asInt()).isEqualTo(15);
    }

    @Test
    void a_cron_workflow_is_next_due_in_its_own_time_zone() {
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(
                user,
                "cron",
                "https://example.com/in",
                Map.of("expression", "30 9 * * *", "timezone", "America/New_York"));

        ZonedDateTime next = Instant.parse(wf.path("next_run_at").asString()).atZone(ZoneId.of("America/New_York"));
        assertThat(next.getHour()).isEqualTo(9);
        assertThat(next.getMinute()).isEqualTo(30);
        assertThat(next.toInstant())
                .isAfter(clock.instant())
                .isBefore(clock.instant().plus(Duration.ofDays(1)));
    }

    @Test
    void a_cron_workflow_accepts_six_fields_with_seconds_first_and_defaults_to_utc() {
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(user, "cron", "https://example.com/in", Map.of("expression", "15 0 12 * * *"));

        assertThat(wf.path("trigger_config").path("timezone").asString()).isEqualTo("UTC");
        ZonedDateTime next = Instant.parse(wf.path("next_run_at").asString()).atZone(ZoneId.of("UTC"));
        assertThat(List.of(next.getHour(), next.getMinute(), next.getSecond())).containsExactly(12, 0, 15);
    }

    @Test
    void a_bad_workflow_is_400_naming_every_bad_field_and_why() {
        Api.User user = api.newUser();
        Map<String, Object> body = new HashMap<>();
        body.put("name", "");
        body.put("trigger_type", "cron");
        body.put("action_url", "ftp://example.com/x");
        body.put("trigger_config", Map.of("expression", "61 * * * *", "timezone", "Mars/Olympus"));

        Api.Response response = api.post("/workflows", user.token(), body);

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(response.json().path("type").asString()).endsWith("/validation");
        Map<String, String> reasons = new HashMap<>();
        response.json()
                .path("errors")
                .forEach(e ->
                        reasons.put(e.path("field").asString(), e.path("reason").asString()));
        assertThat(reasons)
                .containsOnlyKeys("name", "action_url", "trigger_config.expression", "trigger_config.timezone");
        assertThat(reasons.get("action_url")).contains("http");
        assertThat(reasons.get("trigger_config.timezone")).contains("IANA");
    }

    @Test
    void interval_minutes_must_be_a_whole_number_from_1_to_525600() {
        Api.User user = api.newUser();
        for (Object bad : List.of(0, 525601, 1.5, "10")) {
            Api.Response response = api.post(
                    "/workflows",
                    user.token(),
                    Map.of(
                            "name",
                            "x",
                            "trigger_type",
                            "interval",
                            "action_url",
                            "https://e.com",
                            "trigger_config",
                            Map.of("interval_minutes", bad)));
            assertThat(response.status()).as("interval_minutes=%s", bad).isEqualTo(400);
            assertThat(response.json().path("errors").get(0).path("field").asString())
                    .isEqualTo("trigger_config.interval_minutes");
        }
    }

    @Test
    void an_unknown_trigger_type_and_a_missing_interval_are_refused() {
        Api.User user = api.newUser();
        Api.Response unknown = api.post(
                "/workflows",
                user.token(),
                Map.of("name", "x", "trigger_type", "email", "action_url", "https://e.com"));
        Api.Response noInterval = api.post(
                "/workflows",
                user.token(),
                Map.of("name", "x", "trigger_type", "interval", "action_url", "https://e.com"));

        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.json().path("errors").get(0).path("field").asString())
                .isEqualTo("trigger_type");
        assertThat(noInterval.status()).isEqualTo(400);
        assertThat(noInterval.json().path("errors").get(0).path("field").asString())
                .isEqualTo("trigger_config.interval_minutes");
    }

    @Test
    void workflows_are_listed_newest_first_and_only_to_their_owner() {
        Api.User alice = api.newUser();
        Api.User bob = api.newUser();
        long first = api.createWorkflow(alice, "manual", "https://example.com/1", Map.of())
                .path("id")
                .asLong();
        long second = api.createWorkflow(alice, "manual", "https://example.com/2", Map.of())
                .path("id")
                .asLong();
        api.createWorkflow(bob, "manual", "https://example.com/3", Map.of());

        Api.Response list = api.get("/workflows", alice.token());

        assertThat(list.status()).isEqualTo(200);
        List<Long> ids = list.json()
                .path("items")
                .valueStream()
                .map(w -> w.path("id").asLong())
                .toList();
        assertThat(ids).containsExactly(second, first);
    }

    @Test
    void the_workflow_list_pages_with_a_cursor() {
        Api.User user = api.newUser();
        for (int i = 0; i < 5; i++) {
            api.createWorkflow(user, "manual", "https://example.com/" + i, Map.of());
        }
        Api.Response page1 = api.get("/workflows?limit=2", user.token());
        Api.Response page2 = api.get(
                "/workflows?limit=2&cursor=" + page1.json().path("next_cursor").asString(), user.token());
        Api.Response page3 = api.get(
                "/workflows?limit=2&cursor=" + page2.json().path("next_cursor").asString(), user.token());

        assertThat(page1.json().path("items").size()).isEqualTo(2);
        assertThat(page2.json().path("items").size()).isEqualTo(2);
        assertThat(page3.json().path("items").size()).isEqualTo(1);
        assertThat(page3.json().path("next_cursor").isNull()).isTrue();
        assertThat(page2.json().path("items").get(0).path("id").asLong())
                .isLessThan(page1.json().path("items").get(1).path("id").asLong());
    }

    @Test
    void another_users_workflow_answers_404_like_a_missing_one() {
        Api.User alice = api.newUser();
        Api.User bob = api.newUser();
        long id = api.createWorkflow(alice, "manual", "https://example.com/in", Map.of())
                .path("id")
                .asLong();

        Api.Response foreign = api.get("/workflows/" + id, bob.token());
        Api.Response missing = api.get("/workflows/999999999", bob.token());

        assertThat(foreign.status()).isEqualTo(404);
        assertThat(missing.status()).isEqualTo(404);
        assertThat(foreign.json().path("type").asString())
                .isEqualTo(missing.json().path("type").asString());
        assertThat(api.get("/workflows/" + id, alice.token()).status()).isEqualTo(200);
    }

    @Test
    void every_workflow_route_requires_a_token() {
        assertThat(api.get("/workflows", null).status()).isEqualTo(401);
        assertThat(api.post("/workflows", null, Map.of()).status()).isEqualTo(401);
        assertThat(api.get("/workflows/1", null).status()).isEqualTo(401);
        assertThat(api.post("/workflows/1/trigger", null, "{}").status()).isEqualTo(401);
        assertThat(api.get("/workflows/1/runs", null).status()).isEqualTo(401);
        assertThat(api.get("/runs/1", null).status()).isEqualTo(401);
    }

    @Test
    void a_port_outside_1_to_65535_is_refused_at_save_naming_the_field() {
        Api.User user = api.newUser();
        for (String url : List.of("http://example.com:70000/hook", "http://example.com:0/hook")) {
            Api.Response response = api.post(
                    "/workflows", user.token(), Map.of("name", "p", "trigger_type", "manual", "action_url", url));

            assertThat(response.status()).as(url).isEqualTo(400);
            assertThat(response.json().path("errors").get(0).path("field").asString())
                    .isEqualTo("action_url");
            assertThat(response.json().path("errors").get(0).path("reason").asString())
                    .contains("1 to 65535");
        }
    }
}
