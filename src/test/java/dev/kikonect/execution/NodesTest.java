package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.kikonect.KiKonectApplication;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/** Whole KiKonect processes (in this JVM) starting, stopping and sharing a database. */
class NodesTest {

    private static ConfigurableApplicationContext start(String... properties) {
        List<String> all = new ArrayList<>(List.of(
                "server.port=0",
                "kikonect.executor.poll-interval=50ms",
                "kikonect.delivery.allowed-cidrs=127.0.0.1/32",
                "kikonect.delivery.timeout=30s"));
        all.addAll(List.of(properties));
        // As command-line arguments: they outrank application.properties (builder "properties" would not).
        return new SpringApplicationBuilder(KiKonectApplication.class)
                .run(all.stream().map(p -> "--" + p).toArray(String[]::new));
    }

    private static Api api(ConfigurableApplicationContext app) {
        return new Api(Integer.parseInt(app.getEnvironment().getProperty("local.server.port")));
    }

    private static JsonNode run(Api api, Api.User user, long runId) {
        return api.get("/runs/" + runId, user.token()).json();
    }

    @Test
    void on_shutdown_an_in_flight_delivery_finishes_within_the_grace_period() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "graceful-");
        try (Sink sink = new Sink()) {
            sink.replyWith(r -> {
                try {
                    Thread.sleep(1500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return Sink.Reply.status(200);
            });
            Api.User user;
            long runId;
            try (ConfigurableApplicationContext app =
                    start("kikonect.data-dir=" + dataDir, "kikonect.executor.shutdown-grace=10s")) {
                Api api = api(app);
                user = api.newUser();
                String hook = api.createWorkflow(user, "webhook", sink.url(), Map.of())
                        .path("webhook_url")
                        .asString();
                runId = api.send("POST", hook, null, "application/json", "{}")
                        .json()
                        .path("id")
                        .asLong();
                Awaitility.await()
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> sink.received().size() == 1);
            } // SIGTERM-equivalent while the receiver is still working on it

            try (ConfigurableApplicationContext app =
                    start("kikonect.data-dir=" + dataDir, "kikonect.executor.enabled=false")) {
                JsonNode run = run(api(app), user, runId);
                assertThat(run.path("status").asString()).isEqualTo("succeeded");
                assertThat(run.path("attempts").size()).isEqualTo(1);
            }
            assertThat(sink.received()).hasSize(1);
        }
    }

    @Test
    void on_shutdown_a_delivery_that_outlasts_the_grace_period_is_handed_back_and_delivered_after_restart()
            throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "handback-");
        try (Sink sink = new Sink()) {
            sink.replyWith(r -> Sink.Reply.hanging());
            Api.User user;
            long runId;
            try (ConfigurableApplicationContext app =
                    start("kikonect.data-dir=" + dataDir, "kikonect.executor.shutdown-grace=500ms")) {
                Api api = api(app);
                user = api.newUser();
                String hook = api.createWorkflow(user, "webhook", sink.url(), Map.of())
                        .path("webhook_url")
                        .asString();
                runId = api.send("POST", hook, null, "application/json", "{}")
                        .json()
                        .path("id")
                        .asLong();
                Awaitility.await()
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> sink.received().size() == 1);
            }
            sink.replyWith(200);

            try (ConfigurableApplicationContext app = start("kikonect.data-dir=" + dataDir)) {
                Api api = api(app);
                JsonNode run = Awaitility.await()
                        .atMost(Duration.ofSeconds(15))
                        .until(
                                () -> run(api, user, runId),
                                r -> r.path("status").asString().equals("succeeded"));
                assertThat(run.path("attempts").size()).isEqualTo(1);
            }
            assertThat(sink.received()).hasSize(2);
            assertThat(sink.received().get(1).header("webhook-id"))
                    .isEqualTo(sink.received().get(0).header("webhook-id"));
        }
    }

    @Test
    void an_ingest_only_node_and_an_executor_only_node_share_the_work_through_the_database() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "roles-");
        try (Sink sink = new Sink();
                ConfigurableApplicationContext ingest =
                        start("kikonect.data-dir=" + dataDir, "kikonect.roles=api,scheduler")) {
            Api api = api(ingest);
            Api.User user = api.newUser();
            String hook = api.createWorkflow(user, "webhook", sink.url(), Map.of())
                    .path("webhook_url")
                    .asString();
            long runId = api.send("POST", hook, null, "application/json", "{\"via\":\"ingest\"}")
                    .json()
                    .path("id")
                    .asLong();
            assertThat(run(api, user, runId).path("status").asString()).isEqualTo("pending");
            assertThat(ingest.getBean(Executor.class).isRunning()).isFalse();

            String url = ingest.getBean(HikariDataSource.class).getJdbcUrl();
            try (ConfigurableApplicationContext executor = start(
                    "spring.datasource.url=" + url,
                    "spring.datasource.username=postgres",
                    "kikonect.roles=executor",
                    // Every node of one database needs the same master key: here the embedded node's generated one.
                    "kikonect.secrets.master-key-file=" + dataDir.resolve("master.key"))) {
                Awaitility.await()
                        .atMost(Duration.ofSeconds(10))
                        .until(() ->
                                run(api, user, runId).path("status").asString().equals("succeeded"));
                assertThat(sink.received().get(0).body()).isEqualTo("{\"via\":\"ingest\"}");

                Api executorApi = api(executor);
                Api.Response refused = executorApi.get("/workflows", user.token());
                assertThat(refused.status()).isEqualTo(503);
                assertThat(refused.contentType()).startsWith("application/problem+json");
                assertThat(executorApi.get("/health/ready", null).status()).isEqualTo(200);
                assertThat(executorApi.get("/metrics", null).status()).isEqualTo(200);
            }
        }
    }
}
