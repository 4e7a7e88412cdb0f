package dev.kikonect.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

/** Per-owner quotas, with small limits (the same context as MetricsTokenTest). */
@TestPropertySource(
        properties = {
            "kikonect.metrics.token=scrape-me-0123456789",
            "kikonect.quotas.max-workflows=3",
            "kikonect.quotas.max-api-keys=2",
            "kikonect.quotas.min-cron-interval=10s",
            "kikonect.quotas.runs-per-minute=3",
            "kikonect.quotas.max-sessions=2"
        })
class QuotasTest extends ApiTest {

    private Api.Response create(Api.User user, String type, Map<String, Object> config) {
        return api.post(
                "/workflows",
                user.token(),
                Map.of(
                        "name",
                        "q",
                        "trigger_type",
                        type,
                        "action_url",
                        "https://example.com/in",
                        "trigger_config",
                        config));
    }

    @Test
    void past_the_workflow_quota_a_create_is_429_naming_the_quota_and_others_are_unaffected() {
        Api.User user = api.newUser();
        for (int i = 0; i < 3; i++) {
            assertThat(create(user, "manual", Map.of()).status()).isEqualTo(201);
        }

        Api.Response fourth = create(user, "manual", Map.of());

        assertThat(fourth.status()).isEqualTo(429);
        assertThat(fourth.json().path("type").asString()).endsWith("quota-exceeded");
        assertThat(fourth.json().path("quota").asString()).isEqualTo("kikonect.quotas.max-workflows");
        assertThat(create(api.newUser(), "manual", Map.of()).status())
                .as("another owner")
                .isEqualTo(201);
    }

    @Test
    void fifty_parallel_creates_make_exactly_the_quota_of_workflows_and_api_keys() throws Exception {
        Api.User user = api.newUser();
        List<Callable<Integer>> workflows = new ArrayList<>();
        List<Callable<Integer>> keys = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            int n = i;
            workflows.add(() -> create(user, "manual", Map.of()).status());
            keys.add(() ->
                    api.post("/api-keys", user.token(), Map.of("name", "k" + n)).status());
        }
        try (var pool = Executors.newFixedThreadPool(50)) {
            List<Integer> made = new ArrayList<>();
            for (var f : pool.invokeAll(workflows)) {
                made.add(f.get());
            }
            assertThat(made.stream().filter(s -> s == 201).count())
                    .as("workflows made of 50 at once")
                    .isEqualTo(3);
            assertThat(made).containsOnly(201, 429);
            List<Integer> madeKeys = new ArrayList<>();
            for (var f : pool.invokeAll(keys)) {
                madeKeys.add(f.get());
            }
            assertThat(madeKeys.stream().filter(s -> s == 201).count())
                    .as("API keys made of 50 at once")
                    .isEqualTo(2);
        }
        assertThat(api.get("/workflows", user.token()).json().path("items").size())
                .isEqualTo(3);
    }

    @Test
    void past_the_api_key_quota_a_new_key_is_429_and_revoking_one_makes_room() {
        Api.User user = api.newUser();
        long first = api.post("/api-keys", user.token(), Map.of("name", "a"))
                .json()
                .path("id")
                .asLong();
        assertThat(api.post("/api-keys", user.token(), Map.of("name", "b")).status())
                .isEqualTo(201);

        Api.Response third = api.post("/api-keys", user.token(), Map.of("name", "c"));

        assertThat(third.status()).isEqualTo(429);
        assertThat(third.json().path("quota").asString()).isEqualTo("kikonect.quotas.max-api-keys");
        api.send("DELETE", "/api-keys/" + first, user.token(), null, null);
        assertThat(api.post("/api-keys", user.token(), Map.of("name", "c")).status())
                .isEqualTo(201);
    }

    @Test
    void a_cron_that_fires_more_often_than_the_minimum_is_refused_naming_the_field() {
        Api.User user = api.newUser();

        Api.Response everySecond = create(user, "cron", Map.of("expression", "* * * * * *"));
        Api.Response twoQuick = create(user, "cron", Map.of("expression", "0,5 * * * * *"));

        for (Api.Response r : new Api.Response[] {everySecond, twoQuick}) {
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.json().path("errors").get(0).path("field").asString()).isEqualTo("trigger_config.expression");
            assertThat(r.json().path("errors").get(0).path("reason").asString()).contains("min-cron-interval");
        }
        assertThat(create(user, "cron", Map.of("expression", "*/10 * * * * *")).status())
                .isEqualTo(201);
    }

    @Test
    void past_the_runs_per_minute_quota_a_trigger_is_429_naming_the_quota() {
        Api.User user = api.newUser();
        long id = create(user, "manual", Map.of()).json().path("id").asLong();
        for (int i = 0; i < 3; i++) {
            assertThat(api.post("/workflows/" + id + "/trigger", user.token(), "{}")
                            .status())
                    .isEqualTo(202);
        }

        Api.Response fourth = api.post("/workflows/" + id + "/trigger", user.token(), "{}");

        assertThat(fourth.status()).isEqualTo(429);
        assertThat(fourth.json().path("quota").asString()).isEqualTo("kikonect.quotas.runs-per-minute");
    }

    @Test
    void signing_in_past_the_sessions_quota_signs_out_the_oldest_session() {
        Api.User user = api.newUser(); // its first session
        Api.Response second = api.post("/login", null, Map.of("email", user.email(), "password", user.password()));
        Api.Response third = api.post("/login", null, Map.of("email", user.email(), "password", user.password()));

        assertThat(third.status()).isEqualTo(200);
        assertThat(api.get("/me", user.token()).status())
                .as("the oldest session")
                .isEqualTo(401);
        assertThat(api.get("/me", second.json().path("token").asString()).status())
                .isEqualTo(200);
        assertThat(api.get("/me", third.json().path("token").asString()).status())
                .isEqualTo(200);
    }
}
