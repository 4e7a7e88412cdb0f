package dev.kikonect.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/** The audit log: one entry per change, written with the change or not at all, readable by owners and admins only. */
class AuditTest extends ApiTest {

    @Autowired
    JdbcClient jdbc;

    @Autowired
    AuditRetention retention;

    private final Sink sink = new Sink();

    @AfterEach
    void close() {
        sink.close();
    }

    private JsonNode entries(Api teamApi, Api.User reader, String query) {
        Api.Response response = teamApi.get("/audit" + query, reader.token());
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json().path("items");
    }

    private static JsonNode only(JsonNode items, String action) {
        List<JsonNode> found = new ArrayList<>();
        items.forEach(i -> {
            if (i.path("action").asString().equals(action)) {
                found.add(i);
            }
        });
        assertThat(found).as("entries for " + action).hasSize(1);
        return found.get(0);
    }

    @Test
    void every_kind_of_change_leaves_one_entry_with_actor_object_address_and_what_changed() {
        Api.User owner = api.newUser();
        Api.Response made = api.post("/workspaces", owner.token(), Map.of("name", "Audited"));
        long team = made.json().path("id").asLong();
        Api teamApi = api.in(team);

        // workflows
        long wf = teamApi.post(
                        "/workflows",
                        owner.token(),
                        Map.of("name", "orders", "trigger_type", "webhook", "action_url", sink.url("/a")))
                .json()
                .path("id")
                .asLong();
        teamApi.send(
                "PATCH",
                "/workflows/" + wf,
                owner.token(),
                "application/json",
                "{\"action_url\":\"" + sink.url("/b") + "\",\"name\":\"orders v2\"}");
        teamApi.post("/workflows/" + wf + "/secret/rotate", owner.token(), "{}");
        teamApi.post("/workflows/" + wf + "/token/rotate", owner.token(), "{}");
        // runs
        long run = teamApi.post("/workflows/" + wf + "/trigger", owner.token(), "{}")
                .json()
                .path("id")
                .asLong();
        awaitFinished(owner, team, run);
        teamApi.post("/runs/" + run + "/replay", owner.token(), "{}");
        teamApi.post("/runs/replay", owner.token(), Map.of("workflow_id", wf));
        // credentials
        long credential = teamApi.post(
                        "/credentials",
                        owner.token(),
                        Map.of(
                                "name",
                                "erp",
                                "type",
                                "basic",
                                "username",
                                "ada",
                                "password",
                                "pw-one",
                                "allowed_hosts",
                                List.of("erp.example.com")))
                .json()
                .path("id")
                .asLong();
        teamApi.send(
                "PUT",
                "/credentials/" + credential,
                owner.token(),
                "application/json",
                "{\"type\":\"basic\",\"username\":\"grace\",\"password\":\"pw-two\"}");
        teamApi.send("DELETE", "/credentials/" + credential, owner.token(), null, null);
        // members, invitations, keys, the workspace itself
        Api.User grace = api.newUser();
        Api.Response invitation =
                teamApi.post("/invitations", owner.token(), Map.of("email", grace.email(), "role", "viewer"));
        String link = invitation.json().path("link").asString();
        api.post("/invitations/accept", grace.token(), Map.of("token", link.substring(link.lastIndexOf('/') + 1)));
        teamApi.send("PATCH", "/members/" + grace.id(), owner.token(), "application/json", "{\"role\":\"editor\"}");
        long revoked = teamApi.post("/invitations", owner.token(), Map.of("email", "nobody@example.com"))
                .json()
                .path("id")
                .asLong();
        teamApi.send("DELETE", "/invitations/" + revoked, owner.token(), null, null);
        Api.Response key = teamApi.post("/api-keys", owner.token(), Map.of("name", "ci", "role", "editor"));
        String keyValue = key.json().path("key").asString();
        api.post("/workflows/" + wf + "/secret/rotate", keyValue, "{}"); // an API key acting
        teamApi.send("DELETE", "/api-keys/" + key.json().path("id").asLong(), owner.token(), null, null);
        teamApi.send("PATCH", "/workspace", owner.token(), "application/json", "{\"name\":\"Audited team\"}");
        teamApi.send("DELETE", "/members/" + grace.id(), grace.token(), null, null);
        teamApi.send("DELETE", "/workflows/" + wf, owner.token(), null, null);

        JsonNode items = entries(teamApi, owner, "?limit=200");
        JsonNode created = only(items, "workflow.created");
        assertThat(created.path("actor").path("user_id").asLong()).isEqualTo(owner.id());
        assertThat(created.path("actor").path("name").asString()).isEqualTo(owner.email());
        assertThat(created.path("object_type").asString()).isEqualTo("workflow");
        assertThat(created.path("object_id").asString()).isEqualTo(Long.toString(wf));
        assertThat(created.path("client").asString()).isIn("127.0.0.1", "0:0:0:0:0:0:0:1");
        assertThat(created.path("workspace_id").asLong()).isEqualTo(team);

        JsonNode updated = only(items, "workflow.updated").path("changes");
        assertThat(updated.path("name").path("before").asString()).isEqualTo("orders");
        assertThat(updated.path("name").path("after").asString()).isEqualTo("orders v2");
        assertThat(updated.path("action_url").path("after").asString()).endsWith("/b");
        assertThat(updated.has("updated_at")).isFalse();

        assertThat(only(items, "workflow.token_rotated")
                        .path("changes")
                        .path("webhook_token")
                        .asString())
                .isEqualTo("[changed]");
        List<JsonNode> secretRotations = new ArrayList<>();
        items.forEach(i -> {
            if (i.path("action").asString().equals("workflow.secret_rotated")) {
                secretRotations.add(i);
            }
        });
        assertThat(secretRotations).hasSize(2);
        JsonNode byKey = secretRotations.get(0);
        assertThat(byKey.path("actor").path("api_key_id").asLong())
                .isEqualTo(key.json().path("id").asLong());
        assertThat(byKey.path("actor").path("name").asString()).startsWith("api key ci (kka_");
        assertThat(byKey.path("changes").path("signing_secret").asString()).isEqualTo("[changed]");

        assertThat(only(items, "run.replayed").path("object_id").asString()).isEqualTo(Long.toString(run));
        assertThat(only(items, "run.bulk_replayed")
                        .path("changes")
                        .path("replayed")
                        .asInt())
                .isPositive();

        JsonNode replaced = only(items, "credential.replaced").path("changes");
        assertThat(replaced.path("secret").asString()).isEqualTo("[changed]");
        assertThat(replaced.path("fields").path("before").path("username").asString())
                .isEqualTo("ada");
        assertThat(replaced.path("fields").path("after").path("username").asString())
                .isEqualTo("grace");
        only(items, "credential.created");
        only(items, "credential.deleted");

        assertThat(entries(teamApi, owner, "?action=invitation.created"))
                .extracting(e -> e.path("changes").path("email").path("after").asString())
                .containsExactlyInAnyOrder(grace.email().toLowerCase(), "nobody@example.com");
        only(items, "invitation.revoked");
        assertThat(only(items, "member.joined").path("actor").path("user_id").asLong())
                .isEqualTo(grace.id());
        JsonNode role = only(items, "member.role_changed").path("changes").path("role");
        assertThat(role.path("before").asString() + ">" + role.path("after").asString())
                .isEqualTo("viewer>editor");
        only(items, "member.left");
        assertThat(only(items, "api_key.created").path("changes").path("key").asString())
                .isEqualTo("[changed]");
        only(items, "api_key.deleted");
        assertThat(only(items, "workspace.created")
                        .path("changes")
                        .path("name")
                        .path("after")
                        .asString())
                .isEqualTo("Audited");
        assertThat(only(items, "workspace.updated")
                        .path("changes")
                        .path("name")
                        .path("after")
                        .asString())
                .isEqualTo("Audited team");
        assertThat(only(items, "workflow.deleted")
                        .path("changes")
                        .path("name")
                        .path("before")
                        .asString())
                .isEqualTo("orders v2");

        // no secret value anywhere in the log
        String all = items.toString();
        assertThat(all)
                .doesNotContain("pw-one")
                .doesNotContain("pw-two")
                .doesNotContain(keyValue)
                .doesNotContain("whsec_");

        // filters: action prefix, object, actor, time; paging
        assertThat(entries(teamApi, owner, "?action=credential")).hasSize(3);
        assertThat(entries(teamApi, owner, "?object=workflow:" + wf))
                .allMatch(e -> e.path("object_id").asString().equals(Long.toString(wf)));
        assertThat(entries(teamApi, owner, "?actor=" + grace.id()))
                .extracting(e -> e.path("action").asString())
                .containsExactlyInAnyOrder("member.joined", "member.left");
        assertThat(entries(teamApi, owner, "?actor=key:" + key.json().path("id").asLong()))
                .hasSize(1);
        assertThat(entries(teamApi, owner, "?to=2000-01-01T00:00:00Z")).isEmpty();
        Api.Response page = teamApi.get("/audit?limit=5", owner.token());
        assertThat(page.json().path("items")).hasSize(5);
        Api.Response next = teamApi.get(
                "/audit?limit=5&cursor=" + page.json().path("next_cursor").asString(), owner.token());
        assertThat(next.json().path("items").get(0).path("id").asLong())
                .isLessThan(page.json().path("items").get(4).path("id").asLong());
        assertThat(teamApi.get("/audit?from=yesterday", owner.token()).status()).isEqualTo(400);
    }

