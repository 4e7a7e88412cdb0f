package dev.kikonect.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.dialect.Dialects;
import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import dev.kikonect.workflow.TriggerType;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/** Keeps openapi.yaml honest: every served route is described, and real responses match the described schemas. */
class OpenApiContractTest extends ApiTest {

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    RequestMappingHandlerMapping mappings;

    @Autowired
    JdbcClient jdbc;

    private Map<String, Object> spec;
    private final List<String> violations = new ArrayList<>();
    private final Sink sink = new Sink();

    @BeforeEach
    void loadSpec() throws Exception {
        try (InputStream in = new ClassPathResource("openapi.yaml").getInputStream()) {
            spec = new Yaml(new LoaderOptions()).load(in);
        }
    }

    @AfterEach
    void closeSink() {
        sink.close();
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> paths() {
        return (Map<String, Object>) spec.get("paths");
    }

    @Test
    @SuppressWarnings("unchecked")
    void every_route_the_application_serves_is_described() {
        Set<String> missing = new TreeSet<>();
        for (Map.Entry<RequestMappingInfo, HandlerMethod> e :
                mappings.getHandlerMethods().entrySet()) {
            if (!e.getValue().getBeanType().getPackageName().startsWith("dev.kikonect")) {
                continue;
            }
            for (String path : e.getKey().getPatternValues()) {
                // Not API operations: the error page, Swagger UI and the web app's entry points.
                if (List.of("/error", "/docs", "/", "/app", "/app/").contains(path)) {
                    continue;
                }
                for (var method : e.getKey().getMethodsCondition().getMethods()) {
                    Map<String, Object> item = (Map<String, Object>) paths().get(path);
                    if (item == null || !item.containsKey(method.name().toLowerCase())) {
                        missing.add(method + " " + path);
                    }
                }
            }
        }
        for (String ops : List.of("/health", "/health/live", "/health/ready", "/metrics")) {
            if (!paths().containsKey(ops)) {
                missing.add("GET " + ops);
            }
        }
        assertThat(missing).as("routes served but not in openapi.yaml").isEmpty();
        // ...and the other way round: every described operation exists (answers something other than 404/405 routing).
        assertThat(api.get("/openapi.json", null).json().path("paths").size()).isEqualTo(paths().size());
    }

    @Test
    void real_responses_match_the_described_schemas() {
        Api.Response registered = api.post(
                "/register",
                null,
                Map.of(
                        "email",
                        "contract-" + System.nanoTime() + "@example.com",
                        "password",
                        "contract password",
                        "firstname",
                        "C",
                        "lastname",
                        "T"));
        check("post", "/register", registered);
        check("post", "/register", api.post("/register", null, Map.of("email", "bad")));
        String email = registered.json().path("email").asString();
        Api.Response login = api.post("/login", null, Map.of("email", email, "password", "contract password"));
        check("post", "/login", login);
        check("post", "/login", api.post("/login", null, Map.of("email", email, "password", "wrong password")));
        String token = login.json().path("token").asString();
        check("get", "/me", api.get("/me", token));
        check("get", "/me", api.get("/me", null));
        long me = registered.json().path("id").asLong();
        check("get", "/instance", api.get("/instance", token)); // 403: not the first user of this shared database
        jdbc.sql("UPDATE users SET instance_admin = true WHERE id = :id")
                .param("id", me)
                .update();
        check("get", "/instance", api.get("/instance", token));
        check(
                "patch",
                "/instance",
                api.send("PATCH", "/instance", token, "application/json", "{\"registration\": null}"));
        check(
                "patch",
                "/instance",
                api.send("PATCH", "/instance", token, "application/json", "{\"registration\": \"nope\"}"));
        check("get", "/instance/users", api.get("/instance/users?limit=2", token));
        check(
                "patch",
                "/instance/users/{user_id}",
                api.send("PATCH", "/instance/users/" + me, token, "application/json", "{\"instance_admin\": true}"));
        check(
                "patch",
                "/instance/users/{user_id}",
                api.send(
                        "PATCH", "/instance/users/999999999", token, "application/json", "{\"instance_admin\": true}"));

        Api.Response key = api.post("/api-keys", token, Map.of("name", "contract"));
        check("post", "/api-keys", key);
        check("get", "/api-keys", api.get("/api-keys", token));

        Api.Response webhook =
                api.post("/workflows", token, Map.of("name", "w", "trigger_type", "webhook", "action_url", sink.url()));
        check("post", "/workflows", webhook);
        check("post", "/workflows", api.post("/workflows", token, Map.of("name", "")));
        long wf = webhook.json().path("id").asLong();
        Api.Response interval = api.post(
                "/workflows",
                token,
                Map.of(
                        "name",
                        "i",
                        "trigger_type",
                        "interval",
                        "action_url",
                        sink.url(),
                        "trigger_config",
                        Map.of("interval_minutes", 5)));
        check("post", "/workflows", interval);
        long iv = interval.json().path("id").asLong();
        check("get", "/workflows", api.get("/workflows?limit=1", token));
        check("get", "/workflows/{id}", api.get("/workflows/" + wf, token));
        check("get", "/workflows/{id}", api.get("/workflows/999999999", token));
        check(
                "patch",
                "/workflows/{id}",
                api.send("PATCH", "/workflows/" + wf, token, "application/json", "{\"name\":\"renamed\"}"));
        check("get", "/workflows/{id}/schedule", api.get("/workflows/" + iv + "/schedule?count=3", token));
        check("get", "/workflows/{id}/schedule", api.get("/workflows/" + wf + "/schedule", token));
        check(
                "post",
                "/schedule/preview",
                api.post(
                        "/schedule/preview",
                        token,
                        Map.of("trigger_type", "cron", "trigger_config", Map.of("expression", "0 9 * * *"))));
        check("post", "/workflows/{id}/secret/rotate", api.post("/workflows/" + wf + "/secret/rotate", token, ""));

        Api.Response hooked =
                api.send("POST", webhook.json().path("webhook_url").asString(), null, "application/json", "{\"a\":1}");
        check("post", "/hooks/{token}", hooked);
        check("post", "/hooks/{token}", api.send("POST", "/hooks/nope", null, "application/json", "{}"));
        check(
                "post",
                "/hooks/{token}",
                api.send("POST", webhook.json().path("webhook_url").asString(), null, "text/plain", "x"));
        long run = hooked.json().path("id").asLong();
        awaitFinished(new Api.User(0, email, "", token), run);
        check("get", "/runs/{id}", api.get("/runs/" + run, token));
        check("get", "/runs", api.get("/runs?limit=5", token));
        check("get", "/stats", api.get("/stats", token));
        check("get", "/stats", api.get("/stats", null));
        check("get", "/workflows/{id}/runs", api.get("/workflows/" + wf + "/runs", token));
        check("post", "/runs/{id}/cancel", api.post("/runs/" + run + "/cancel", token, ""));
        check("post", "/runs/{id}/replay", api.post("/runs/" + run + "/replay", token, ""));
        check(
                "post",
                "/runs/replay",
                api.post("/runs/replay", token, Map.of("workflow_id", wf, "status", "succeeded")));
        check("post", "/workflows/{id}/trigger", api.post("/workflows/" + wf + "/trigger", token, "{}"));
        check(
                "post",
                "/workflows/test",
                api.post(
                        "/workflows/test",
                        token,
                        Map.of(
                                "workflow",
                                        Map.of(
                                                "filter",
                                                "payload.go",
                                                "steps",
                                                List.of(
                                                        Map.of(
                                                                "key",
                                                                "a",
                                                                "url",
                                                                "https://example.com/{{ payload.id }}",
                                                                "body",
                                                                "{ 'n': payload.id }"),
                                                        Map.of(
                                                                "key",
                                                                "b",
                                                                "needs",
                                                                List.of("a"),
                                                                "method",
                                                                "GET",
                                                                "url",
                                                                "https://example.com/b"),
                                                        Map.of(
                                                                "key",
                                                                "c",
                                                                "url",
                                                                "https://example.com/c",
                                                                "when",
                                                                "false"))),
                                "payload", Map.of("go", true, "id", 7))));
        check(
                "post",
                "/workflows/test",
                api.post("/workflows/test", token, Map.of("workflow", Map.of("steps", List.of(Map.of("key", "a"))))));
        Api.Response cred = api.post(
                "/credentials",
                token,
                Map.of(
                        "name",
                        "contract-key",
                        "type",
                        "header",
                        "header_name",
                        "X-Key",
                        "value",
                        "v4lue",
                        "allowed_hosts",
                        List.of("api.example.com")));
        check("post", "/credentials", cred);
        check("post", "/credentials", api.post("/credentials", token, Map.of("name", "x", "type", "nope")));
        long credId = cred.json().path("id").asLong();
        check("get", "/credentials", api.get("/credentials", token));
        check("get", "/credentials/{id}", api.get("/credentials/" + credId, token));
        check("get", "/credentials/{id}", api.get("/credentials/999999999", token));
        check(
                "put",
                "/credentials/{id}",
                api.send(
                        "PUT",
                        "/credentials/" + credId,
                        token,
                        "application/json",
                        "{\"header_name\":\"X-Key\",\"value\":\"n3w\"}"));
        Api.Response usesCred = api.post(
                "/workflows",
                token,
                Map.of(
                        "name",
                        "c",
                        "trigger_type",
                        "manual",
                        "steps",
                        List.of(Map.of("key", "a", "url", sink.url("/a"), "credential", "contract-key"))));
        check("delete", "/credentials/{id}", api.send("DELETE", "/credentials/" + credId, token, null, null));
        api.send("DELETE", "/workflows/" + usesCred.json().path("id").asLong(), token, null, null);
        check("delete", "/credentials/{id}", api.send("DELETE", "/credentials/" + credId, token, null, null));
        Api.Response stepped = api.post(
                "/workflows",
                token,
                Map.of(
                        "name",
                        "s",
                        "trigger_type",
                        "manual",
                        "steps",
                        List.of(
                                Map.of(
                                        "key",
                                        "first",
                                        "method",
                                        "PUT",
                                        "url",
                                        sink.url("/first"),
                                        "headers",
                                        Map.of("X-N", "{{ payload.n }}"),
                                        "body",
                                        "{ 'n': payload.n }"),
                                Map.of(
                                        "key",
                                        "second",
                                        "needs",
                                        List.of("first"),
                                        "url",
                                        sink.url("/second"),
                                        "when",
                                        "payload.n > 100"))));
        check("post", "/workflows", stepped);
        long st = stepped.json().path("id").asLong();
        check(
                "post",
                "/workflows/{id}/test",
                api.post("/workflows/" + st + "/test", token, Map.of("payload", Map.of("n", 1))));
        check(
                "post",
                "/workflows/{id}/test",
                api.post("/workflows/999999999/test", token, Map.of("payload", Map.of())));
        long steppedRun = api.post("/workflows/" + st + "/trigger", token, Map.of("n", 1))
                .json()
                .path("id")
                .asLong();
        awaitFinished(new Api.User(0, email, "", token), steppedRun);
        check("get", "/runs/{id}", api.get("/runs/" + steppedRun, token));
        check("post", "/runs/{id}/retry", api.post("/runs/" + steppedRun + "/retry", token, ""));
        sink.replyWith(500);
        long failing = api.post("/workflows/" + st + "/trigger", token, Map.of("n", 2))
                .json()
                .path("id")
                .asLong();
        awaitFinished(new Api.User(0, email, "", token), failing);
        sink.replyWith(200);
        check("post", "/runs/{id}/retry", api.post("/runs/" + failing + "/retry", token, ""));
        check("post", "/workflows/{id}/token/rotate", api.post("/workflows/" + wf + "/token/rotate", token, ""));
        check("post", "/workflows/{id}/token/rotate", api.post("/workflows/" + iv + "/token/rotate", token, ""));
        check("get", "/health", api.get("/health", null));
        check("get", "/health/live", api.get("/health/live", null));
        check("get", "/health/ready", api.get("/health/ready", null));
        check("get", "/openapi.json", api.get("/openapi.json", null));
        check("delete", "/workflows/{id}", api.send("DELETE", "/workflows/" + iv, token, null, null));
        check(
                "delete",
                "/api-keys/{id}",
                api.send("DELETE", "/api-keys/" + key.json().path("id").asLong(), token, null, null));
        check(
                "post",
                "/password",
                api.post(
                        "/password",
                        token,
                        Map.of("current_password", "contract password", "new_password", "another password")));
        check("post", "/logout", api.post("/logout", token, ""));

        assertThat(violations).isEmpty();
    }

    /** The library validator (networknt, OpenAPI 3.1 dialect), with format assertions (date-time) on. */
    private static final SchemaRegistry SCHEMAS = SchemaRegistry.withDialect(
            Dialects.getOpenApi31(),
            builder -> builder.schemaRegistryConfig(
                    SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build()));

    /**
     * Validates a real response against openapi.yaml: its status and content type must be described, and its body must
     * match the described schema (the library resolves every $ref within the document).
     */
    @SuppressWarnings("unchecked")
    private void check(String method, String template, Api.Response response) {
        Map<String, Object> operation = (Map<String, Object>) ((Map<String, Object>) paths().get(template)).get(method);
        assertThat(operation).as(method + " " + template + " is described").isNotNull();
        Map<String, Object> responses = (Map<String, Object>) operation.get("responses");
        String status = Integer.toString(response.status());
        Map<String, Object> described = (Map<String, Object>) responses.get(status);
        String where = method.toUpperCase() + " " + template + " " + response.status();
        if (described == null) {
            violations.add(where + ": status not described");
            return;
        }
        String pointer = "/paths/" + escape(template) + "/" + method + "/responses/" + status;
        if (described.get("$ref") instanceof String ref) {
            pointer = ref.substring(1); // '#/components/responses/Problem' -> '/components/responses/Problem'
            described = (Map<String, Object>)
                    ((Map<String, Object>) ((Map<String, Object>) spec.get("components")).get("responses"))
                            .get(ref.substring(ref.lastIndexOf('/') + 1));
        }
        Map<String, Object> content = (Map<String, Object>) described.get("content");
        if (content == null) {
            if (!response.body().isEmpty()) {
                violations.add(where + ": body not described");
            }
            return;
        }
        String type = response.contentType() == null
                ? ""
                : response.contentType().split(";")[0].strip();
        if (!content.containsKey(type)) {
            violations.add(where + ": content type " + type + " not described (" + content.keySet() + ")");
            return;
        }
        if (response.json() == null) {
            return;
        }
        Schema schema = SCHEMAS.getSchema(
                SchemaLocation.of("classpath:openapi.yaml#" + pointer + "/content/" + escape(type) + "/schema"));
        for (Error error : schema.validate(response.body(), InputFormat.JSON)) {
            violations.add(where + ": " + error);
        }
    }

    /** A JSON Pointer token in a URI fragment: ~ and / escaped (RFC 6901), then braces percent-encoded. */
    private static String escape(String token) {
        return token.replace("~", "~0").replace("/", "~1").replace("{", "%7B").replace("}", "%7D");
    }

    @Test
    void the_validator_reports_a_response_that_breaks_its_schema() {
        Schema run = SCHEMAS.getSchema(SchemaLocation.of("classpath:openapi.yaml#/components/schemas/RunSummary"));
        String bad = "{\"id\":\"one\",\"status\":\"exploded\",\"created_at\":\"yesterday\",\"surprise\":1}";

        List<String> errors = run.validate(bad, InputFormat.JSON).stream()
                .map(Object::toString)
                .toList();

        assertThat(String.join("\n", errors))
                .contains("/id")
                .contains("/status")
                .contains("enumeration")
                .contains("/created_at")
                .contains("surprise");
    }

    /**
     * The four per-trigger workflow schemas list their fields themselves (generated clients lose nullability through
     * allOf): they must stay alike but for trigger_type and trigger_config.
     */
    @Test
    @SuppressWarnings("unchecked")
    void the_workflow_schemas_of_every_trigger_have_the_same_fields_but_their_trigger() {
        Map<String, Object> schemas =
                (Map<String, Object>) ((Map<String, Object>) spec.get("components")).get("schemas");
        Map<String, Object> first = null;
        List<Object> firstRequired = null;
        // one schema per trigger type: manual -> ManualWorkflow, run_failed -> RunFailedWorkflow
        for (TriggerType type : TriggerType.values()) {
            String name = Arrays.stream(type.wire().split("_"))
                            .map(w -> Character.toUpperCase(w.charAt(0)) + w.substring(1))
                            .collect(Collectors.joining())
                    + "Workflow";
            Map<String, Object> schema = (Map<String, Object>) schemas.get(name);
            assertThat(schema).as("the schema " + name).isNotNull();
            Map<String, Object> properties = new LinkedHashMap<>((Map<String, Object>) schema.get("properties"));
            properties.remove("trigger_type");
            properties.remove("trigger_config");
            List<Object> required = new ArrayList<>((List<Object>) schema.get("required"));
            assertThat(required).as(name).contains("trigger_type", "trigger_config");
            assertThat(schema.get("additionalProperties")).as(name).isEqualTo(false);
            if (first == null) {
                first = properties;
                firstRequired = required;
            } else {
                assertThat(properties).as(name + "'s fields").isEqualTo(first);
                assertThat(required).as(name + "'s required").isEqualTo(firstRequired);
            }
        }
    }
}
