package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Issue 12's attack 4: large payloads to a receiver that accepts and never reads. Deliveries in flight hold at most
 * {@code kikonect.executor.memory-budget} (64 MiB by default), however many runs are waiting, and one workspace at most
 * its share ({@code kikonect.executor.per-owner-memory}, 16 MiB): another workspace's delivery goes through while the
 * backlog is still hanging.
 */
class DeliveryMemoryTest extends ApiTest {

    private static final double BUDGET = 64 * 1024 * 1024;
    private static final double SHARE = 16 * 1024 * 1024;

    @Autowired
    MeterRegistry meters;

    @Autowired
    JdbcClient jdbc;

    @Test
    void large_payloads_to_a_receiver_that_never_answers_hold_at_most_the_memory_budget() throws Exception {
        List<Socket> accepted = new CopyOnWriteArrayList<>();
        try (ServerSocket stalled = new ServerSocket(0, 1000, InetAddress.getByName("127.0.0.1"))) {
            Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        accepted.add(stalled.accept()); // accepts, never reads
                    }
                } catch (IOException e) {
                    // closed at the end
                }
            });
            Api.User user = api.newUser();
            long workflow = api.createWorkflow(
                            user,
                            "manual",
                            "http://127.0.0.1:" + stalled.getLocalPort() + "/",
                            Map.of(),
                            Map.of("max_attempts", 1))
                    .path("id")
                    .asLong();
            String payload = "{\"blob\":\"" + "x".repeat(900_000) + "\"}";

            for (int i = 0; i < 90; i++) { // 81 MB of payloads, more than the budget
                assertThat(api.post("/workflows/" + workflow + "/trigger", user.token(), payload)
                                .status())
                        .isEqualTo(202);
            }

            Api.User other = api.newUser();
            try (Sink sink = new Sink()) {
                long theirs = api.createWorkflow(other, "manual", sink.url("/other"), Map.of())
                        .path("id")
                        .asLong();
                long run = api.post("/workflows/" + theirs + "/trigger", other.token(), "{\"small\":true}")
                        .json()
                        .path("id")
                        .asLong();
                assertThat(awaitFinished(other, run).path("status").asString()).isEqualTo("succeeded");
                long hanging = jdbc.sql(
                                "SELECT count(*) FROM workflow_runs WHERE workflow_id = :id AND status NOT IN ('failed', 'succeeded')")
                        .param("id", workflow)
                        .query(Long.class)
                        .single();
                assertThat(hanging)
                        .as("the other workspace's delivery did not wait for the backlog")
                        .isGreaterThan(0);
            }

            AtomicReference<Double> peak = new AtomicReference<>(0.0);
            eventually().until(() -> {
                peak.accumulateAndGet(
                        meters.get("kikonect.executor.memory").gauge().value(), Math::max);
                return jdbc.sql("SELECT count(*) FROM workflow_runs WHERE workflow_id = :id AND status = 'failed'")
                                .param("id", workflow)
                                .query(Long.class)
                                .single()
                        == 90L;
            });
            assertThat(peak.get())
                    .as("bytes held by deliveries at the peak")
                    .isGreaterThan(10 * 900_000.0)
                    .isLessThanOrEqualTo(Math.min(BUDGET, SHARE + 1024 * 1024));
        } finally {
            for (Socket socket : accepted) {
                socket.close();
            }
        }
    }
}
