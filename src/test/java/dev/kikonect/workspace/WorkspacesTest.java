package dev.kikonect.workspace;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/** Workspaces, members, roles and invitations over HTTP on the real database. */
class WorkspacesTest extends ApiTest {

    @Autowired
    JdbcClient jdbc;

    private final Sink sink = new Sink();

    @AfterEach
    void close() {
        sink.close();
    }

    /** A team workspace made by {@code owner}. */
    static long team(Api api, Api.User owner, String name) {
        return api.newTeam(owner, name);
    }

    /** Invites a fresh user into the workspace with the role; they accept. */
    static Api.User member(Api api, Api.User admin, long workspace, String role) {
        return api.newMember(admin, workspace, role);
    }

    static String token(Api.Response invitation) {
        String link = invitation.json().path("link").asString();
        return link.substring(link.lastIndexOf('/') + 1);
    }

    @Test
    void registering_makes_a_personal_workspace_where_everything_lands_by_default() {
        Api.User ada = api.newUser();
        JsonNode mine = api.get("/workspaces", ada.token()).json().path("items");
        assertThat(mine).hasSize(1);
        assertThat(mine.get(0).path("personal").asBoolean()).isTrue();
        assertThat(mine.get(0).path("role").asString()).isEqualTo("owner");
        long personal = mine.get(0).path("id").asLong();

        long wf = api.createWorkflow(ada, "manual", sink.url(), Map.of())
                .path("id")
                .asLong();
        // named explicitly or not, the same workflow
        assertThat(api.in(personal).get("/workflows/" + wf, ada.token()).status())
                .isEqualTo(200);
        // a personal workspace cannot be deleted
        assertThat(api.in(personal)
                        .send("DELETE", "/workspace", ada.token(), null, null)
                        .status())
                .isEqualTo(409);
    }

    @Test
    void a_team_shares_workflows_and_runs_and_each_role_does_what_it_may() {
        Api.User owner = api.newUser();
        long team = team(api, owner, "Payments");
        Api.User editor = member(api, owner, team, "editor");
        Api.User viewer = member(api, owner, team, "viewer");
        Api teamApi = api.in(team);

        // the editor creates a workflow in the team; the owner and the viewer see it; it is not in anyone's personal
        // one
        Api.Response created = teamApi.post(
                "/workflows",
                editor.token(),
                Map.of(
                        "name",
                        "shared",
                        "trigger_type",
                        "webhook",
                        "action_url",
                        sink.url(),
                        "trigger_config",
                        Map.of("verify", "github", "secret", "github-sender-secret")));
        assertThat(created.status()).isEqualTo(201);
        long wf = created.json().path("id").asLong();
        assertThat(teamApi.get("/workflows/" + wf, owner.token()).status()).isEqualTo(200);
        assertThat(api.get("/workflows/" + wf, editor.token()).status())
                .as("not in the editor's personal workspace")
                .isEqualTo(404);

        // the viewer reads it without its webhook URL or token, and cannot trigger, change or delete it
        JsonNode seen = teamApi.get("/workflows/" + wf, viewer.token()).json();
        assertThat(seen.path("webhook_url").isNull()).isTrue();
        assertThat(seen.path("trigger_config").has("token")).isFalse();
        assertThat(seen.path("trigger_config").path("verify").asString()).isEqualTo("github");
        assertThat(seen.toString()).as("no secret for a viewer").doesNotContain("github-sender-secret");
        assertThat(teamApi.get("/workflows/" + wf, editor.token())
                        .json()
                        .path("trigger_config")
                        .path("secret")
                        .asString())
                .isEqualTo("github-sender-secret");
        assertThat(teamApi.post("/workflows/" + wf + "/trigger", viewer.token(), "{}")
                        .status())
                .isEqualTo(403);
        Api.Response patch =
                teamApi.send("PATCH", "/workflows/" + wf, viewer.token(), "application/json", "{\"name\":\"x\"}");
        assertThat(patch.status()).isEqualTo(403);
        assertThat(patch.json().path("type").asString()).endsWith("insufficient-role");
        assertThat(patch.json().path("detail").asString()).contains("viewer").contains("editor");

        // the editor triggers; everyone sees the run; the viewer may not replay it, the editor may
        Api.Response run = teamApi.post("/workflows/" + wf + "/trigger", editor.token(), "{\"n\":1}");
        assertThat(run.status()).isEqualTo(202);
        long runId = run.json().path("id").asLong();
        assertThat(teamApi.get("/runs/" + runId, viewer.token()).status()).isEqualTo(200);
        assertThat(teamApi.post("/runs/" + runId + "/replay", viewer.token(), "{}")
                        .status())
                .isEqualTo(403);
        assertThat(teamApi.post("/runs/" + runId + "/replay", editor.token(), "{}")
                        .status())
                .isEqualTo(202);

        // members and roles are visible to every member; only admins manage them
        JsonNode members = teamApi.get("/members", viewer.token()).json().path("items");
        assertThat(members).extracting(m -> m.path("role").asString()).containsExactly("owner", "editor", "viewer");
        assertThat(teamApi.send(
                                "PATCH",
                                "/members/" + viewer.id(),
                                editor.token(),
                                "application/json",
                                "{\"role\":\"editor\"}")
                        .status())
                .isEqualTo(403);
        assertThat(teamApi.send(
                                "PATCH",
                                "/members/" + viewer.id(),
                                owner.token(),
                                "application/json",
                                "{\"role\":\"editor\"}")
                        .json()
                        .path("role")
                        .asString())
                .isEqualTo("editor");
    }

