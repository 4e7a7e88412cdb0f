package dev.kikonect.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kikonect.ApiTest;
import dev.kikonect.execution.DeliveryTargets;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import dev.kikonect.support.TestProperties;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.mock.env.MockEnvironment;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Credentials over HTTP on the real database: each type reaches a real receiver as it should, OAuth2 tokens are
 * fetched once and refreshed once on a 401, and no secret shows in an answer, a dry run, the attempt log, the log
 * output or the database; the master key is checked at start and can be rotated.
 */
@ExtendWith(OutputCaptureExtension.class)
class CredentialsTest extends ApiTest {

    @Autowired
    JdbcClient jdbc;

    @Autowired
    CredentialStore store;

    @Autowired
    DeliveryTargets targets;

    @Autowired
    JsonMapper json;

    @Autowired
    MasterKeys appKeys;

    @Autowired
    TransactionTemplate transactions;

    private Api.User user;

    @BeforeEach
    void user() {
        user = api.newUser();
    }

    private JsonNode credential(Map<String, Object> body) {
        Map<String, Object> bound = new HashMap<>(body);
        bound.putIfAbsent("allowed_hosts", List.of("127.0.0.1"));
        Api.Response created = api.post("/credentials", user.token(), bound);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json();
    }

    private JsonNode manualWorkflow(List<Map<String, Object>> steps) {
        Api.Response created = api.post(
                "/workflows",
                user.token(),
                Map.of("name", "with credentials", "trigger_type", "manual", "steps", steps));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json();
    }

    private JsonNode run(JsonNode workflow) {
        Api.Response accepted =
                api.post("/workflows/" + workflow.path("id").asLong() + "/trigger", user.token(), Map.of("n", 1));
        assertThat(accepted.status()).isEqualTo(202);
        return awaitFinished(user, accepted.json().path("id").asLong());
    }

    private static String unique(String what) {
        return what + "-" + Long.toHexString(new SecureRandom().nextLong());
    }

    @Test
    void a_credential_goes_only_to_its_allowed_hosts_and_another_host_fails_without_sending() {
        try (Sink sink = new Sink()) {
            credential(Map.of(
                    "name",
                    "bound",
                    "type",
                    "bearer",
                    "token",
                    unique("bound-secret"),
                    "allowed_hosts",
                    List.of("api.example.com", "*.example.net")));
            JsonNode wf = manualWorkflow(
                    List.of(Map.of("key", "a", "url", sink.url("/a"), "credential", "bound", "max_attempts", 1)));

            JsonNode run = run(wf);

            assertThat(run.path("status").asString()).isEqualTo("failed");
            assertThat(run.path("steps")
                            .get(0)
                            .path("attempts")
                            .get(0)
                            .path("error")
                            .asString())
                    .isEqualTo(
                            "credential: 'bound' may not be sent to 127.0.0.1 (allowed_hosts: api.example.com, *.example.net)");
            assertThat(sink.received()).as("nothing sent").isEmpty();
        }
        assertThat(Credentials.allows(List.of("api.example.com", "*.example.net"), "API.example.com"))
                .isTrue();
        assertThat(Credentials.allows(List.of("*.example.net"), "a.b.example.net"))
                .isTrue();
        assertThat(Credentials.allows(List.of("*.example.net"), "example.net")).isFalse();
        assertThat(Credentials.allows(List.of("*.example.net"), "evilexample.net"))
                .isFalse();
        assertThat(Credentials.allows(List.of("api.example.com"), "api.example.com.evil.org"))
                .isFalse();
    }

