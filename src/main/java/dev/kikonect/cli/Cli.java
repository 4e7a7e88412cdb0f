package dev.kikonect.cli;

import dev.kikonect.common.Printable;
import dev.kikonect.execution.Listeners;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * KiKonect's command line client, in the same jar: {@code ./kikonect login}, {@code ./kikonect workflows
 * list|create|trigger}, {@code ./kikonect runs list|show|replay|retry}, each with {@code --output table|json}. It talks
 * to a KiKonect over its HTTP API with the token {@code login} stored in {@code ~/.config/kikonect/cli.json} (owner
 * read/write only); {@code --server} and {@code KIKONECT_TOKEN} override it. Exit codes: 0 done, 1 the server said
 * no (its problem's detail is printed), 2 bad usage.
 */
@Command(
        name = "kikonect",
        mixinStandardHelpOptions = true,
        versionProvider = Cli.Version.class,
        description = "KiKonect's command line: sign in, list and fire workflows, look at and replay runs.",
        subcommands = {
            CommandLine.HelpCommand.class,
            Cli.Login.class,
            Cli.Workflows.class,
            Cli.Runs.class,
            Cli.Listen.class
        })
public final class Cli {

    /** The first arguments that mean "the command line client" rather than "start the server". */
    /** What sends a command line to the CLI rather than starting the server (the standard help and version flags too). */
    public static final Set<String> COMMANDS =
            Set.of("login", "workflows", "runs", "listen", "help", "-h", "--help", "-V", "--version");

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** Runs the client; returns the exit code. {@code config} is where the token is kept. */
    public static int run(String[] args, PrintWriter out, PrintWriter err, Path config) {
        CommandLine cli = new CommandLine(new Cli(), new Factory(out, err, config));
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            err.println(e instanceof Failure ? e.getMessage() : "kikonect: " + e.getMessage());
            err.flush();
            return 1;
        });
        int code = cli.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /** The default place of the stored token: $KIKONECT_CONFIG, else ~/.config/kikonect/cli.json. */
    public static Path defaultConfig() {
        String explicit = System.getenv("KIKONECT_CONFIG");
        return explicit != null
                ? Path.of(explicit)
                : Path.of(System.getProperty("user.home"), ".config", "kikonect", "cli.json");
    }

    /** The version of this jar (kikonect.build.version, set by the build). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties properties = new Properties();
            try (var in = Cli.class.getResourceAsStream("/application.properties")) {
                if (in != null) {
                    properties.load(in);
                }
            }
            return new String[] {"kikonect " + properties.getProperty("kikonect.build.version", "dev")};
        }
    }

    /** How answers are printed. */
    enum Output {
        table,
        json
    }

    /** What the server refused, or could not be reached: printed as it is, exit code 1. */
    static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }

    /** Hands every command the shared output, error stream and configuration path. */
    record Factory(PrintWriter out, PrintWriter err, Path config) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> type) throws Exception {
            K made = CommandLine.defaultFactory().create(type);
            if (made instanceof Base base) {
                base.out = out;
                base.err = err;
                base.config = config;
            }
            return made;
        }
    }

    /** Options every command has, and the HTTP calls. */
    abstract static class Base implements Callable<Integer> {
        PrintWriter out;
        PrintWriter err;
        Path config;

        @Option(
                names = "--server",
                description = "KiKonect's address (default: the one you logged in to, else http://localhost:8080)")
        String server;

        @Option(
                names = {"-o", "--output"},
                description = "table (default) or json",
                defaultValue = "table")
        Output output;

        // HTTP/1.1 only: the JDK client's default (HTTP/2) sends "Upgrade: h2c" on plain http, which local dev servers
        // and some proxies refuse or mishandle.
        final HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();

        JsonNode stored() {
            try {
                return Files.exists(config) ? JSON.readTree(Files.readString(config)) : JSON.createObjectNode();
            } catch (IOException e) {
                throw new Failure("kikonect: cannot read " + config + ": " + e.getMessage());
            }
        }

        String server() {
            if (server != null) {
                return server.replaceAll("/+$", "");
            }
            String saved = stored().path("server").asString("");
            return saved.isEmpty() ? "http://localhost:8080" : saved;
        }

        String token() {
            String env = System.getenv("KIKONECT_TOKEN");
            if (env != null && !env.isBlank()) {
                return env;
            }
            String saved = stored().path("token").asString("");
            if (saved.isEmpty()) {
                throw new Failure(
                        "kikonect: not logged in: run `kikonect login --email you@example.com` (or set KIKONECT_TOKEN)");
            }
            return saved;
        }

        JsonNode call(String method, String path, Object body, boolean authenticated) {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server() + path))
                    .timeout(Duration.ofSeconds(30))
                    .header("Accept", "application/json");
            if (authenticated) {
                request.header("Authorization", "Bearer " + token());
            }
            if (body != null) {
                request.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            } else {
                request.method(method, HttpRequest.BodyPublishers.noBody());
            }
            HttpResponse<String> response;
            try {
                response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new Failure("kikonect: " + server() + " cannot be reached ("
                        + e.getClass().getSimpleName() + ")");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Failure("kikonect: interrupted");
            }
            JsonNode answer;
            try {
                answer = response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
            } catch (RuntimeException e) {
                throw new Failure("kikonect: " + server() + " answered HTTP " + response.statusCode()
                        + " with something other than KiKonect's JSON");
            }
            if (response.statusCode() >= 400) {
                StringBuilder message = new StringBuilder("kikonect: ")
                        .append(Printable.of(
                                answer.path("detail")
                                        .asString(answer.path("title").asString("HTTP " + response.statusCode())),
                                2000));
                for (JsonNode e : answer.path("errors")) {
                    message.append("\n  ")
                            .append(Printable.of(e.path("field").asString(), 200))
                            .append(": ")
                            .append(Printable.of(e.path("reason").asString(), 500));
                }
                throw new Failure(message.toString());
            }
            return answer;
        }

        /** Prints {@code rows} (objects) as JSON or as a table of {@code columns}. */
        void print(JsonNode value, List<String> columns) {
            if (output == Output.json) {
                out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value));
                return;
            }
            List<JsonNode> rows = new ArrayList<>();
            if (value.isArray()) {
                value.forEach(rows::add);
            } else {
                rows.add(value);
            }
            List<List<String>> cells = new ArrayList<>();
            cells.add(columns.stream().map(c -> c.toUpperCase(Locale.ROOT)).toList());
            for (JsonNode row : rows) {
                cells.add(columns.stream().map(c -> text(row.path(c))).toList());
            }
            int[] widths = new int[columns.size()];
            for (List<String> line : cells) {
                for (int i = 0; i < widths.length; i++) {
                    widths[i] = Math.max(widths[i], line.get(i).length());
                }
            }
            for (List<String> line : cells) {
                StringBuilder b = new StringBuilder();
                for (int i = 0; i < widths.length; i++) {
                    b.append(
                            i == widths.length - 1
                                    ? line.get(i)
                                    : String.format("%-" + widths[i] + "s  ", line.get(i)));
                }
                out.println(b.toString().stripTrailing());
            }
        }

        private static String text(JsonNode v) {
            if (v.isMissingNode() || v.isNull()) {
                return "-";
            }
            String s = v.isValueNode() ? v.asString() : v.toString();
            // A name is anyone's text: its control characters (a terminal's escape sequences) are shown, not obeyed.
            s = Printable.of(s, Integer.MAX_VALUE);
            return s.length() > 60 ? s.substring(0, 57) + "..." : s;
        }
    }

    @Command(
            name = "login",
            description = "Sign in and keep the token (in ~/.config/kikonect/cli.json, readable by you only)")
    static final class Login extends Base {
        @Option(names = "--email", required = true)
        String email;

        @Option(
                names = "--password",
                description =
                        "the password; visible to other users in the process list, prefer the prompt or --password-stdin")
        String password;

        @Option(names = "--password-stdin", description = "read the password from standard input (one line)")
        boolean passwordStdin;

        @Override
        public Integer call() throws IOException {
            String secret = password;
            if (secret != null) {
                err.println(
                        "Warning: --password is visible to other users of this machine in the process list; use --password-stdin.");
            }
            if (passwordStdin) {
                secret = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            }
            if (secret == null) {
                Console console = System.console();
                secret = console != null
                        ? new String(console.readPassword("Password for %s: ", email))
                        : new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            }
            JsonNode session =
                    call("POST", "/login", Map.of("email", email, "password", secret == null ? "" : secret), false);
            ObjectNode saved = JSON.createObjectNode();
            saved.put("server", server());
            saved.put("token", session.path("token").asString());
            saved.put("expires_at", session.path("expires_at").asString());
            Files.createDirectories(config.toAbsolutePath().getParent());
            Path temp = Files.createTempFile(config.toAbsolutePath().getParent(), "cli", ".json");
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
            Files.writeString(temp, JSON.writeValueAsString(saved));
            Files.move(temp, config, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            out.println("Logged in to " + server() + " as "
                    + Printable.of(session.path("user").path("email").asString(), 254) + " (until "
                    + session.path("expires_at").asString() + ")");
            return 0;
        }
    }

    @Command(
            name = "workflows",
            description = "List, create and fire workflows",
            subcommands = {WorkflowsList.class, WorkflowsCreate.class, WorkflowsTrigger.class})
    static final class Workflows implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            throw new CommandLine.ParameterException(spec.commandLine(), "say which: list, create or trigger");
        }
    }

    static final List<String> WORKFLOW_COLUMNS =
            List.of("id", "name", "trigger_type", "enabled", "last_run_status", "next_run_at");

    @Command(name = "list", description = "Your workflows, newest first")
    static final class WorkflowsList extends Base {
        @Option(names = "--limit", defaultValue = "50")
        int limit;

        @Override
        public Integer call() {
            print(call("GET", "/workflows?limit=" + limit, null, true).path("items"), WORKFLOW_COLUMNS);
            return 0;
        }
    }

    @Command(name = "create", description = "Create a workflow that POSTs to a URL (see the API for steps)")
    static final class WorkflowsCreate extends Base {
        @Option(names = "--name", required = true)
        String name;

        @Option(
                names = "--trigger",
                defaultValue = "manual",
                description = "manual (default), webhook, interval or cron")
        String trigger;

        @Option(names = "--url", required = true, description = "where each run is POSTed")
        String url;

        @Option(names = "--every", description = "interval: minutes between runs")
        Integer every;

        @Option(names = "--cron", description = "cron: the expression, e.g. '0 9 * * MON-FRI'")
        String cron;

        @Option(names = "--timezone", description = "cron: an IANA time zone (default UTC)")
        String timezone;

        @Override
        public Integer call() {
            Map<String, Object> config = new LinkedHashMap<>();
            if (every != null) {
                config.put("interval_minutes", every);
            }
            if (cron != null) {
                config.put("expression", cron);
            }
            if (timezone != null) {
                config.put("timezone", timezone);
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", name);
            body.put("trigger_type", trigger);
            body.put("action_url", url);
            body.put("trigger_config", config);
            JsonNode created = call("POST", "/workflows", body, true);
            print(created, List.of("id", "name", "trigger_type", "webhook_url", "signing_secret"));
            return 0;
        }
    }

    @Command(name = "trigger", description = "Fire a workflow by hand")
    static final class WorkflowsTrigger extends Base {
        @Parameters(index = "0", description = "the workflow's id")
        long id;

        @Option(names = "--payload", defaultValue = "{}", description = "the JSON to send (default {})")
        String payload;

        @Override
        public Integer call() {
            JsonNode parsed;
            try {
                parsed = JSON.readTree(payload);
            } catch (RuntimeException e) {
                throw new Failure("kikonect: --payload is not JSON: "
                        + e.getMessage().lines().findFirst().orElse(""));
            }
            print(call("POST", "/workflows/" + id + "/trigger", parsed, true), RUN_COLUMNS);
            return 0;
        }
    }

    /**
     * {@code kikonect listen <name> --forward http://localhost:3000/hook}: holds a Server-Sent Events stream to KiKonect
     * and forwards every delivery to {@code listen://<name>} (in the workspace of the login) to the local URL, exactly
     * as sent (method, headers with the signature, body), then posts the local answer back; KiKonect records it as the
     * attempt's response (a 500 is retried like any failure). The stream is opened again when it ends or breaks
     * (1 s, doubling to 10 s); deliveries it missed meanwhile failed their attempt and come back with the retries.
     */
    @Command(
            name = "listen",
            description = "Forward the deliveries to listen://<name> to a local URL (a step's url: listen://<name>)")
    static final class Listen extends Base {
        /** Headers the JDK's client sets itself. */
        private static final Set<String> RESTRICTED =
                Set.of("connection", "content-length", "expect", "host", "upgrade", "transfer-encoding");

        @Parameters(index = "0", description = "the listener's name, as in a step's url listen://<name>")
        String name;

        @Option(names = "--forward", required = true, description = "the local URL every delivery is sent to")
        String forward;

        /** Silence after which the stream counts as dead (the server writes every 15 s). */
        static final Duration SILENCE = Duration.ofSeconds(45);

        private volatile boolean stopped;
        private volatile long lastRead;
        private volatile InputStream stream;
        final AtomicInteger forwarded = new AtomicInteger();

        /** Ends the listener (tests; Ctrl-C ends the process). */
        void stop() {
            stopped = true;
            InputStream s = stream;
            if (s != null) {
                try {
                    s.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
        }

        @Override
        public Integer call() throws InterruptedException {
            if (!Listeners.validName(name)) {
                throw new Failure("kikonect: a listener name is 1 to 40 lower-case letters, digits and dashes");
            }
            URI local = URI.create(forward);
            out.println("Listening to listen://" + name + " on " + server() + ", forwarding to " + local
                    + " (Ctrl-C stops)");
            out.flush();
            long pause = 1000;
            while (!stopped) {
                try {
                    stream(local);
                    pause = 1000;
                } catch (IOException e) {
                    if (stopped) {
                        break;
                    }
                    out.println("Connection to " + server() + " lost ("
                            + e.getClass().getSimpleName() + "); connecting again in " + pause / 1000 + " s");
                    out.flush();
                }
                if (!stopped) {
                    Thread.sleep(pause);
                    pause = Math.min(pause * 2, 10_000);
                }
            }
            return 0;
        }

        private void stream(URI local) throws IOException, InterruptedException {
            HttpRequest request = HttpRequest.newBuilder(URI.create(server() + "/listen/" + name))
                    .header("Accept", "text/event-stream")
                    .header("Authorization", "Bearer " + token())
                    .GET()
                    .build();
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            if (response.statusCode() != 200) {
                String text = new String(response.body().readAllBytes(), StandardCharsets.UTF_8);
                String detail = text.isEmpty()
                        ? "HTTP " + response.statusCode()
                        : JSON.readTree(text).path("detail").asString(text);
                if (response.statusCode() == 401
                        || response.statusCode() == 403
                        || response.statusCode() == 400
                        || response.statusCode() == 404) {
                    throw new Failure("kikonect: " + detail);
                }
                throw new IOException("HTTP " + response.statusCode() + ": " + detail);
            }
            stream = response.body();
            if (stopped) {
                stream.close();
                return;
            }
            // A read deadline the JDK's client does not have: the server writes a comment every 15 s, so 45 s of
            // silence is a connection that died without a word (a laptop's network switched); close it and connect
            // again.
            lastRead = System.nanoTime();
            InputStream watched = stream;
            Thread watchdog = Thread.ofVirtual().start(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        Thread.sleep(5_000);
                        if (System.nanoTime() - lastRead > SILENCE.toNanos()) {
                            watched.close();
                            return;
                        }
                    }
                } catch (InterruptedException | IOException e) {
                    // the stream ended first, or closing failed: nothing to wait for
                }
            });
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                SseEvents events = new SseEvents();
                String line;
                while ((line = lines.readLine()) != null) { // CRLF, LF and CR all end a line, as the spec says
                    lastRead = System.nanoTime();
                    SseEvents.Event event = events.line(line);
                    if (event != null && event.type().equals("delivery")) {
                        deliver(local, JSON.readTree(event.data()));
                    }
                }
            } finally {
                watchdog.interrupt();
            }
        }

        private void deliver(URI local, JsonNode delivery) throws InterruptedException {
            long id = delivery.path("id").asLong();
            String method = delivery.path("method").asString("POST");
            JsonNode body = delivery.path("body");
            HttpRequest.Builder request = HttpRequest.newBuilder(local)
                    .timeout(Duration.ofSeconds(10))
                    .method(
                            method,
                            body.isNull() || body.isMissingNode()
                                    ? HttpRequest.BodyPublishers.noBody()
                                    : HttpRequest.BodyPublishers.ofString(body.asString()));
            delivery.path("headers").properties().forEach(h -> {
                if (!RESTRICTED.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                    request.header(h.getKey(), h.getValue().asString());
                }
            });
            long started = System.nanoTime();
            Map<String, Object> answer = new LinkedHashMap<>();
            try {
                HttpResponse<String> response =
                        http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                Map<String, String> headers = new LinkedHashMap<>();
                response.headers().map().forEach((k, v) -> headers.put(k, String.join(", ", v)));
                answer.put("status", response.statusCode());
                answer.put("headers", headers);
                answer.put(
                        "body",
                        response.body().length() > 65_536 ? response.body().substring(0, 65_536) : response.body());
            } catch (IOException e) {
                answer.put("status", 502);
                answer.put(
                        "body",
                        "kikonect listen: " + local + " did not answer ("
                                + e.getClass().getSimpleName() + ")");
            }
            out.println(method + " " + Printable.of(local.getPath(), 300) + " -> " + answer.get("status") + " ("
                    + (System.nanoTime() - started) / 1_000_000 + " ms)");
            out.flush();
            try {
                call("POST", "/listen/" + name + "/deliveries/" + id, answer, true);
                forwarded.incrementAndGet();
            } catch (Failure f) {
                out.println(
                        "  " + f.getMessage() + " (KiKonect stopped waiting: the attempt failed and will be retried)");
                out.flush();
            }
        }
    }

    static final List<String> RUN_COLUMNS =
            List.of("id", "workflow_id", "status", "trigger", "attempt_count", "created_at", "error");

    @Command(
            name = "runs",
            description = "Look at, replay and retry runs",
            subcommands = {RunsList.class, RunsShow.class, RunsReplay.class, RunsRetry.class})
    static final class Runs implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            throw new CommandLine.ParameterException(spec.commandLine(), "say which: list, show, replay or retry");
        }
    }

    @Command(name = "list", description = "Runs, newest first")
    static final class RunsList extends Base {
        @Option(names = "--workflow")
        Long workflow;

        @Option(
                names = "--status",
                description = "pending, running, retrying, succeeded, failed, cancelled, skipped, filtered")
        String status;

        @Option(names = "--limit", defaultValue = "50")
        int limit;

        @Override
        public Integer call() {
            StringBuilder q = new StringBuilder("/runs?limit=").append(limit);
            if (workflow != null) {
                q.append("&workflow_id=").append(workflow);
            }
            if (status != null) {
                q.append("&status=").append(URLEncoder.encode(status, StandardCharsets.UTF_8));
            }
            print(call("GET", q.toString(), null, true).path("items"), RUN_COLUMNS);
            return 0;
        }
    }

    @Command(name = "show", description = "One run with its attempts")
    static final class RunsShow extends Base {
        @Parameters(index = "0")
        long id;

        @Override
        public Integer call() {
            JsonNode run = call("GET", "/runs/" + id, null, true);
            if (output == Output.json) {
                print(run, RUN_COLUMNS);
                return 0;
            }
            print(run, RUN_COLUMNS);
            out.println();
            print(
                    run.path("attempts"),
                    List.of("step", "number", "started_at", "duration_ms", "response_status", "error"));
            return 0;
        }
    }

    /** A POST on one run ({@code /runs/{id}/<action>}) that answers with a run. */
    abstract static class RunAction extends Base {
        @Parameters(index = "0", description = "the run's id")
        long id;

        abstract String action();

        @Override
        public Integer call() {
            print(call("POST", "/runs/" + id + "/" + action(), null, true), RUN_COLUMNS);
            return 0;
        }
    }

    @Command(name = "replay", description = "A new run with the same payload")
    static final class RunsReplay extends RunAction {
        @Override
        String action() {
            return "replay";
        }
    }

    @Command(name = "retry", description = "Retry a failed run from its failure")
    static final class RunsRetry extends RunAction {
        @Override
        String action() {
            return "retry";
        }
    }
}