    @Test
    void a_stranger_gets_404_for_a_workspace_and_everything_in_it() {
        Api.User owner = api.newUser();
        long team = team(api, owner, "Secret team");
        long wf = api.in(team)
                .post(
                        "/workflows",
                        owner.token(),
                        Map.of("name", "w", "trigger_type", "manual", "action_url", sink.url()))
                .json()
                .path("id")
                .asLong();
        Api.User stranger = api.newUser();
        for (String path : List.of(
                "/workspace", "/workflows", "/workflows/" + wf, "/members", "/runs", "/stats", "/credentials")) {
            Api.Response response = api.in(team).get(path, stranger.token());
            assertThat(response.status()).as(path).isEqualTo(404);
            assertThat(response.json().path("detail").asString())
                    .as(path)
                    .isEqualTo("Workspace " + team + " was not found");
        }
        // and a workspace that does not exist answers the same
        assertThat(api.in(team + 1_000_000)
                        .get("/workflows", stranger.token())
                        .json()
                        .path("detail")
                        .asString())
                .isEqualTo("Workspace " + (team + 1_000_000) + " was not found");
        assertThat(api.get("/workspaces", stranger.token()).json().path("items"))
                .hasSize(1);
        // a malformed header is a 400 naming it
        Api.Response bad =
                api.send("GET", "/workflows", stranger.token(), null, null, Map.of("KiKonect-Workspace", "abc"));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().path("detail").asString()).contains("KiKonect-Workspace");
    }

    @Test
    void an_invitation_works_once_for_its_address_and_expires_after_seven_days() {
        Api.User owner = api.newUser();
        long team = team(api, owner, "Ops");
        Api.User grace = api.newUser();
        Api.Response invited = api.in(team)
                .post(
                        "/invitations",
                        owner.token(),
                        Map.of("email", grace.email().toUpperCase(), "role", "viewer"));
        assertThat(invited.status()).isEqualTo(201);
        assertThat(invited.json().path("mailed").asBoolean())
                .as("no mail server configured")
                .isFalse();
        assertThat(invited.json().path("link").asString()).contains("/app/#/invitations/kki_");
        assertThat(api.in(team).get("/invitations", owner.token()).json().path("items"))
                .hasSize(1);
        // only the hash is stored
        String token = token(invited);
        assertThat(jdbc.sql("SELECT count(*) FROM invitations i WHERE i::text LIKE '%' || :t || '%'")
                        .param("t", token)
                        .query(Integer.class)
                        .single())
                .isZero();
        assertThat(jdbc.sql("SELECT count(*) FROM invitations WHERE token_hash = sha256(convert_to(:t, 'UTF8'))")
                        .param("t", token)
                        .query(Integer.class)
                        .single())
                .isEqualTo(1);

        Api.User someoneElse = api.newUser();
        Api.Response wrongPerson = api.post("/invitations/accept", someoneElse.token(), Map.of("token", token));
        assertThat(wrongPerson.status()).isEqualTo(403);
        assertThat(wrongPerson.json().path("type").asString()).endsWith("invitation-for-someone-else");

        Api.Response accepted = api.post("/invitations/accept", grace.token(), Map.of("token", token));
        assertThat(accepted.status()).isEqualTo(200);
        assertThat(accepted.json().path("id").asLong()).isEqualTo(team);
        assertThat(accepted.json().path("role").asString()).isEqualTo("viewer");
        assertThat(api.in(team).get("/workflows", grace.token()).status()).isEqualTo(200);

        Api.Response again = api.post("/invitations/accept", grace.token(), Map.of("token", token));
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.json().path("type").asString()).endsWith("invitation-used");

        // an invitation not used for 7 days no longer works
        Api.User late = api.newUser();
        String lateToken = token(api.in(team).post("/invitations", owner.token(), Map.of("email", late.email())));
        clock.advance(Duration.ofDays(7).plusSeconds(1));
        String signedIn = api.post("/login", null, Map.of("email", late.email(), "password", late.password()))
                .json()
                .path("token")
                .asString();
        late = new Api.User(late.id(), late.email(), late.password(), signedIn);
        Api.Response expired = api.post("/invitations/accept", late.token(), Map.of("token", lateToken));
        assertThat(expired.status()).isEqualTo(409);
        assertThat(expired.json().path("type").asString()).endsWith("invitation-expired");
        assertThat(api.post("/invitations/accept", late.token(), Map.of("token", "kki_nonsense"))
                        .status())
                .isEqualTo(404);
        // an API key cannot accept for its maker
        String key = api.post("/api-keys", late.token(), Map.of("name", "k", "scope", "admin"))
                .json()
                .path("key")
                .asString();
        assertThat(api.post("/invitations/accept", key, Map.of("token", lateToken))
                        .status())
                .isEqualTo(403);
    }

    @Test
    void the_last_owner_can_neither_leave_nor_be_demoted_and_ownership_can_be_handed_on() {
        Api.User owner = api.newUser();
        long team = team(api, owner, "Core");
        Api.User admin = member(api, owner, team, "admin");
        Api teamApi = api.in(team);

        Api.Response demote = teamApi.send(
                "PATCH", "/members/" + owner.id(), owner.token(), "application/json", "{\"role\":\"admin\"}");
        assertThat(demote.status()).isEqualTo(409);
        assertThat(demote.json().path("type").asString()).endsWith("last-owner");
        Api.Response leave = teamApi.send("DELETE", "/members/" + owner.id(), owner.token(), null, null);
        assertThat(leave.status()).isEqualTo(409);
        // an admin may not touch an owner, nor make one
        assertThat(teamApi.send("DELETE", "/members/" + owner.id(), admin.token(), null, null)
                        .status())
                .isEqualTo(403);
        assertThat(teamApi.send(
                                "PATCH",
                                "/members/" + admin.id(),
                                admin.token(),
                                "application/json",
                                "{\"role\":\"owner\"}")
                        .status())
                .isEqualTo(403);
        // nor delete the workspace
        assertThat(teamApi.send("DELETE", "/workspace", admin.token(), null, null)
                        .status())
                .isEqualTo(403);

        // a personal workspace is never handed on (its user would be left with none)
        Api.Response personal = api.post("/workspace/transfer", owner.token(), Map.of("user_id", admin.id()));
        assertThat(personal.status()).isEqualTo(409);
        assertThat(personal.json().path("type").asString()).endsWith("personal-workspace");

        // hand it on: the admin becomes owner, the owner admin; now the old owner may leave
        assertThat(teamApi.post("/workspace/transfer", owner.token(), Map.of("user_id", admin.id()))
                        .status())
                .isEqualTo(204);
        JsonNode members = teamApi.get("/members", admin.token()).json().path("items");
        assertThat(members)
                .extracting(
                        m -> m.path("user_id").asLong() + ":" + m.path("role").asString())
                .containsExactlyInAnyOrder(owner.id() + ":admin", admin.id() + ":owner");
        assertThat(teamApi.send("DELETE", "/members/" + owner.id(), owner.token(), null, null)
                        .status())
                .isEqualTo(204);
        assertThat(teamApi.get("/workflows", owner.token()).status()).isEqualTo(404);

        // the owner deletes the workspace with everything in it
        long wf = teamApi.post(
                        "/workflows",
                        admin.token(),
                        Map.of("name", "w", "trigger_type", "manual", "action_url", sink.url()))
                .json()
                .path("id")
                .asLong();
        assertThat(teamApi.send("DELETE", "/workspace", admin.token(), null, null)
                        .status())
                .isEqualTo(204);
        assertThat(jdbc.sql("SELECT count(*) FROM workflows WHERE id = :id")
                        .param("id", wf)
                        .query(Integer.class)
                        .single())
                .isZero();
        assertThat(api.get("/workspaces", admin.token()).json().path("items")).hasSize(1);
    }

    @Test
    void an_api_key_lives_in_one_workspace_never_above_its_makers_role_and_goes_with_its_maker() {
        Api.User owner = api.newUser();
        long team = team(api, owner, "Keys");
        Api.User admin = member(api, owner, team, "admin");
        Api.User editor = member(api, owner, team, "editor");
        Api teamApi = api.in(team);

        // editors do not manage keys; an admin makes a viewer key
        assertThat(teamApi.post("/api-keys", editor.token(), Map.of("name", "ci"))
                        .status())
                .isEqualTo(403);
        Api.Response made = teamApi.post("/api-keys", admin.token(), Map.of("name", "dashboards", "role", "viewer"));
        assertThat(made.status()).isEqualTo(201);
        assertThat(made.json().path("role").asString()).isEqualTo("viewer");
        assertThat(made.json().path("scope").asString()).isEqualTo("read");
        String key = made.json().path("key").asString();

        long wf = teamApi.post(
                        "/workflows",
                        admin.token(),
                        Map.of("name", "w", "trigger_type", "manual", "action_url", sink.url()))
                .json()
                .path("id")
                .asLong();
        // the key works in its workspace without naming it, reads, and may not write
        assertThat(api.get("/workflows/" + wf, key).status()).isEqualTo(200);
        assertThat(api.post("/workflows/" + wf + "/trigger", key, "{}").status())
                .isEqualTo(403);
        // naming another workspace (the maker's personal one) is a 404
        long personal = api.personalWorkspace(admin);
        assertThat(api.in(personal).get("/workflows", key).status()).isEqualTo(404);

        // an admin key cannot be made by someone who is not an admin there; a key cannot be above its maker
        Api.Response above = api.in(team).post("/api-keys", admin.token(), Map.of("name", "x", "role", "owner"));
        assertThat(above.status()).isEqualTo(400);

        // the maker leaves: the key goes with them
        assertThat(teamApi.send("DELETE", "/members/" + admin.id(), owner.token(), null, null)
                        .status())
                .isEqualTo(204);
        assertThat(api.get("/workflows/" + wf, key).status()).isEqualTo(401);
        assertThat(teamApi.get("/api-keys", owner.token()).json().path("items")).isEmpty();
    }

    @Test
    void a_workspace_that_requires_sso_refuses_password_sessions_but_not_api_keys() {
        Api.User owner = api.newUser();
        long team = team(api, owner, "Strict");
        String key = api.in(team)
                .post("/api-keys", owner.token(), Map.of("name", "automation", "role", "editor"))
                .json()
                .path("key")
                .asString();
        Api.Response strict =
                api.in(team).send("PATCH", "/workspace", owner.token(), "application/json", "{\"require_sso\":true}");
        assertThat(strict.status()).isEqualTo(200);
        assertThat(strict.json().path("require_sso").asBoolean()).isTrue();

        Api.Response refused = api.in(team).get("/workflows", owner.token());
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.json().path("type").asString()).endsWith("sso-required");
        assertThat(api.get("/workflows", key).status()).isEqualTo(200);
        // the owner's personal workspace is not affected
        assertThat(api.get("/workflows", owner.token()).status()).isEqualTo(200);
    }

    @Test
    void quotas_bound_workspaces_per_owner_and_open_invitations() {
        Api.User owner = api.newUser();
        for (int i = 1; i < 20; i++) { // the personal one counts
            team(api, owner, "w" + i);
        }
        Api.Response tooMany = api.post("/workspaces", owner.token(), Map.of("name", "one more"));
        assertThat(tooMany.status()).isEqualTo(429);
        assertThat(tooMany.json().path("detail").asString()).contains("20 workspaces");
        assertThat(api.post("/workspaces", owner.token(), Map.of()).status()).isEqualTo(400);
    }
}
