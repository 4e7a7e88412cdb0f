package dev.kikonect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The command line client against the real server: log in, create, list, trigger, show, replay; its errors. */
class CliTest extends ApiTest {

    private Path config;
    private Api.User user;

    record Result(int exit, String out, String err) {
        JsonNode json() {
            return Api.JSON.readTree(out);
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        config = Files.createTempDirectory("kikonect-cli").resolve("cli.json");
        user = api.newUser();
    }

    private Result cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Cli.run(args, new PrintWriter(out), new PrintWriter(err), config);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void a_name_with_terminal_escapes_is_shown_not_obeyed() {
        cli("login", "--server", api.base(), "--email", user.email(), "--password", user.password());
        api.post(
                "/workflows",
                user.token(),
                Map.of(
                        "name",
                        "red\u001b[31m\u001b]0;owned\u0007",
                        "trigger_type",
                        "manual",
                        "action_url",
                        "https://example.com/x"));

        Result listed = cli("workflows", "list");

        assertThat(listed.out())
                .doesNotContain("\u001b")
                .doesNotContain("\u0007")
                .contains("red\\u001b[31m");
    }

    @Test
    void log_in_create_a_workflow_fire_it_and_follow_its_run_from_the_command_line() throws Exception {
        try (Sink sink = new Sink()) {
            Result login = cli("login", "--server", api.base(), "--email", user.email(), "--password", user.password());
            assertThat(login.exit()).as(login.err()).isZero();
            assertThat(login.out()).contains("Logged in to " + api.base() + " as " + user.email());
            assertThat(login.err())
                    .as("a password on the command line is in the process list")
                    .contains("--password-stdin");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(config)))
                    .isEqualTo("rw-------");

            Result created = cli("workflows", "create", "--name", "orders", "--url", sink.url(), "-o", "json");
            assertThat(created.exit()).as(created.err()).isZero();
            long id = created.json().path("id").asLong();

            Result table = cli("workflows", "list");
            assertThat(table.out().lines().findFirst().orElseThrow())
                    .startsWith("ID")
                    .contains("NAME")
                    .contains("TRIGGER_TYPE");
            assertThat(table.out()).contains("orders").contains("manual");

            Result fired = cli("workflows", "trigger", Long.toString(id), "--payload", "{\"order\":42}", "-o", "json");
            assertThat(fired.exit()).as(fired.err()).isZero();
            long run = fired.json().path("id").asLong();
            awaitFinished(user, run);

            Result shown = cli("runs", "show", Long.toString(run), "-o", "json");
            assertThat(shown.json().path("status").asString()).isEqualTo("succeeded");
            assertThat(shown.json()
                            .path("attempts")
                            .get(0)
                            .path("response_status")
                            .asInt())
                    .isEqualTo(200);
            assertThat(cli("runs", "show", Long.toString(run)).out())
                    .contains("succeeded")
                    .contains("RESPONSE_STATUS");

            Result replayed = cli("runs", "replay", Long.toString(run), "-o", "json");
            assertThat(replayed.json().path("replay_of").asLong()).isEqualTo(run);
            assertThat(cli("runs", "list", "--workflow", Long.toString(id), "-o", "json")
                            .json())
                    .hasSize(2);
            assertThat(sink.received().get(0).body()).isEqualTo("{\"order\":42}");
        }
    }

    @Test
    void the_servers_refusals_and_bad_usage_are_said_in_words_with_exit_codes() {
        Result wrong = cli("login", "--server", api.base(), "--email", user.email(), "--password", "not the password");
        assertThat(wrong.exit()).isEqualTo(1);
        assertThat(wrong.err().lines().reduce((a, b) -> b).orElse("")).startsWith("kikonect: ");
        assertThat(wrong.err()).doesNotContain("Exception");
        assertThat(Files.exists(config)).isFalse();

        Result notLoggedIn = cli("workflows", "list", "--server", api.base());
        assertThat(notLoggedIn.exit()).isEqualTo(1);
        assertThat(notLoggedIn.err()).contains("not logged in");

        cli("login", "--server", api.base(), "--email", user.email(), "--password", user.password());
        Result invalid = cli("workflows", "create", "--name", "x", "--url", "ftp://example.com");
        assertThat(invalid.exit()).isEqualTo(1);
        assertThat(invalid.err()).contains("action_url: ");
        Result badJson = cli("workflows", "trigger", "1", "--payload", "{nope");
        assertThat(badJson.exit()).isEqualTo(1);
        assertThat(badJson.err()).contains("--payload is not JSON");
        assertThat(cli("runs", "show", "999999999").err()).contains("was not found");
        assertThat(cli("workflows", "frobnicate").exit()).isEqualTo(2);
        assertThat(cli("--version").out()).startsWith("kikonect ");
        // ./kikonect --help (or -h, -V, --version) reaches the CLI instead of starting a server
        assertThat(Cli.COMMANDS).contains("-h", "--help", "-V", "--version");
        assertThat(cli("runs", "show", "1", "--output", "yaml").exit()).isEqualTo(2);
        Result unreachable = cli("workflows", "list", "--server", "http://127.0.0.1:9");
        assertThat(unreachable.exit()).isEqualTo(1);
        assertThat(unreachable.err()).contains("cannot be reached");
    }
}
