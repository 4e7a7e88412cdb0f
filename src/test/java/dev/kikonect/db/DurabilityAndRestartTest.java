package dev.kikonect.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kikonect.KiKonectApplication;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.Assertions;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/** The embedded database is durable and keeps users' data across restarts of KiKonect. */
class DurabilityAndRestartTest {

    private static ConfigurableApplicationContext start(Path dataDir) {
        return new SpringApplicationBuilder(KiKonectApplication.class)
                .run(
                        "--server.port=0",
                        "--kikonect.data-dir=" + dataDir,
                        "--kikonect.executor.poll-interval=50ms",
                        "--kikonect.delivery.allowed-cidrs=127.0.0.1/32");
    }

    private static int port(ConfigurableApplicationContext app) {
        return Integer.parseInt(app.getEnvironment().getProperty("local.server.port"));
    }

    @Test
    void a_second_start_on_a_data_directory_in_use_stops_at_once_and_the_first_keeps_serving() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "in-use-");
        try (ConfigurableApplicationContext first = start(dataDir)) {
            Throwable refused = Assertions.catchThrowable(() -> start(dataDir).close());

            Throwable cause = refused;
            while (cause != null && !(cause instanceof DataDirLock.InUse)) {
                cause = cause.getCause();
            }
            assertThat(cause)
                    .as("refused because the directory is in use: " + refused)
                    .isNotNull();
            assertThat(cause.getMessage())
                    .contains("is in use by KiKonect pid "
                            + ProcessHandle.current().pid())
                    .contains("PostgreSQL on port");
            JdbcClient jdbc = first.getBean(JdbcClient.class);
            assertThat(jdbc.sql("SELECT 1").query(Integer.class).single())
                    .as("the first one's database still serves")
                    .isEqualTo(1);
            assertThat(new Api(port(first)).get("/health/ready", null).status()).isEqualTo(200);
        }
    }

    @Test
    void the_embedded_database_runs_with_fsync_and_synchronous_commit_on_and_data_survives_a_restart()
            throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "restart-");
        Api.User user;
        long workflowId;
        long runId;
        try (Sink sink = new Sink()) {
            try (ConfigurableApplicationContext app = start(dataDir)) {
                JdbcClient jdbc = app.getBean(JdbcClient.class);
                assertThat(jdbc.sql("SHOW fsync").query(String.class).single()).isEqualTo("on");
                assertThat(jdbc.sql("SHOW synchronous_commit")
                                .query(String.class)
                                .single())
                        .isEqualTo("on");
                assertThat(jdbc.sql("SHOW full_page_writes").query(String.class).single())
                        .isEqualTo("on");
                assertThat(jdbc.sql("SHOW logging_collector")
                                .query(String.class)
                                .single())
                        .isEqualTo("on");
                assertThat(dataDir.resolve("postgres/log"))
                        .as("the server's own log, where a crashed backend's statement is written")
                        .isDirectoryContaining(
                                path -> path.getFileName().toString().startsWith("postgresql-"));

                Api api = new Api(port(app));
                user = api.newUser();
                JsonNode wf = api.createWorkflow(user, "webhook", sink.url(), Map.of());
                workflowId = wf.path("id").asLong();
                runId = api.send("POST", wf.path("webhook_url").asString(), null, "application/json", "{\"kept\":true}")
                        .json()
                        .path("id")
                        .asLong();
            }
            assertThat(Files.exists(dataDir.resolve("postgres/PG_VERSION"))).isTrue();

            try (ConfigurableApplicationContext app = start(dataDir)) {
                Api api = new Api(port(app));
                Api.Response login =
                        api.post("/login", null, Map.of("email", user.email(), "password", user.password()));
                assertThat(login.status()).isEqualTo(200);
                String token = login.json().path("token").asString();
                assertThat(api.get("/workflows/" + workflowId, token).status()).isEqualTo(200);
                Api.Response run = api.get("/runs/" + runId, token);
                assertThat(run.status()).isEqualTo(200);
                assertThat(run.json().path("payload").path("kept").asBoolean()).isTrue();
                // The old session token survives too: it is a row, not memory.
                assertThat(api.get("/me", user.token()).status()).isEqualTo(200);
            }
        }
    }

    @Test
    void a_restart_with_another_master_key_stops_with_a_message_and_the_right_key_brings_the_credentials_back()
            throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "master-key-");
        Api.User user;
        long workflowId;
        try (Sink sink = new Sink()) {
            try (ConfigurableApplicationContext app = start(dataDir)) {
                Api api = new Api(port(app));
                user = api.newUser();
                assertThat(api.post(
                                        "/credentials",
                                        user.token(),
                                        Map.of(
                                                "name",
                                                "erp",
                                                "type",
                                                "header",
                                                "header_name",
                                                "X-Key",
                                                "value",
                                                "kept-secret",
                                                "allowed_hosts",
                                                List.of("127.0.0.1")))
                                .status())
                        .isEqualTo(201);
                workflowId = api.post(
                                "/workflows",
                                user.token(),
                                Map.of(
                                        "name",
                                        "w",
                                        "trigger_type",
                                        "manual",
                                        "steps",
                                        List.of(Map.of("key", "a", "url", sink.url(), "credential", "erp"))))
                        .json()
                        .path("id")
                        .asLong();
            }
            Path keyFile = dataDir.resolve("master.key");
            String key = Files.readString(keyFile);
            byte[] other = new byte[32];
            new SecureRandom().nextBytes(other);
            Files.writeString(keyFile, Base64.getEncoder().encodeToString(other));

            assertThatThrownBy(() -> start(dataDir).close())
                    .satisfies(e -> assertThat(rootMessage(e))
                            .contains("encrypted with master key")
                            .contains("kikonect.secrets.master-key"));

            Files.writeString(keyFile, key);
            try (ConfigurableApplicationContext app = start(dataDir)) {
                Api api = new Api(port(app));
                String token = api.post("/login", null, Map.of("email", user.email(), "password", user.password()))
                        .json()
                        .path("token")
                        .asString();
                long runId = api.post("/workflows/" + workflowId + "/trigger", token, Map.of())
                        .json()
                        .path("id")
                        .asLong();
                Awaitility.await()
                        .atMost(Duration.ofSeconds(15))
                        .until(() -> api.get("/runs/" + runId, token)
                                .json()
                                .path("status")
                                .asString()
                                .equals("succeeded"));
                assertThat(sink.received().get(0).header("x-key")).isEqualTo("kept-secret");
            }
        }
    }

    private static String rootMessage(Throwable e) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.append(t.getMessage()).append('\n');
        }
        return all.toString();
    }
}
