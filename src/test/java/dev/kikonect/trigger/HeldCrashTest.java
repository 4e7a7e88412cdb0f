package dev.kikonect.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.KiKonectApplication;
import dev.kikonect.support.Api;
import dev.kikonect.support.NodeProcess;
import dev.kikonect.support.Sink;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * A node (its own JVM, on the embedded database) is killed with SIGKILL while ten webhook callers are held for their
 * step's answer ({@code respond.mode = step}): every caller gets an error (no answer), every run was stored before
 * its caller was held, and the next node delivers each run's step (under its one webhook-id) and ends it.
 */
class HeldCrashTest {

    private static final int CALLERS = 10;

    private static List<String> args(Path dataDir, int port) {
        return NodeProcess.crashTestArgs(dataDir, port);
    }

    @Test
    void a_node_killed_while_callers_are_held_loses_no_run() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "held-crash-");
        CountDownLatch release = new CountDownLatch(1);
        try (Sink sink = new Sink()) {
            sink.replyWith(r -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return new Sink.Reply(200, Map.of("Content-Type", "application/json"), "{\"done\":true}", false);
            });
            int port = NodeProcess.freePort();
            Api.User user;
            long workflowId;
            String hook;
            List<Future<Integer>> callers = new ArrayList<>();
            try (NodeProcess node = NodeProcess.start(dataDir, port, args(dataDir, port));
                    ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor()) {
                Api api = node.api();
                user = api.newUser();
                Map<String, Object> workflow = new HashMap<>();
                workflow.put("name", "held");
                workflow.put("trigger_type", "webhook");
                workflow.put("steps", List.of(Map.of("key", "work", "url", sink.url("/work"), "body", "payload")));
                workflow.put(
                        "trigger_config", Map.of("respond", Map.of("mode", "step", "step", "work", "timeout", "60s")));
                Api.Response created = api.post("/workflows", user.token(), workflow);
                assertThat(created.status()).as(created.body()).isEqualTo(201);
                workflowId = created.json().path("id").asLong();
                hook = URI.create(created.json().path("webhook_url").asString()).getRawPath();
                for (int n = 0; n < CALLERS; n++) {
                    String body = "{\"n\":" + n + "}";
                    callers.add(senders.submit(() -> {
                        try {
                            return api.sendWithHeaders("POST", hook, "application/json", body, Map.of())
                                    .status();
                        } catch (RuntimeException e) {
                            return -1; // no answer: the node is gone
                        }
                    }));
                }
                Awaitility.await()
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> sink.received().size() >= CALLERS);
                node.kill();
                for (Future<Integer> caller : callers) {
                    assertThat(caller.get(30, TimeUnit.SECONDS))
                            .as("a held caller whose node died gets no answer")
                            .isEqualTo(-1);
                }
            }
            release.countDown();

            try (ConfigurableApplicationContext again = new SpringApplicationBuilder(KiKonectApplication.class)
                    .run(args(dataDir, 0).toArray(String[]::new))) {
                Api api = new Api(Integer.parseInt(again.getEnvironment().getProperty("local.server.port")));
                String token = api.post("/login", null, Map.of("email", user.email(), "password", user.password()))
                        .json()
                        .path("token")
                        .asString();
                JsonNode runs = Awaitility.await()
                        .atMost(Duration.ofSeconds(60))
                        .until(
                                () -> api.get("/workflows/" + workflowId + "/runs?limit=100", token)
                                        .json()
                                        .path("items"),
                                items -> items.size() == CALLERS
                                        && Set.of("succeeded", "failed").containsAll(statuses(items)));
                assertThat(statuses(runs))
                        .as("every run stored before its caller was held, and ended by the next node")
                        .containsOnly("succeeded");
                Map<Integer, Set<String>> idsByCaller = sink.received().stream()
                        .collect(Collectors.groupingBy(
                                r -> Api.JSON.readTree(r.body()).path("n").asInt(),
                                Collectors.mapping(r -> r.header("webhook-id"), Collectors.toSet())));
                assertThat(idsByCaller).hasSize(CALLERS);
                assertThat(idsByCaller.values()).allMatch(ids -> ids.size() == 1);

                Api.Response answered = api.sendWithHeaders("POST", hook, "application/json", "{\"n\":99}", Map.of());
                assertThat(answered.status())
                        .as("the next node holds and answers")
                        .isEqualTo(200);
                assertThat(answered.json().path("done").asBoolean()).isTrue();
            }
        } finally {
            release.countDown();
        }
    }

    private static List<String> statuses(JsonNode runs) {
        List<String> out = new ArrayList<>();
        runs.forEach(r -> out.add(r.path("status").asString()));
        return out;
    }
}