    private void awaitFinished(Api.User user, long team, long run) {
        eventually()
                .until(
                        () -> api.in(team)
                                .get("/runs/" + run, user.token())
                                .json()
                                .path("status")
                                .asString(),
                        s -> s.equals("succeeded") || s.equals("failed"));
    }

    @Test
    void only_owners_and_admins_read_it_and_nobody_changes_it() {
        Api.User owner = api.newUser();
        long team = api.post("/workspaces", owner.token(), Map.of("name", "Readers"))
                .json()
                .path("id")
                .asLong();
        Api.User editor = api.newUser();
        String link = api.in(team)
                .post("/invitations", owner.token(), Map.of("email", editor.email(), "role", "editor"))
                .json()
                .path("link")
                .asString();
        api.post("/invitations/accept", editor.token(), Map.of("token", link.substring(link.lastIndexOf('/') + 1)));
        assertThat(api.in(team).get("/audit", editor.token()).status()).isEqualTo(403);
        for (String method : List.of("POST", "PUT", "PATCH", "DELETE")) {
            assertThat(api.in(team)
                            .send(method, "/audit", owner.token(), "application/json", "{}")
                            .status())
                    .as(method)
                    .isEqualTo(405);
        }
        // sign-ins and password changes are in the user's personal workspace
        Api.User ada = api.newUser();
        api.post(
                "/password",
                ada.token(),
                Map.of("current_password", ada.password(), "new_password", "another long passphrase 42"));
        JsonNode own = api.get("/audit", ada.token()).json().path("items");
        assertThat(own)
                .extracting(e -> e.path("action").asString())
                .contains("user.signed_in", "user.password_changed");
        assertThat(only(own, "user.password_changed")
                        .path("changes")
                        .path("password")
                        .asString())
                .isEqualTo("[changed]");
    }

