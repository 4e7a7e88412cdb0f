package dev.kikonect.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.KiKonectApplication;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
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
 * user's personal workspace), the old webhook URL, the run history. In between, 0.2.0 (schema V32) leaves 2,000 more
 * runs in its unpartitioned history tables; this version attaches those very tables (the same files) as legacy
 * partitions, reads their runs, and puts new runs after them.
 */
class UpgradeFromPreviousReleaseTest {

    @Test
    void a_database_left_by_0_1_0_is_migrated_at_start_and_everything_in_it_keeps_working() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "upgrade-");
        String password = "correct horse battery";
        String session = "kks_upgrade_" + Long.toHexString(System.nanoTime());
        Map<String, Long> files = new HashMap<>();
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

                // Then 0.2.0 (schema V32) on it, which left history in unpartitioned tables: 2,000 runs of 'by hand'
                // with an attempt each, one in a schedule's slot, one started by another's failure, one still
                // queued.
                Flyway.configure()
                        .dataSource(data)
                        .locations("classpath:db/migration")
                        .target("32")
                        .load()
                        .migrate();
                jdbc.sql("""
                INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, attempts, created_at,
                                           started_at, ended_at, scheduled_for, caused_by_run_id)
                SELECT w.id, w.workspace_id, CASE WHEN g = 2000 THEN 'pending' ELSE 'failed' END, 'manual',
                       json_build_object('n', g), 1, now() - interval '2 hours', now() - interval '2 hours',
                       CASE WHEN g < 2000 THEN now() - interval '2 hours' END,
                       CASE WHEN g = 1 THEN timestamptz '2026-12-01 10:00:00Z' END,
                       CASE WHEN g = 2 THEN 1 END
                  FROM workflows w, generate_series(1, 2000) g WHERE w.name = 'by hand'
                """).update();
                jdbc.sql("""
                INSERT INTO attempts (run_id, number, started_at, duration_ms, response_status, error, step)
                SELECT id, 1, started_at, 12, 503, 'HTTP 503', NULL FROM workflow_runs WHERE status = 'failed'
                """).update();
                jdbc.sql("""
                INSERT INTO jobs (run_id, workflow_id, run_at, created_at)
                SELECT id, workflow_id, now() + interval '1 hour', created_at FROM workflow_runs WHERE status = 'pending'
                """).update();
                for (String table : new String[] {"workflow_runs", "attempts", "run_steps"}) {
                    files.put(
                            table,
                            jdbc.sql("SELECT relfilenode FROM pg_class WHERE relname = :t")
                                    .param("t", table)
                                    .query(Long.class)
                                    .single());
                }
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
                JsonNode runs = api.get("/runs?limit=100", session).json().path("items");
                assertThat(runs).hasSize(100);
                assertThat(runs.get(0).path("status").asString())
                        .as("the newest, still queued")
                        .isEqualTo("pending");
                JsonNode oldest = api.get("/runs/1", session).json();
                assertThat(oldest.path("status").asString()).isEqualTo("succeeded");
                assertThat(oldest.path("payload").path("order").asInt()).isEqualTo(1);
                JsonNode failedRun = api.get("/runs/3", session).json();
                assertThat(failedRun.path("attempts"))
                        .singleElement()
                        .satisfies(a -> assertThat(a.path("error").asString()).isEqualTo("HTTP 503"));

                // 0.2.0's history became the legacy partitions, the very files it was in (not rewritten).
                JdbcClient jdbc = JdbcClient.create(app.getBean(DataSource.class));
                for (Map.Entry<String, Long> table : files.entrySet()) {
                    assertThat(jdbc.sql("""
                            SELECT c.relfilenode FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
                             WHERE c.relname = :legacy AND i.inhparent = CAST(:parent AS regclass)
                            """)
                                    .param("legacy", table.getKey() + "_legacy")
                                    .param("parent", table.getKey())
                                    .query(Long.class)
                                    .single())
                            .as(table.getKey() + "_legacy is the old table's file")
                            .isEqualTo(table.getValue());
                }
                assertThat(jdbc.sql("SELECT count(*) FROM workflow_runs_legacy")
                                .query(Integer.class)
                                .single())
                        .isEqualTo(2001);
                assertThat(jdbc.sql("SELECT count(*) FROM schedule_slots")
                                .query(Integer.class)
                                .single())
                        .as("the slot taken by 0.2.0's scheduled run")
                        .isEqualTo(1);
                assertThat(jdbc.sql("SELECT count(*) FROM run_failed_causes")
                                .query(Integer.class)
                                .single())
                        .isEqualTo(1);

                // The old webhook URL fires, and the run is delivered as before.
                Api.Response fired = api.send(
                        "POST", orders.path("webhook_url").asString(), null, "application/json", "{\"order\": 2}");
                assertThat(fired.status()).isEqualTo(202);
                long run = fired.json().path("id").asLong();
                assertThat(run).as("ids continue after 0.2.0's").isEqualTo(2002);
                assertThat(jdbc.sql("SELECT tableoid::regclass::text FROM workflow_runs WHERE id = :id")
                                .param("id", run)
                                .query(String.class)
                                .single())
                        .isEqualTo("workflow_runs_p2002");
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
