package dev.kikonect.execution;

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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * A node (its own JVM, on the embedded database) is killed with SIGKILL while the callbacks of 40 waiting runs arrive:
 * the callbacks that did not get an answer are sent again to the next node; every token is accepted at most once
 * (202 once, 409 after), every run resumes and ends, and the step after each wait is delivered under its one
 * webhook-id with what its first accepted callback posted.
 */
class WaitsCrashTest {

    private static final int RUNS = 40;

    private static List<String> args(Path dataDir, int port) {
        return NodeProcess.crashTestArgs(dataDir, port);
    }

    @Test
    void a_node_killed_while_callbacks_arrive_resumes_every_run_once() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "waits-crash-");
        try (Sink sink = new Sink()) {
            int port = NodeProcess.freePort();
            NodeProcess node = NodeProcess.start(dataDir, port, args(dataDir, port));
            Api.User user;
            List<Long> runs = new ArrayList<>();
            Map<String, AtomicInteger> accepted = new ConcurrentHashMap<>();
            List<String> unanswered = new CopyOnWriteArrayList<>();
            try {
                Api api = node.api();
                user = api.newUser();
                Map<String, Object> workflow = new HashMap<>();
                workflow.put("name", "contracts");
                workflow.put("trigger_type", "manual");
                workflow.put(
                        "steps",
                        List.of(
                                Map.of(
                                        "key",
                                        "contract",
                                        "url",
                                        sink.url("/sign"),
                                        "body",
                                        "{ 'n': payload.n, 'callback': waits.signed.url }"),
                                Map.of(
                                        "key",
                                        "signed",
                                        "needs",
                                        List.of("contract"),
                                        "wait",
                                        Map.of("for", "callback")),
                                Map.of(
                                        "key",
                                        "archive",
                                        "needs",
                                        List.of("signed"),
                                        "url",
                                        sink.url("/archive"),
                                        "body",
                                        "{ 'n': payload.n, 'by': steps.signed.response.body.by }")));
                Api.Response created = api.post("/workflows", user.token(), workflow);
                assertThat(created.status()).as(created.body()).isEqualTo(201);
                for (int n = 0; n < RUNS; n++) {
                    runs.add(api.post(
                                    "/workflows/" + created.json().path("id").asLong() + "/trigger",
                                    user.token(),
                                    Map.of("n", n))
                            .json()
                            .path("id")
                            .asLong());
                }
                Awaitility.await()
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> sink.received().stream()
                                        .filter(r -> r.path().equals("/sign"))
                                        .count()
                                >= RUNS);
                List<String> resumes = resumes(sink);
                // The callbacks arrive, eight at a time; the node is killed once a third were accepted, with others in
                // flight (committed or not, their answers lost).
                try (ExecutorService senders = Executors.newFixedThreadPool(8)) {
                    for (String path : resumes) {
                        senders.execute(() -> {
                            try {
                                Api.Response answer = api.sendWithHeaders(
                                        "POST", path, "application/json", "{\"by\":\"" + by(path) + "\"}", Map.of());
                                if (answer.status() == 202) {
                                    accepted.computeIfAbsent(path, p -> new AtomicInteger())
                                            .incrementAndGet();
                                } else {
                                    unanswered.add(path);
                                }
                            } catch (RuntimeException e) {
                                unanswered.add(path); // the node is gone: the sender tries again later
                            }
                            if (accepted.size() >= RUNS / 3) {
                                node.kill();
                            }
                        });
                    }
                }
            } finally {
                node.close();
            }
            assertThat(unanswered)
                    .as("callbacks the killed node did not answer")
                    .isNotEmpty();

            try (ConfigurableApplicationContext again = new SpringApplicationBuilder(KiKonectApplication.class)
                    .run(args(dataDir, 0).toArray(String[]::new))) {
                Api api = new Api(Integer.parseInt(again.getEnvironment().getProperty("local.server.port")));
                int acceptedBefore = accepted.size();
                int conflicts = 0;
                for (String path : unanswered) {
                    Api.Response answer = api.sendWithHeaders(
                            "POST", path, "application/json", "{\"by\":\"" + by(path) + "\"}", Map.of());
                    assertThat(answer.status()).as(answer.body()).isIn(202, 409);
                    if (answer.status() == 202) {
                        accepted.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
                    } else {
                        conflicts++;
                    }
                }
                System.out.println("WaitsCrashTest: " + acceptedBefore + " callbacks accepted before the kill, "
                        + unanswered.size() + " unanswered and sent again: " + conflicts
                        + " of them had been recorded (409), the rest accepted now");
                String token = api.post("/login", null, Map.of("email", user.email(), "password", user.password()))
                        .json()
                        .path("token")
                        .asString();
                for (long run : runs) {
                    JsonNode done = Awaitility.await()
                            .atMost(Duration.ofSeconds(60))
                            .until(
                                    () -> api.get("/runs/" + run, token).json(),
                                    r -> Set.of("succeeded", "failed")
                                            .contains(r.path("status").asString()));
                    assertThat(done.path("status").asString())
                            .as(done.toString())
                            .isEqualTo("succeeded");
                }
            }

            assertThat(accepted.values())
                    .as("each token accepted at most once, across the kill")
                    .allMatch(count -> count.get() == 1);
            List<Sink.Received> archived = sink.received().stream()
                    .filter(r -> r.path().equals("/archive"))
                    .toList();
            Map<Integer, Set<String>> idsByRun = archived.stream()
                    .collect(Collectors.groupingBy(
                            r -> Api.JSON.readTree(r.body()).path("n").asInt(),
                            Collectors.mapping(r -> r.header("webhook-id"), Collectors.toSet())));
            assertThat(idsByRun).as("every run's step after its wait delivered").hasSize(RUNS);
            assertThat(idsByRun.values()).allMatch(ids -> ids.size() == 1);
            assertThat(archived)
                    .as("with what its callback posted")
                    .allMatch(r ->
                            Api.JSON.readTree(r.body()).path("by").asString().startsWith("signer-"));
        }
    }

    /** The resume paths the first steps were sent, one per run. */
    private static List<String> resumes(Sink sink) {
        return sink.received().stream()
                .filter(r -> r.path().equals("/sign"))
                .map(r -> URI.create(
                                Api.JSON.readTree(r.body()).path("callback").asString())
                        .getRawPath())
                .distinct()
                .toList();
    }

    private static String by(String path) {
        return "signer-" + path.substring("/resume/".length(), path.indexOf('.'));
    }
}
