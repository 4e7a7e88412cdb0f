package dev.kikonect.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.KiKonectApplication;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import javax.sql.DataSource;
import org.awaitility.Awaitility;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.crypto.argon2.Argon2PasswordEncoder;
import tools.jackson.databind.JsonNode;

/**
 * An upgrade from the previous release: a data directory as 0.1.0 left it (its schema is V1; a user, a webhook
 * workflow with its token, a manual one, a succeeded run, a signed-in session), then this version started on it.
 * Everything the user had still works: the password and the session, the workflows (now one-step workflows in the
 * user's personal workspace), the old webhook URL, the run history.
 */
class UpgradeFromPreviousReleaseTest {

    @Test
    void a_database_left_by_0_1_0_is_migrated_at_start_and_everything_in_it_keeps_working() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "upgrade-");
        String password = "correct horse battery";
        String session = "kks_upgrade_" + Long.toHexString(System.nanoTime());
        try (Sink sink = new Sink()) {
            try (EmbeddedPostgres postgres = EmbeddedDatabase.start(dataDir.resolve("postgres"), 0)) {
                DataSource data = postgres.getPostgresDatabase();
                Flyway.configure()
                        .dataSource(data)
                        .locations("classpath:db/migration")
                        .target("1")
                        .load()
                        .migrate();
                JdbcClient jdbc = JdbcClient.create(data);
                long user = jdbc.sql("""
                INSERT INTO users (email, password_hash, firstname, lastname, created_at)
                VALUES ('ada@example.com', :hash, 'Ada', 'Lovelace', now() - interval '30 days') RETURNING id
                """)
                        .param("hash", new Argon2PasswordEncoder(16, 32, 1, 19 * 1024, 2).encode(password))
                        .query(Long.class)
                        .single();
                jdbc.sql("""
                INSERT INTO sessions (user_id, token_hash, created_at, expires_at)
                VALUES (:u, sha256(convert_to(:token, 'UTF8')), now(), now() + interval '7 days')
                """).param("u", user).param("token", session).update();
                jdbc.sql("""
                INSERT INTO workflows (user_id, name, trigger_type, action_url, trigger_config, created_at, updated_at)
                VALUES (:u, 'orders', 'webhook', :url, '{"token":"tok_from_0_1_0_aaaaaaaaaaaaaaaaaaaaaaaa"}', now(), now()),
                       (:u, 'by hand', 'manual', :url, '{}', now(), now())
                """).param("u", user).param("url", sink.url("/old")).update();
                jdbc.sql("""
                INSERT INTO workflow_runs (workflow_id, user_id, status, trigger, payload, attempts, created_at, started_at, ended_at)
                SELECT id, :u, 'succeeded', 'webhook', '{"order": 1}', 1, now() - interval '1 day', now() - interval '1 day',
                       now() - interval '1 day'
                  FROM workflows WHERE name = 'orders'
                """).param("u", user).update();
            }

            try (ConfigurableApplicationContext app = new SpringApplicationBuilder(KiKonectApplication.class)
                    .run(
                            "--server.port=0",
                            "--kikonect.data-dir=" + dataDir,
                            "--kikonect.executor.poll-interval=50ms",
                            "--kikonect.delivery.allowed-cidrs=127.0.0.1/32")) {
                Api api = new Api(Integer.parseInt(app.getEnvironment().getProperty("local.server.port")));
                assertThat(api.get("/me", session).status())
                        .as("the 0.1.0 session")
                        .isEqualTo(200);
                assertThat(api.get("/me", session).json().path("instance_admin").asBoolean())
                        .as("the oldest user is the instance administrator")
                        .isTrue();
                Api.Response login = api.post("/login", null, Map.of("email", "ada@example.com", "password", password));
                assertThat(login.status()).as("the 0.1.0 password").isEqualTo(200);

                JsonNode workflows = api.get("/workflows", session).json().path("items");
                assertThat(workflows).hasSize(2);
                JsonNode orders = workflows
                        .valueStream()
                        .filter(w -> w.path("name").asString().equals("orders"))
                        .findFirst()
                        .orElseThrow();
                assertThat(orders.path("steps").get(0).path("key").asString()).isEqualTo("deliver");
                assertThat(orders.path("webhook_url").asString())
                        .endsWith("/hooks/tok_from_0_1_0_aaaaaaaaaaaaaaaaaaaaaaaa");
                JsonNode runs = api.get("/runs", session).json().path("items");
                assertThat(runs).hasSize(1);
                assertThat(runs.get(0).path("status").asString()).isEqualTo("succeeded");

                // The old webhook URL fires, and the run is delivered as before.
                Api.Response fired = api.send(
                        "POST", orders.path("webhook_url").asString(), null, "application/json", "{\"order\": 2}");
                assertThat(fired.status()).isEqualTo(202);
                long run = fired.json().path("id").asLong();
                Awaitility.await()
                        .atMost(Duration.ofSeconds(15))
                        .until(() -> api.get("/runs/" + run, session)
                                .json()
                                .path("status")
                                .asString()
                                .equals("succeeded"));
                assertThat(sink.received())
                        .singleElement()
                        .satisfies(r -> assertThat(r.body()).isEqualTo("{\"order\": 2}"));
                assertThat(api.get("/workspaces", session)
                                .json()
                                .path("items")
                                .get(0)
                                .path("role")
                                .asString())
                        .isEqualTo("owner");
            }
        }
    }
}
