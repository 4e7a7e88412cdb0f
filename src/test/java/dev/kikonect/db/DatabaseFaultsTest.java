package dev.kikonect.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.KiKonectApplication;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The embedded PostgreSQL paused (SIGSTOP on every postgres process) and killed (SIGKILL on the postmaster), under
 * a running KiKonect: hooks answer 503 quickly instead of hanging, readiness says DOWN at once, nothing is accepted
 * that is not stored, and service comes back by itself, without a restart of KiKonect.
 */
class DatabaseFaultsTest {

    @Test
    void a_paused_then_killed_database_costs_quick_503s_and_service_returns_by_itself() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "faults-");
        try (Sink sink = new Sink();
                ConfigurableApplicationContext app = new SpringApplicationBuilder(KiKonectApplication.class)
                        .run(
                                "--server.port=0",
                                "--kikonect.data-dir=" + dataDir,
                                "--kikonect.executor.poll-interval=50ms",
                                "--kikonect.delivery.allowed-cidrs=127.0.0.1/32")) {
            Api api = new Api(Integer.parseInt(app.getEnvironment().getProperty("local.server.port")));
            Api.User user = api.newUser();
            String hook = api.createWorkflow(user, "webhook", sink.url(), Map.of())
                    .path("webhook_url")
                    .asString();
            assertThat(post(api, hook).status()).isEqualTo(202);
            Path pidFile = dataDir.resolve("postgres/postmaster.pid");
            List<Long> accepted = new ArrayList<>();

            // Paused: every answer within about a second, none of them a 202.
            signal("STOP", postgresProcesses(pidFile));
            try {
                Awaitility.await()
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> api.get("/health/ready", null).status() == 503);
                for (int i = 0; i < 5; i++) {
                    long started = System.nanoTime();
                    Api.Response response = post(api, hook);
                    long millis = (System.nanoTime() - started) / 1_000_000;
                    assertThat(response.status())
                            .as("hook while the database is paused")
                            .isEqualTo(503);
                    assertThat(response.header("Retry-After")).isNotNull();
                    // at once from the watch, not after the database's 5 s deadline: below that with room for a loaded
                    // machine
                    assertThat(millis)
                            .as("ms to answer while the database is paused")
                            .isLessThan(4500);
                    long readyStarted = System.nanoTime();
                    assertThat(api.get("/health/ready", null).status()).isEqualTo(503);
                    assertThat((System.nanoTime() - readyStarted) / 1_000_000)
                            .as("ms for readiness")
                            .isLessThan(4500);
                }
            } finally {
                signal("CONT", postgresProcesses(pidFile));
            }
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> api.get("/health/ready", null).status() == 200);
            Api.Response afterPause = post(api, hook);
            assertThat(afterPause.status()).isEqualTo(202);
            accepted.add(afterPause.json().path("id").asLong());

            // Killed: the watch starts PostgreSQL again on the same directory and port; the pool reconnects.
            long postmaster = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
            signal("KILL", List.of(postmaster));
            Awaitility.await()
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> api.get("/health/ready", null).status() == 503);
            Awaitility.await()
                    .atMost(Duration.ofSeconds(20))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> api.get("/health/ready", null).status() == 200);
            Api.Response afterKill = Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> post(api, hook), r -> r.status() == 202);
            accepted.add(afterKill.json().path("id").asLong());
            assertThat(Long.parseLong(Files.readAllLines(pidFile).get(0).strip()))
                    .as("a new postmaster")
                    .isNotEqualTo(postmaster);

            // Everything accepted is delivered.
            Awaitility.await()
                    .atMost(Duration.ofSeconds(15))
                    .until(() -> sink.received().size() >= 1 + accepted.size());
            for (long run : accepted) {
                assertThat(api.get("/runs/" + run, user.token())
                                .json()
                                .path("status")
                                .asString())
                        .isIn("succeeded", "running", "pending");
            }
        }
    }

    @Test
    void a_primary_whose_commits_wait_for_a_missing_synchronous_standby_is_not_ready() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "sync-standby-");
        try (Sink sink = new Sink();
                ConfigurableApplicationContext app = new SpringApplicationBuilder(KiKonectApplication.class)
                        .run(
                                "--server.port=0",
                                "--kikonect.data-dir=" + dataDir,
                                "--kikonect.delivery.allowed-cidrs=127.0.0.1/32")) {
            Api api = new Api(Integer.parseInt(app.getEnvironment().getProperty("local.server.port")));
            Api.User user = api.newUser();
            String hook = api.createWorkflow(user, "webhook", sink.url(), Map.of())
                    .path("webhook_url")
                    .asString();
            assertThat(api.get("/health/ready", null).status()).isEqualTo(200);
            // line 4 of postmaster.pid is the port
            String port = Files.readAllLines(dataDir.resolve("postgres/postmaster.pid"))
                    .get(3)
                    .strip();
            try (Connection admin =
                    DriverManager.getConnection("jdbc:postgresql://localhost:" + port + "/postgres", "postgres", "")) {
                // Every commit now waits for a synchronous standby that does not exist: reads still answer.
                setSynchronousStandbys(admin, "'nobody'");
                try {
                    Awaitility.await()
                            .atMost(Duration.ofSeconds(20))
                            .until(() -> api.get("/health/ready", null).status() == 503);
                    assertThat(post(api, hook).status())
                            .as("a hook while no commit can finish")
                            .isEqualTo(503);
                } finally {
                    setSynchronousStandbys(admin, "DEFAULT");
                }
            }
            Awaitility.await()
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> api.get("/health/ready", null).status() == 200);
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> post(api, hook).status() == 202);
        }
    }

    private static void setSynchronousStandbys(Connection admin, String value) throws Exception {
        try (Statement s = admin.createStatement()) {
            s.execute("ALTER SYSTEM SET synchronous_standby_names = " + value);
            s.execute("SELECT pg_reload_conf()");
        }
    }

    private static Api.Response post(Api api, String hook) {
        return api.send("POST", hook, null, "application/json", "{\"n\":1}");
    }

    private static List<Long> postgresProcesses(Path pidFile) throws IOException {
        long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
        ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow();
        return Stream.concat(Stream.of(postmaster), postmaster.descendants())
                .map(ProcessHandle::pid)
                .toList();
    }

    /**
     * Signals the first of {@code pids} (the postmaster: it must be there) and then each of the others (backends: one
     * may have ended since they were listed, which is no failure; a single `kill` of them all once failed on that).
     */
    private static void signal(String signal, List<Long> pids) throws Exception {
        for (int i = 0; i < pids.size(); i++) {
            int exit = new ProcessBuilder("kill", "-" + signal, Long.toString(pids.get(i)))
                    .redirectErrorStream(true)
                    .start()
                    .waitFor();
            if (i == 0) {
                assertThat(exit).as("kill -" + signal + " of the postmaster").isZero();
            }
        }
    }
}
