package dev.kikonect.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** PATCH, DELETE and token rotation. */
class WorkflowChangeTest extends ApiTest {

    private Api.Response patch(Api.User user, long id, String body) {
        return api.send("PATCH", "/workflows/" + id, user.token(), "application/json", body);
    }

    @Test
    void a_patch_changes_only_the_given_fields_and_validates_them_like_create() {
        Api.User user = api.newUser();
        long id = api.createWorkflow(user, "manual", "https://example.com/a", Map.of())
                .path("id")
                .asLong();

        Api.Response renamed = patch(user, id, "{\"name\":\"Renamed\",\"max_attempts\":4,\"overlap\":\"skip\"}");
        assertThat(renamed.status()).isEqualTo(200);
        assertThat(renamed.json().path("name").asString()).isEqualTo("Renamed");
        assertThat(renamed.json().path("action_url").asString()).isEqualTo("https://example.com/a");
        assertThat(renamed.json().path("max_attempts").asInt()).isEqualTo(4);
        assertThat(renamed.json().path("overlap").asString()).isEqualTo("skip");

        Api.Response bad = patch(user, id, "{\"action_url\":\"nope\",\"misfire\":\"later\",\"trigger_type\":\"cron\"}");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json()
                        .path("errors")
                        .valueStream()
                        .map(e -> e.path("field").asString())
                        .toList())
                .containsExactlyInAnyOrder("action_url", "misfire", "trigger_type");
        assertThat(api.get("/workflows/" + id, user.token()).json().path("name").asString())
                .isEqualTo("Renamed");
    }

    @Test
    void a_new_interval_starts_its_schedule_from_now() {
        Api.User user = api.newUser();
        long id = api.createWorkflow(user, "interval", "https://example.com/a", Map.of("interval_minutes", 60))
                .path("id")
                .asLong();

        Api.Response changed = patch(user, id, "{\"trigger_config\":{\"interval_minutes\":5}}");

        assertThat(changed.status()).isEqualTo(200);
        Instant next = Instant.parse(changed.json().path("next_run_at").asString());
        assertThat(Duration.between(clock.instant(), next)).isBetween(Duration.ofMinutes(4), Duration.ofMinutes(5));
    }

    @Test
    void deleting_a_workflow_removes_it_with_its_runs() {
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(user, "manual", "https://example.com/a", Map.of());
        long id = wf.path("id").asLong();
        long runId = api.post("/workflows/" + id + "/trigger", user.token(), "{}")
                .json()
                .path("id")
                .asLong();

        assertThat(api.send("DELETE", "/workflows/" + id, api.newUser().token(), null, null)
                        .status())
                .isEqualTo(404);
        assertThat(api.send("DELETE", "/workflows/" + id, user.token(), null, null)
                        .status())
                .isEqualTo(204);

        assertThat(api.get("/workflows/" + id, user.token()).status()).isEqualTo(404);
        assertThat(api.get("/runs/" + runId, user.token()).status()).isEqualTo(404);
    }

    @Test
    void rotating_a_webhook_token_stops_the_old_url_at_once() {
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(user, "webhook", "https://example.com/a", Map.of());
        String oldUrl = wf.path("webhook_url").asString();
        assertThat(api.send("POST", oldUrl, null, "application/json", "{}").status())
                .isEqualTo(202); // the node remembers it

        Api.Response rotated = api.post("/workflows/" + wf.path("id").asLong() + "/token/rotate", user.token(), "");

        assertThat(rotated.status()).isEqualTo(200);
        String newUrl = rotated.json().path("webhook_url").asString();
        assertThat(newUrl).isNotEqualTo(oldUrl);
        assertThat(api.send("POST", oldUrl, null, "application/json", "{}").status())
                .isEqualTo(404);
        assertThat(api.send("POST", newUrl, null, "application/json", "{}").status())
                .isEqualTo(202);
    }

    @Test
    void the_list_filters_by_trigger_type_and_enabled_and_shows_the_last_run() {
        Api.User user = api.newUser();
        long manual = api.createWorkflow(user, "manual", "https://example.com/a", Map.of())
                .path("id")
                .asLong();
        long hook = api.createWorkflow(user, "webhook", "https://example.com/b", Map.of())
                .path("id")
                .asLong();
        patch(user, hook, "{\"enabled\":false}");
        api.post("/workflows/" + manual + "/trigger", user.token(), "{}");

        JsonNode webhooks =
                api.get("/workflows?trigger_type=webhook", user.token()).json().path("items");
        JsonNode enabled =
                api.get("/workflows?enabled=true", user.token()).json().path("items");

        assertThat(webhooks.size()).isEqualTo(1);
        assertThat(webhooks.get(0).path("id").asLong()).isEqualTo(hook);
        assertThat(enabled.size()).isEqualTo(1);
        assertThat(enabled.get(0).path("id").asLong()).isEqualTo(manual);
        assertThat(enabled.get(0).path("last_run_status").asString()).isNotEmpty();
        assertThat(enabled.get(0).path("last_run_at").isNull()).isFalse();
    }
}