    @Test
    void a_change_that_rolls_back_leaves_no_entry_and_a_failed_entry_undoes_its_change() {
        Api.User owner = api.newUser();
        long wf = api.createWorkflow(owner, "manual", sink.url(), Map.of())
                .path("id")
                .asLong();
        String name =
                api.get("/workflows/" + wf, owner.token()).json().path("name").asString();
        try {
            // 1. the change fails at commit (a deferred constraint), after both statements ran: neither stays
            jdbc.sql("""
              CREATE OR REPLACE FUNCTION test_refuse_name() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN IF NEW.name = 'refused at commit' THEN RAISE EXCEPTION 'refused at commit'; END IF; RETURN NEW; END $$
              """).update();
            jdbc.sql("""
              CREATE CONSTRAINT TRIGGER test_refuse_name AFTER UPDATE ON workflows DEFERRABLE INITIALLY DEFERRED
              FOR EACH ROW EXECUTE FUNCTION test_refuse_name()
              """).update();
            Api.Response refused = api.send(
                    "PATCH", "/workflows/" + wf, owner.token(), "application/json", "{\"name\":\"refused at commit\"}");
            assertThat(refused.status()).isGreaterThanOrEqualTo(500);
            assertThat(api.get("/workflows/" + wf, owner.token())
                            .json()
                            .path("name")
                            .asString())
                    .isEqualTo(name);
            assertThat(auditCount(wf, "workflow.updated")).isZero();

            // 2. the entry cannot be written: the change does not happen either
            jdbc.sql("""
              CREATE OR REPLACE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN IF NEW.action = 'workflow.deleted' THEN RAISE EXCEPTION 'audit refused'; END IF; RETURN NEW; END $$
              """).update();
            jdbc.sql(
                            "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()")
                    .update();
            assertThat(api.send("DELETE", "/workflows/" + wf, owner.token(), null, null)
                            .status())
                    .isGreaterThanOrEqualTo(500);
            assertThat(api.get("/workflows/" + wf, owner.token()).status()).isEqualTo(200);

            // and with the database as it should be, the same change and its entry go together
            jdbc.sql("DROP TRIGGER test_refuse_name ON workflows").update();
            assertThat(api.send(
                                    "PATCH",
                                    "/workflows/" + wf,
                                    owner.token(),
                                    "application/json",
                                    "{\"name\":\"accepted\"}")
                            .status())
                    .isEqualTo(200);
            assertThat(auditCount(wf, "workflow.updated")).isEqualTo(1);
        } finally {
            jdbc.sql("DROP TRIGGER IF EXISTS test_refuse_name ON workflows").update();
            jdbc.sql("DROP TRIGGER IF EXISTS test_refuse_audit ON audit_log").update();
        }
    }

    private int auditCount(long workflow, String action) {
        return jdbc.sql(
                        "SELECT count(*) FROM audit_log WHERE object_type = 'workflow' AND object_id = :id AND action = :action")
                .param("id", Long.toString(workflow))
                .param("action", action)
                .query(Integer.class)
                .single();
    }

    @Test
    void entries_older_than_the_retention_are_removed() {
        Api.User owner = api.newUser();
        api.createWorkflow(owner, "manual", sink.url(), Map.of());
        long workspace = api.personalWorkspace(owner);
        jdbc.sql("""
            INSERT INTO audit_log (workspace_id, actor_user, actor, action, object_type, object_id, at)
            VALUES (:w, :u, 'old@example.com', 'workflow.created', 'workflow', '1', :at)
            """)
                .param("w", workspace)
                .param("u", owner.id())
                .param("at", Timestamp.from(clock.instant().minus(Duration.ofDays(366))))
                .update();
        assertThat(retention.prune()).isGreaterThanOrEqualTo(1);
        JsonNode left = api.get("/audit", owner.token()).json().path("items");
        assertThat(left)
                .extracting(e -> e.path("actor").path("name").asString())
                .doesNotContain("old@example.com");
        assertThat(left).extracting(e -> e.path("action").asString()).contains("workflow.created");
    }
}
