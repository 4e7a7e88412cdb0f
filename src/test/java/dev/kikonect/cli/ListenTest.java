package dev.kikonect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;

/**
 * {@code kikonect listen} end to end: a local server behind the CLI gets the signed deliveries of a step whose url is
 * listen://dev, its 500 makes the run retry, and a listener that disconnects and reconnects loses nothing.
 */
class ListenTest extends ApiTest {

    private Api.User user;
    private Path config;

    @BeforeEach
    void setUp() throws Exception {
        user = api.newUser();
        config = Files.createTempDirectory("kikonect-listen").resolve("cli.json");
        StringWriter ignored = new StringWriter();
        assertThat(Cli.run(
                        new String[] {
                            "login", "--server", api.base(), "--email", user.email(), "--password", user.password()
                        },
                        new PrintWriter(ignored),
                        new PrintWriter(ignored),
                        config))
                .isZero();
    }

    /** A running {@code kikonect listen}, in this JVM. */
    private record Running(Cli.Listen command, Thread thread, StringWriter out) {
        void stop() throws InterruptedException {
            command.stop();
            thread.join(10_000);
            assertThat(thread.isAlive()).isFalse();
        }
    }

    private Running listen(String name, String forward) {
        Cli.Listen command = new Cli.Listen();
        StringWriter out = new StringWriter();
        command.out = new PrintWriter(out, true);
        command.config = config;
        new CommandLine(command).parseArgs(name, "--forward", forward);
        Thread thread = Thread.ofVirtual().start(() -> {
            try {
                command.call();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        eventually().until(() -> out.toString().contains("Listening to listen://" + name));
        return new Running(command, thread, out);
    }

    private JsonNode workflow(String url) {
        Api.Response created = api.post(
                "/workflows",
                user.token(),
                Map.of(
                        "name",
                        "local",
                        "trigger_type",
                        "manual",
                        "steps",
                        List.of(Map.of("key", "dev", "url", url, "max_attempts", 20))));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json();
    }

    private long trigger(JsonNode workflow, String payload) {
        return api.send(
                        "POST",
                        "/workflows/" + workflow.path("id").asLong() + "/trigger",
                        user.token(),
                        "application/json",
                        payload)
                .json()
                .path("id")
                .asLong();
    }

    private JsonNode run(long id) {
        return api.get("/runs/" + id, user.token()).json();
    }

    @Test
    void a_local_server_gets_signed_deliveries_its_500_is_retried_and_a_reconnect_loses_nothing() throws Exception {
        AtomicBoolean failing = new AtomicBoolean();
        try (Sink local = new Sink().replyWith(r -> failing.get() ? Sink.Reply.status(500) : Sink.Reply.status(200))) {
            JsonNode wf = workflow("listen://dev");
            Running first = listen("dev", local.url("/hook"));

            long a = trigger(wf, "{\"order\":1}");
            assertThat(awaitFinished(user, a).path("status").asString()).isEqualTo("succeeded");
            Sink.Received got = local.received().get(0);
            assertThat(got.path()).isEqualTo("/hook");
            assertThat(got.body()).isEqualTo("{\"order\":1}");
            JsonNode step = run(a).path("steps").get(0);
            assertThat(got.header("webhook-id"))
                    .isEqualTo(step.path("webhook_id").asString());
            assertThat(got.header("webhook-signature")).startsWith("v1,");
            assertThat(got.headers())
                    .as("forwarded over plain HTTP/1.1, no h2c upgrade")
                    .doesNotContainKeys("upgrade", "http2-settings");
            assertThat(step.path("attempts").get(0).path("request").path("url").asString())
                    .isEqualTo("listen://dev");
            assertThat(first.out().toString()).contains("POST /hook -> 200");

            // the local server answers 500: recorded as the attempt's response, and the run retries until it answers
            // 200
            failing.set(true);
            long b = trigger(wf, "{\"order\":2}");
            eventually()
                    .until(() -> run(b).path("steps").get(0).path("attempts").size() >= 1);
            JsonNode failed = run(b).path("steps").get(0).path("attempts").get(0);
            assertThat(failed.path("response_status").asInt()).isEqualTo(500);
            failing.set(false);
            assertThat(awaitFinished(user, b).path("status").asString()).isEqualTo("succeeded");

            // no listener: the attempt fails and is retried; once one connects again, the run is delivered
            first.stop();
            long c = trigger(wf, "{\"order\":3}");
            eventually()
                    .until(() -> run(c).path("steps").get(0).path("attempts").size() >= 1);
            // (the server may notice the closed stream only when it next writes to it: then the delivery it took is
            // said to have gone unanswered; either way the attempt fails and is retried)
            assertThat(run(c).path("steps")
                            .get(0)
                            .path("attempts")
                            .get(0)
                            .path("error")
                            .asString())
                    .containsAnyOf(
                            "no listener 'dev' connected", "listener 'dev' took the delivery but gave no answer");
            assertThat(run(c).path("status").asString()).isNotEqualTo("succeeded");
            Running second = listen("dev", local.url("/hook"));
            assertThat(awaitFinished(user, c).path("status").asString()).isEqualTo("succeeded");
            assertThat(local.received()).extracting(Sink.Received::body).contains("{\"order\":3}");
            second.stop();
        }
    }

    @Test
    void another_workspaces_listener_of_the_same_name_gets_nothing_and_bad_names_are_400s() throws Exception {
        try (Sink local = new Sink()) {
            Api.User stranger = api.newUser();
            Path strangerConfig = Files.createTempDirectory("kikonect-listen").resolve("cli.json");
            StringWriter ignored = new StringWriter();
            Cli.run(
                    new String[] {
                        "login", "--server", api.base(), "--email", stranger.email(), "--password", stranger.password()
                    },
                    new PrintWriter(ignored),
                    new PrintWriter(ignored),
                    strangerConfig);
            Cli.Listen theirs = new Cli.Listen();
            theirs.out = new PrintWriter(new StringWriter(), true);
            theirs.config = strangerConfig;
            new CommandLine(theirs).parseArgs("dev", "--forward", local.url("/theirs"));
            Thread thread = Thread.ofVirtual().start(() -> {
                try {
                    theirs.call();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            JsonNode wf = workflow("listen://dev");
            long run = trigger(wf, "{}");
            eventually()
                    .until(() -> run(run).path("steps").get(0).path("attempts").size() >= 1);
            assertThat(run(run).path("steps")
                            .get(0)
                            .path("attempts")
                            .get(0)
                            .path("error")
                            .asString())
                    .contains("no listener 'dev'");
            assertThat(local.received()).isEmpty();
            theirs.stop();
            thread.join(10_000);

            Api.Response bad = api.post(
                    "/workflows",
                    user.token(),
                    Map.of("name", "x", "trigger_type", "manual", "action_url", "listen://Not_Valid"));
            assertThat(bad.status()).isEqualTo(400);
            assertThat(bad.json().path("errors").get(0).path("reason").asString())
                    .contains("listener name");
            api.post(
                    "/credentials",
                    user.token(),
                    Map.of(
                            "name",
                            "erp",
                            "type",
                            "bearer",
                            "token",
                            "secret-token",
                            "allowed_hosts",
                            List.of("127.0.0.1")));
            Api.Response withCredential = api.post(
                    "/workflows",
                    user.token(),
                    Map.of(
                            "name",
                            "x",
                            "trigger_type",
                            "manual",
                            "steps",
                            List.of(Map.of("key", "dev", "url", "listen://dev", "credential", "erp"))));
            assertThat(withCredential.status()).isEqualTo(400);
            assertThat(withCredential.json().path("errors").get(0).path("field").asString())
                    .isEqualTo("steps[0].credential");
        }
    }
}
