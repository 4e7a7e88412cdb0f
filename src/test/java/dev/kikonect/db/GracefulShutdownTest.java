package dev.kikonect.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.KiKonectApplication;
import dev.kikonect.support.Api;
import dev.kikonect.support.NodeProcess;
import dev.kikonect.support.Sink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A node (its own JVM, on the embedded database) gets SIGTERM with 50 deliveries in flight: it exits within its
 * grace, hands them back to the queue while its embedded database still runs (the database stops last, not first
 * as zonky's own shutdown hook once did), and the next start delivers them at once, without waiting for leases.
 */
class GracefulShutdownTest {

    private static List<String> args(Path dataDir, int port) {
        return List.of(
                "--server.port=" + port,
                "--kikonect.data-dir=" + dataDir,
                "--kikonect.executor.poll-interval=50ms",
                "--kikonect.executor.shutdown-grace=2s",
                "--kikonect.executor.lease-duration=5m", // a lease that would keep them for minutes if not handed back
                "--kikonect.delivery.timeout=60s",
                "--kikonect.delivery.allowed-cidrs=127.0.0.1/32");
    }

    private static ConfigurableApplicationContext start(Path dataDir) {
        return new SpringApplicationBuilder(KiKonectApplication.class)
                .run(args(dataDir, 0).toArray(String[]::new));
    }

    @Test
    void stopping_with_fifty_deliveries_in_flight_hands_them_back_and_a_restart_delivers_them_at_once()
            throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "shutdown-");
        CountDownLatch hang = new CountDownLatch(1);
        try (Sink sink = new Sink().replyWith(r -> {
            try {
                hang.await(60, TimeUnit.SECONDS); // until the node has stopped: deliveries in flight
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Sink.Reply.status(200);
        })) {
            Api.User user;
            long workflow;
            List<Long> runs = new ArrayList<>();
            // The first node runs in its own JVM (this test's class path), so that it gets a real SIGTERM.
            int port = NodeProcess.freePort();
            NodeProcess node = NodeProcess.start(dataDir, port, args(dataDir, port));
            Path log = node.log();
            try {
                Api api = node.api();
                user = api.newUser();
                workflow = api.createWorkflow(user, "manual", sink.url(), Map.of(), Map.of("max_attempts", 1))
                        .path("id")
                        .asLong();
                for (int i = 0; i < 50; i++) {
                    runs.add(api.post("/workflows/" + workflow + "/trigger", user.token(), "{\"i\":" + i + "}")
                            .json()
                            .path("id")
                            .asLong());
                }
                Awaitility.await()
                        .atMost(Duration.ofSeconds(15))
                        .until(() -> sink.received().size() >= 50);
            } finally {
                long started = System.nanoTime();
                node.process().destroy(); // SIGTERM
                boolean exited = node.process().waitFor(30, TimeUnit.SECONDS);
                long seconds = (System.nanoTime() - started) / 1_000_000_000L;
                if (!exited) {
                    node.kill();
                }
                assertThat(exited).as("exited after SIGTERM; see " + log).isTrue();
                assertThat(seconds).as("s to stop with a 2 s grace").isLessThan(15);
            }
            String output = Files.readString(log);
            assertThat(output)
                    .as("the node's log")
                    .contains("handed 50 back to the queue")
                    .doesNotContain("Handing unfinished jobs back failed");
            hang.countDown(); // the receiver answers from now on; the stopped node's connections are gone

            try (ConfigurableApplicationContext again = start(dataDir)) {
                Api api = new Api(Integer.parseInt(again.getEnvironment().getProperty("local.server.port")));
                String token = api.post("/login", null, Map.of("email", user.email(), "password", user.password()))
                        .json()
                        .path("token")
                        .asString();
                Awaitility.await()
                        .atMost(Duration.ofSeconds(20)) // far below the 5 min lease they would otherwise wait for
                        .until(() -> runs.stream()
                                .allMatch(id -> api.get("/runs/" + id, token)
                                        .json()
                                        .path("status")
                                        .asString()
                                        .equals("succeeded")));
                // Handed back, not lost and not failed: with max_attempts 1, the interrupted attempt did not count.
                assertThat(api.get("/runs/" + runs.get(0), token)
                                .json()
                                .path("attempt_count")
                                .asInt())
                        .isEqualTo(1);
            }
        }
    }
}
