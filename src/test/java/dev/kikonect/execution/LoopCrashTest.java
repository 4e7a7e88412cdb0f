package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.KiKonectApplication;
import dev.kikonect.support.Api;
import dev.kikonect.support.NodeProcess;
import dev.kikonect.support.Sink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * A node (its own JVM, on the embedded database) is killed with SIGKILL in the middle of a 200-item loop: a node
 * started again on the same data delivers every item that was not delivered, each under its one webhook-id; only the
 * items that were in flight at the kill (at most the loop's concurrency) are sent a second time, no item that had
 * finished is sent again, and the step after the loop runs once, reading all 200 responses.
 */
class LoopCrashTest {

    private static final int ITEMS = 200;
    private static final int CONCURRENCY = 10;

    private static List<String> args(Path dataDir, int port) {
        return NodeProcess.crashTestArgs(dataDir, port);
    }

    @Test
    void a_node_killed_in_the_middle_of_a_200_item_loop_loses_no_item_and_sends_no_finished_item_again()
            throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "loop-crash-");
        try (Sink sink = new Sink().replyWith(r -> {
            if (r.path().startsWith("/item/")) {
                try {
                    Thread.sleep(40); // a receiver that takes a moment: the loop is still running at the kill
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return new Sink.Reply(
                        200,
                        Map.of("Content-Type", "application/json"),
                        "{\"n\":" + r.path().substring("/item/".length()) + "}",
                        false);
            }
            return Sink.Reply.status(204);
        })) {
            int port = NodeProcess.freePort();
            NodeProcess node = NodeProcess.start(dataDir, port, args(dataDir, port));
            Api.User user;
            long runId;
            int beforeKill;
            try {
                Api api = node.api();
                user = api.newUser();
                Map<String, Object> workflow = new HashMap<>();
                workflow.put("name", "loop");
                workflow.put("trigger_type", "manual");
                workflow.put(
                        "steps",
                        List.of(
                                Map.of(
                                        "key",
                                        "lines",
                                        "for_each",
                                        "payload.lines",
                                        "concurrency",
                                        CONCURRENCY,
                                        "url",
                                        sink.url("/item/{{ index }}")),
                                Map.of(
                                        "key",
                                        "after",
                                        "needs",
                                        List.of("lines"),
                                        "url",
                                        sink.url("/after"),
                                        "body",
                                        "{ 'sum': $sum(steps.lines.response.body.n), 'count':"
                                                + " $count(steps.lines.response) }")));
                Api.Response created = api.post("/workflows", user.token(), workflow);
                assertThat(created.status()).as(created.body()).isEqualTo(201);
                List<Integer> lines = IntStream.range(0, ITEMS).boxed().toList();
                Api.Response accepted = api.post(
                        "/workflows/" + created.json().path("id").asLong() + "/trigger",
                        user.token(),
                        Map.of("lines", lines));
                assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
                runId = accepted.json().path("id").asLong();
                Awaitility.await()
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> items(sink).size() >= ITEMS / 3);
            } finally {
                node.close(); // SIGKILL: no hand-back, no completion, leases left to expire
            }
            beforeKill = items(sink).size();
            assertThat(beforeKill).as("items sent before the kill").isLessThan(ITEMS);

            try (ConfigurableApplicationContext again = new SpringApplicationBuilder(KiKonectApplication.class)
                    .run(args(dataDir, 0).toArray(String[]::new))) {
                Api api = new Api(Integer.parseInt(again.getEnvironment().getProperty("local.server.port")));
                String token = api.post("/login", null, Map.of("email", user.email(), "password", user.password()))
                        .json()
                        .path("token")
                        .asString();
                JsonNode run = Awaitility.await()
                        .atMost(Duration.ofSeconds(60))
                        .until(
                                () -> api.get("/runs/" + runId, token).json(),
                                r -> r.path("status").asString().equals("succeeded")
                                        || r.path("status").asString().equals("failed"));
                assertThat(run.path("status").asString()).isEqualTo("succeeded");
            }

            List<Sink.Received> items = items(sink);
            System.out.println("LoopCrashTest: " + beforeKill + " items sent before the kill, " + (items.size() - ITEMS)
                    + " sent again after it");
            Map<String, Set<String>> idsByItem = items.stream()
                    .collect(Collectors.groupingBy(
                            Sink.Received::path, Collectors.mapping(r -> r.header("webhook-id"), Collectors.toSet())));
            assertThat(idsByItem).as("every item delivered").hasSize(ITEMS);
            assertThat(idsByItem.values())
                    .as("each item under its one webhook-id, across the kill")
                    .allMatch(ids -> ids.size() == 1);
            assertThat(new HashSet<>(idsByItem.values()))
                    .as("200 different webhook-ids")
                    .hasSize(ITEMS);
            assertThat(items.size() - ITEMS)
                    .as("items sent again: only those in flight at the kill (" + beforeKill + " sent before it)")
                    .isBetween(0, CONCURRENCY);
            List<Sink.Received> after = sink.received().stream()
                    .filter(r -> r.path().equals("/after"))
                    .toList();
            assertThat(after).as("the step after the loop, once").hasSize(1);
            JsonNode gathered = Api.JSON.readTree(after.get(0).body());
            assertThat(gathered.path("count").asInt()).isEqualTo(ITEMS);
            assertThat(gathered.path("sum").asInt()).isEqualTo(ITEMS * (ITEMS - 1) / 2);
        }
    }

    private static List<Sink.Received> items(Sink sink) {
        return sink.received().stream()
                .filter(r -> r.path().startsWith("/item/"))
                .toList();
    }
}
