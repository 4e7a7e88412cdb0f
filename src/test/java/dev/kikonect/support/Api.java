package dev.kikonect.support;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A thin real-HTTP client for the API under test. */
public class Api {

    public static final JsonMapper JSON = JsonMapper.builder().build();

    /** A response with its body parsed as JSON when it is JSON. */
    public record Response(int status, HttpResponse<String> raw, JsonNode json) {
        public String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }

        public String contentType() {
            return header("Content-Type");
        }

        public String body() {
            return raw.body();
        }
    }

    /** A logged-in user of the API. */
    public record User(long id, String email, String password, String token) {}

    private final HttpClient http;
    private final String base;
    private final Map<String, String> always;

    public Api(int port) {
        this(
                "http://localhost:" + port,
                Map.of(),
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build());
    }

    private Api(String base, Map<String, String> always, HttpClient http) {
        this.base = base;
        this.always = always;
        this.http = http;
    }

    /** The same API, every request naming the workspace in the KiKonect-Workspace header. */
    public Api in(long workspaceId) {
        return new Api(base, Map.of("KiKonect-Workspace", Long.toString(workspaceId)), http);
    }

    /**
     * The same API from another loopback address ({@code 127.0.0.2}..): for limits kept per client address, which
     * every other test's requests from 127.0.0.1 must not share.
     */
    public Api from(String loopback) {
        try {
            HttpClient bound = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(5))
                    .localAddress(InetAddress.getByName(loopback))
                    .build();
            return new Api(base.replace("//localhost:", "//127.0.0.1:"), always, bound);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** The id of the user's personal workspace (their default). */
    public long personalWorkspace(User user) {
        return PERSONAL.computeIfAbsent(user.email(), e -> fetchPersonalWorkspace(user));
    }

    private static final Map<String, Long> PERSONAL = new ConcurrentHashMap<>();

    private long fetchPersonalWorkspace(User user) {
        Response current = new Api(base, Map.of(), http).get("/workspace", user.token());
        if (current.status() != 200) {
            throw new IllegalStateException("GET /workspace failed: " + current.body());
        }
        return current.json().path("id").asLong();
    }

    public String base() {
        return base;
    }

    public Response send(String method, String path, String token, String contentType, String body) {
        return send(method, path, token, contentType, body, Map.of());
    }

    /** As {@link #send(String, String, String, String, String)}, with more request headers. */
    public Response sendWithHeaders(
            String method, String path, String contentType, String body, Map<String, String> headers) {
        return send(method, path, null, contentType, body, headers);
    }

    public Response send(
            String method, String path, String token, String contentType, String body, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(path.startsWith("http") ? path : base + path))
                .timeout(Duration.ofSeconds(30));
        always.forEach(request::header);
        headers.forEach(request::header);
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        request.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode json = null;
            String type = response.headers().firstValue("Content-Type").orElse("");
            if (type.contains("json") && !response.body().isEmpty()) {
                json = JSON.readTree(response.body());
            }
            return new Response(response.statusCode(), response, json);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public Response post(String path, String token, Object body) {
        return send(
                "POST", path, token, "application/json", body instanceof String s ? s : JSON.writeValueAsString(body));
    }

    public Response get(String path, String token) {
        return send("GET", path, token, null, null);
    }

    /** Registers and logs in a fresh user with a unique email. */
    public User newUser() {
        String email = "user-" + UUID.randomUUID() + "@example.com";
        String password = "correct horse " + UUID.randomUUID();
        Response registered = post(
                "/register",
                null,
                Map.of("email", email, "password", password, "firstname", "Ada", "lastname", "Lovelace"));
        if (registered.status() != 201) {
            throw new IllegalStateException("register failed: " + registered.body());
        }
        Response login = post("/login", null, Map.of("email", email, "password", password));
        if (login.status() != 200) {
            throw new IllegalStateException("login failed: " + login.body());
        }
        return new User(
                registered.json().path("id").asLong(),
                email,
                password,
                login.json().path("token").asString());
    }

    /** A team workspace made by {@code owner}; its id. */
    public long newTeam(User owner, String name) {
        Response created = post("/workspaces", owner.token(), Map.of("name", name));
        if (created.status() != 201) {
            throw new IllegalStateException("workspace not created: " + created.body());
        }
        return created.json().path("id").asLong();
    }

    /** A fresh user invited by {@code admin} into {@code workspace} with {@code role}, who accepted. */
    public User newMember(User admin, long workspace, String role) {
        User user = newUser();
        Response invited =
                in(workspace).post("/invitations", admin.token(), Map.of("email", user.email(), "role", role));
        if (invited.status() != 201) {
            throw new IllegalStateException("not invited: " + invited.body());
        }
        String link = invited.json().path("link").asString();
        Response accepted =
                post("/invitations/accept", user.token(), Map.of("token", link.substring(link.lastIndexOf('/') + 1)));
        if (accepted.status() != 200) {
            throw new IllegalStateException("invitation not accepted: " + accepted.body());
        }
        return user;
    }

    /** Creates a workflow and returns its JSON. */
    public JsonNode createWorkflow(User user, String triggerType, String actionUrl, Map<String, Object> triggerConfig) {
        return createWorkflow(user, triggerType, actionUrl, triggerConfig, Map.of());
    }

    /** Creates a workflow with extra top-level fields ({@code max_attempts}...) and returns its JSON. */
    public JsonNode createWorkflow(
            User user,
            String triggerType,
            String actionUrl,
            Map<String, Object> triggerConfig,
            Map<String, Object> extra) {
        Map<String, Object> body = new HashMap<>(extra);
        body.put("name", triggerType + " workflow");
        body.put("trigger_type", triggerType);
        body.put("action_url", actionUrl);
        body.put("trigger_config", triggerConfig);
        Response created = post("/workflows", user.token(), body);
        if (created.status() != 201) {
            throw new IllegalStateException("create failed: " + created.body());
        }
        return created.json();
    }
}