    @Test
    void a_secret_with_a_control_character_is_refused_naming_the_field() {
        Api.Response refused = api.post(
                "/credentials",
                user.token(),
                Map.of(
                        "name",
                        "odd",
                        "type",
                        "header",
                        "header_name",
                        "X-Key",
                        "value",
                        "abc\u0001def",
                        "allowed_hosts",
                        List.of("a.example.com")));
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.json().path("errors").get(0).path("field").asString())
                .isEqualTo("value");
        assertThat(refused.json().path("errors").get(0).path("reason").asString())
                .contains("control characters");
    }

    @Test
    void a_templated_url_that_renders_listen_never_gets_the_credential() {
        credential(Map.of("name", "to-laptop", "type", "bearer", "token", unique("bearer-secret")));
        JsonNode wf = manualWorkflow(List.of(
                Map.of("key", "a", "url", "{{ 'listen://dev' }}", "credential", "to-laptop", "max_attempts", 1)));

        JsonNode run = run(wf);

        assertThat(run.path("status").asString()).isEqualTo("failed");
        assertThat(run.path("steps")
                        .get(0)
                        .path("attempts")
                        .get(0)
                        .path("error")
                        .asString())
                .isEqualTo(
                        "credential: a listen:// step cannot use a credential (the listener would receive the secret)");
        assertThat(jdbc.sql("SELECT count(*) FROM listen_deliveries")
                        .query(Long.class)
                        .single())
                .as("nothing in the listeners' mailbox")
                .isZero();
    }

    @Test
    void each_type_reaches_the_receiver_as_it_should_and_no_secret_shows_anywhere(CapturedOutput output) {
        String token = unique("bearer-secret");
        String password = unique("basic-secret");
        String headerValue = unique("header-secret");
        String queryValue = unique("query-secret");
        // /echo answers 400 quoting the key it got, as some APIs do: the attempt log and the log line must not keep it.
        try (Sink sink = new Sink()
                .replyWith(r -> r.path().startsWith("/echo")
                        ? new Sink.Reply(
                                400,
                                Map.of("X-Seen-Key", String.valueOf(r.header("x-api-key"))),
                                "unknown key " + r.header("x-api-key"),
                                false)
                        : Sink.Reply.status(200))) {
            JsonNode bearer = credential(Map.of("name", "chat-bot", "type", "bearer", "token", token));
            credential(Map.of("name", "legacy", "type", "basic", "username", "kiki", "password", password));
            credential(Map.of("name", "erp-api", "type", "header", "header_name", "X-Api-Key", "value", headerValue));
            credential(Map.of("name", "maps", "type", "query", "param_name", "key", "value", queryValue));
            JsonNode wf = manualWorkflow(List.of(
                    Map.of("key", "bearer", "url", sink.url("/bearer"), "credential", "chat-bot"),
                    Map.of("key", "basic", "url", sink.url("/basic"), "credential", "legacy"),
                    Map.of(
                            "key",
                            "header",
                            "url",
                            sink.url("/header"),
                            "credential",
                            "erp-api",
                            "headers",
                            Map.of("X-Api-Key", "overridden")),
                    Map.of(
                            "key",
                            "query",
                            "method",
                            "GET",
                            "url",
                            sink.url("/query?city=Berlin"),
                            "credential",
                            "maps"),
                    Map.of("key", "echo", "url", sink.url("/echo"), "credential", "erp-api", "max_attempts", 1)));

            JsonNode run = run(wf);

            assertThat(run.path("status").asString()).as(run.toString()).isEqualTo("failed");
            assertThat(run.path("error").asString()).isEqualTo("echo: HTTP 400");
            for (JsonNode step : run.path("steps")) {
                assertThat(step.path("status").asString())
                        .isEqualTo(step.path("key").asString().equals("echo") ? "failed" : "succeeded");
            }
            JsonNode echoed = run.path("steps").get(4).path("attempts").get(0);
            assertThat(echoed.path("response_body").asString()).isEqualTo("unknown key [redacted]");
            assertThat(echoed.path("response_headers").path("x-seen-key").asString())
                    .isEqualTo("[redacted]");
            assertThat(output.getAll()).contains("(step echo) failed: HTTP 400");
            // What each attempt sent is recorded, with the credential's values redacted (its header, its query
            // parameter).
            JsonNode steps = run.path("steps");
            assertThat(steps.get(0)
                            .path("attempts")
                            .get(0)
                            .path("request")
                            .path("headers")
                            .path("Authorization")
                            .asString())
                    .isEqualTo("[redacted]");
            assertThat(steps.get(2)
                            .path("attempts")
                            .get(0)
                            .path("request")
                            .path("headers")
                            .path("X-Api-Key")
                            .asString())
                    .isEqualTo("[redacted]");
            assertThat(steps.get(3)
                            .path("attempts")
                            .get(0)
                            .path("request")
                            .path("url")
                            .asString())
                    .endsWith("/query?city=Berlin&key=[redacted]");
            assertThat(steps.get(3)
                            .path("attempts")
                            .get(0)
                            .path("request")
                            .path("method")
                            .asString())
                    .isEqualTo("GET");
            Map<String, Sink.Received> byPath = new HashMap<>();
            sink.received().forEach(r -> byPath.put(r.path().replaceAll("\\?.*", ""), r));
            assertThat(byPath.get("/bearer").header("authorization")).isEqualTo("Bearer " + token);
            assertThat(byPath.get("/basic").header("authorization"))
                    .isEqualTo("Basic " + Base64.getEncoder().encodeToString(("kiki:" + password).getBytes()));
            assertThat(byPath.get("/header").header("x-api-key")).isEqualTo(headerValue);
            assertThat(byPath.get("/query").path()).isEqualTo("/query?city=Berlin&key=" + queryValue);

            List<String> seen = new ArrayList<>();
            seen.add(bearer.toString());
            seen.add(api.get("/credentials", user.token()).body());
            seen.add(api.get("/credentials/" + bearer.path("id").asLong(), user.token())
                    .body());
            seen.add(api.get("/runs/" + run.path("id").asLong(), user.token()).body());
            seen.add(api.get("/workflows/" + wf.path("id").asLong(), user.token())
                    .body());
            Api.Response dry = api.post(
                    "/workflows/" + wf.path("id").asLong() + "/test", user.token(), Map.of("payload", Map.of()));
            assertThat(dry.body()).contains("[credential erp-api]");
            seen.add(dry.body());
            seen.add(output.getAll());
            seen.add(everyRowAsText());
            for (String secret : List.of(token, password, headerValue, queryValue)) {
                assertThat(seen).as("no trace of " + secret).noneMatch(text -> text.contains(secret));
            }
            assertThat(api.get("/credentials/" + bearer.path("id").asLong(), user.token())
                            .json()
                            .path("used_by")
                            .get(0)
                            .path("id")
                            .asLong())
                    .isEqualTo(wf.path("id").asLong());
        }
    }

    /** Every row of every table of the database as text: what a dump would hold. */
    private String everyRowAsText() {
        StringBuilder all = new StringBuilder();
        for (String table : jdbc.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                .query(String.class)
                .list()) {
            jdbc.sql("SELECT t::text FROM \"" + table + "\" t")
                    .query(String.class)
                    .list()
                    .forEach(row -> all.append(row).append('\n'));
            // bytea columns show as hex: a secret stored as plain bytes would show as its hex too
        }
        return all.toString();
    }

    @Test
    void a_hundred_deliveries_through_one_oauth2_credential_cause_one_token_request() {
        AtomicInteger tokenRequests = new AtomicInteger();
        try (Sink sink = new Sink().replyWith(r -> {
            if (r.path().startsWith("/token")) {
                int n = tokenRequests.incrementAndGet();
                return new Sink.Reply(
                        200,
                        Map.of("Content-Type", "application/json"),
                        "{\"access_token\":\"tok-" + n + "\",\"expires_in\":3600,\"token_type\":\"Bearer\"}",
                        false);
            }
            return Sink.Reply.status(200);
        })) {
            credential(Map.of(
                    "name",
                    "crm",
                    "type",
                    "oauth2_client_credentials",
                    "token_url",
                    sink.url("/token"),
                    "client_id",
                    "kikonect",
                    "client_secret",
                    "client-secret-1",
                    "scope",
                    "write"));
            JsonNode wf = manualWorkflow(List.of(Map.of("key", "crm", "url", sink.url("/crm"), "credential", "crm")));
            List<Long> runs = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                runs.add(api.post("/workflows/" + wf.path("id").asLong() + "/trigger", user.token(), Map.of("i", i))
                        .json()
                        .path("id")
                        .asLong());
            }
            for (long run : runs) {
                assertThat(awaitFinished(user, run).path("status").asString()).isEqualTo("succeeded");
            }

            assertThat(tokenRequests.get()).isEqualTo(1);
            Sink.Received tokenRequest = sink.received().stream()
                    .filter(r -> r.path().startsWith("/token"))
                    .findFirst()
                    .orElseThrow();
            assertThat(tokenRequest.body())
                    .contains("grant_type=client_credentials")
                    .contains("scope=write");
            assertThat(tokenRequest.header("authorization"))
                    .isEqualTo("Basic " + Base64.getEncoder().encodeToString("kikonect:client-secret-1".getBytes()));
            assertThat(sink.received().stream().filter(r -> r.path().startsWith("/crm")))
                    .hasSize(100)
                    .allSatisfy(r -> assertThat(r.header("authorization")).isEqualTo("Bearer tok-1"));
        }
    }

    @Test
    void a_401_from_the_target_causes_one_refresh_and_the_request_again() {
        AtomicInteger tokenRequests = new AtomicInteger();
        try (Sink sink = new Sink().replyWith(r -> {
            if (r.path().startsWith("/token")) {
                int n = tokenRequests.incrementAndGet();
                return new Sink.Reply(
                        200,
                        Map.of("Content-Type", "application/json"),
                        "{\"access_token\":\"tok-" + n + "\",\"expires_in\":3600}",
                        false);
            }
            return "Bearer tok-1".equals(r.header("authorization")) ? Sink.Reply.status(401) : Sink.Reply.status(200);
        })) {
            credential(Map.of(
                    "name",
                    "crm",
                    "type",
                    "oauth2_client_credentials",
                    "token_url",
                    sink.url("/token"),
                    "client_id",
                    "kikonect",
                    "client_secret",
                    "client-secret-2"));
            JsonNode wf = manualWorkflow(List.of(Map.of("key", "crm", "url", sink.url("/crm"), "credential", "crm")));

            JsonNode run = run(wf);

            assertThat(run.path("status").asString()).isEqualTo("succeeded");
            assertThat(tokenRequests.get()).isEqualTo(2);
            assertThat(sink.received().stream()
                            .filter(r -> r.path().startsWith("/crm"))
                            .map(r -> r.header("authorization"))
                            .toList())
                    .containsExactly("Bearer tok-1", "Bearer tok-2");
        }
    }

    @Test
    void a_failing_token_request_is_the_attempts_error_and_is_retried() {
        AtomicInteger tokenRequests = new AtomicInteger();
        try (Sink sink = new Sink().replyWith(r -> {
            if (r.path().startsWith("/token")) {
                return tokenRequests.incrementAndGet() == 1
                        ? new Sink.Reply(
                                503,
                                Map.of("Content-Type", "application/json"),
                                "{\"error\":\"temporarily_unavailable\"}",
                                false)
                        : new Sink.Reply(
                                200, Map.of("Content-Type", "application/json"), "{\"access_token\":\"ok\"}", false);
            }
            return Sink.Reply.status(200);
        })) {
            credential(Map.of(
                    "name",
                    "crm",
                    "type",
                    "oauth2_client_credentials",
                    "token_url",
                    sink.url("/token"),
                    "client_id",
                    "kikonect",
                    "client_secret",
                    "client-secret-3"));
            JsonNode run =
                    run(manualWorkflow(List.of(Map.of("key", "crm", "url", sink.url("/crm"), "credential", "crm"))));

            assertThat(run.path("status").asString()).isEqualTo("succeeded");
            assertThat(run.path("attempts").get(0).path("error").asString())
                    .isEqualTo("credential: oauth2 token request: HTTP 503 (temporarily_unavailable)");
            assertThat(run.path("attempts").get(1).path("response_status").asInt())
                    .isEqualTo(200);
        }
    }

    @Test
    void another_user_can_neither_see_nor_use_nor_delete_a_credential_and_one_in_use_is_not_deleted() {
        JsonNode mine = credential(Map.of("name", "erp-api", "type", "bearer", "token", "t0ken-value"));
        long id = mine.path("id").asLong();
        Api.User other = api.newUser();

        assertThat(api.get("/credentials/" + id, other.token()).status()).isEqualTo(404);
        assertThat(api.get("/credentials", other.token()).json().path("items")).isEmpty();
        assertThat(api.send("DELETE", "/credentials/" + id, other.token(), null, null)
                        .status())
                .isEqualTo(404);
        assertThat(api.send("PUT", "/credentials/" + id, other.token(), "application/json", "{\"token\":\"x\"}")
                        .status())
                .isEqualTo(404);
        Api.Response borrowed = api.post(
                "/workflows",
                other.token(),
                Map.of(
                        "name",
                        "w",
                        "trigger_type",
                        "manual",
                        "steps",
                        List.of(Map.of("key", "a", "url", "https://example.com/a", "credential", "erp-api"))));
        assertThat(borrowed.status()).isEqualTo(400);
        assertThat(borrowed.json().path("errors").get(0).path("field").asString())
                .isEqualTo("steps[0].credential");

        JsonNode wf =
                manualWorkflow(List.of(Map.of("key", "a", "url", "https://example.com/a", "credential", "erp-api")));
        Api.Response inUse = api.send("DELETE", "/credentials/" + id, user.token(), null, null);
        assertThat(inUse.status()).isEqualTo(409);
        assertThat(inUse.json().path("detail").asString())
                .contains("workflow " + wf.path("id").asLong());
        Api.Response replaced =
                api.send("PUT", "/credentials/" + id, user.token(), "application/json", "{\"token\":\"new-t0ken\"}");
        assertThat(replaced.status()).as(replaced.body()).isEqualTo(200);
        assertThat(replaced.body()).doesNotContain("new-t0ken");
        api.send(
                "PATCH",
                "/workflows/" + wf.path("id").asLong(),
                user.token(),
                "application/json",
                "{\"action_url\":\"https://example.com/b\"}");
        assertThat(api.send("DELETE", "/credentials/" + id, user.token(), null, null)
                        .status())
                .isEqualTo(204);
    }

    @Test
    void bad_credentials_are_400s_naming_the_field() {
        Api.Response noType = api.post("/credentials", user.token(), Map.of("name", "x", "type", "kerberos"));
        assertThat(noType.status()).isEqualTo(400);
        assertThat(noType.json().path("errors").get(0).path("field").asString()).isEqualTo("type");
        Api.Response missing =
                api.post("/credentials", user.token(), Map.of("name", "x", "type", "basic", "username", "u"));
        assertThat(missing.json().path("errors").get(0).path("field").asString())
                .isEqualTo("password");
        Api.Response owned = api.post(
                "/credentials",
                user.token(),
                Map.of("name", "x", "type", "header", "header_name", "Host", "value", "v"));
        assertThat(owned.json().path("errors").get(0).path("field").asString()).isEqualTo("header_name");
        Api.Response internal = api.post(
                "/credentials",
                user.token(),
                Map.of(
                        "name",
                        "x",
                        "type",
                        "oauth2_client_credentials",
                        "token_url",
                        "http://10.1.2.3/token",
                        "client_id",
                        "c",
                        "client_secret",
                        "s"));
        assertThat(internal.json().path("errors").get(0).path("field").asString())
                .isEqualTo("token_url");
        credential(Map.of("name", "dup", "type", "bearer", "token", "t"));
        assertThat(api.post(
                                "/credentials",
                                user.token(),
                                Map.of(
                                        "name",
                                        "dup",
                                        "type",
                                        "bearer",
                                        "token",
                                        "t",
                                        "allowed_hosts",
                                        List.of("a.example.com")))
                        .status())
                .isEqualTo(409);
        Api.Response unbound =
                api.post("/credentials", user.token(), Map.of("name", "y", "type", "bearer", "token", "t"));
        assertThat(unbound.json().path("errors").get(0).path("field").asString())
                .isEqualTo("allowed_hosts");
        Api.Response badHost = api.post(
                "/credentials",
                user.token(),
                Map.of("name", "y", "type", "bearer", "token", "t", "allowed_hosts", List.of("*.com")));
        assertThat(badHost.json().path("errors").get(0).path("field").asString())
                .isEqualTo("allowed_hosts");
    }

    @Test
    void a_wrong_master_key_stops_the_start_and_a_rotation_keeps_every_credential_working() throws Exception {
        try (Sink sink = new Sink()) {
            credential(
                    Map.of("name", "rotating", "type", "header", "header_name", "X-Key", "value", "rotating-secret"));
            JsonNode wf = manualWorkflow(List.of(Map.of("key", "a", "url", sink.url("/a"), "credential", "rotating")));
            String current = Files.readString(Path.of(appKeys.source())).strip();
            byte[] otherKey = new byte[32];
            new SecureRandom().nextBytes(otherKey);
            String other = Base64.getEncoder().encodeToString(otherKey);

            MasterKeys wrong = keys(Map.of("secrets.master-key", other));
            assertThatThrownBy(() -> new SecretsAtRest(store, wrong).check())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("kikonect.secrets.master-key")
                    .hasMessageContaining(appKeys.currentId());

            // Rotate to the other key (the current one as previous): every value moves and opens with the new key...
            MasterKeys rotated = keys(Map.of("secrets.master-key", other, "secrets.previous-master-keys", current));
            new SecretsAtRest(store, rotated).check();
            assertThat(store.keyIds()).containsExactly(rotated.currentId());
            Credentials underNewKey = new Credentials(store, rotated, targets, json, Clock.systemUTC(), transactions);
            assertThat(underNewKey
                            .open(api.personalWorkspace(user), "rotating")
                            .orElseThrow()
                            .secret())
                    .containsEntry("value", "rotating-secret");
            // ... and back, so that this node (still on the first key) delivers with it.
            new SecretsAtRest(store, keys(Map.of("secrets.master-key", current, "secrets.previous-master-keys", other)))
                    .check();
            assertThat(store.keyIds()).containsExactly(appKeys.currentId());
            assertThat(run(wf).path("status").asString()).isEqualTo("succeeded");
            assertThat(sink.received().get(0).header("x-key")).isEqualTo("rotating-secret");
        }
    }

    @Test
    void the_embedded_default_key_is_generated_owner_only_and_an_external_database_without_a_key_does_not_start()
            throws Exception {
        Path dir = Files.createTempDirectory("kikonect-keys");
        MasterKeys generated = keys(Map.of("data-dir", dir.toString()));
        Path file = dir.resolve("master.key");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                .isEqualTo("rw-------");
        assertThat(keys(Map.of("data-dir", dir.toString())).currentId())
                .as("read again, not replaced")
                .isEqualTo(generated.currentId());

        MockEnvironment external =
                new MockEnvironment().withProperty("spring.datasource.url", "jdbc:postgresql://db/kikonect");
        assertThatThrownBy(() -> new MasterKeys(TestProperties.of(Map.of("data-dir", dir.toString())), external))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Set kikonect.secrets.master-key");
        assertThatThrownBy(() -> keys(Map.of("secrets.master-key", "c2hvcnQ=")))
                .hasMessageContaining("decodes to 5 bytes, not 32");
    }

    private static MasterKeys keys(Map<String, String> settings) {
        return new MasterKeys(TestProperties.of(settings), new MockEnvironment());
    }
}
