package dev.kikonect.workspace;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.ClassPathResource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * Every operation in openapi.yaml, tried by every role of a workspace and by a stranger: the role each operation
 * declares ({@code x-kikonect-role}) is exactly what the server enforces. Below it: 403; at or above it: neither 403
 * nor 404 (the request may still be refused for its body, 400/409); a non-member: 404, exactly like a missing object.
 */
class RoleMatrixTest extends ApiTest {

    private static final List<String> ROLES = List.of("viewer", "editor", "admin", "owner");
    private static final List<String> METHODS = List.of("get", "post", "put", "patch", "delete");

    record Operation(String method, String path, String role) {}

    @SuppressWarnings("unchecked")
    static List<Operation> operations() throws Exception {
        Map<String, Object> spec;
        try (InputStream in = new ClassPathResource("openapi.yaml").getInputStream()) {
            spec = new Yaml(new LoaderOptions()).load(in);
        }
        List<Operation> operations = new ArrayList<>();
        for (Map.Entry<String, Object> path : ((Map<String, Object>) spec.get("paths")).entrySet()) {
            for (Map.Entry<String, Object> item : ((Map<String, Object>) path.getValue()).entrySet()) {
                if (METHODS.contains(item.getKey())) {
                    Object role = ((Map<String, Object>) item.getValue()).get("x-kikonect-role");
                    operations.add(new Operation(
                            item.getKey().toUpperCase(), path.getKey(), role == null ? null : role.toString()));
                }
            }
        }
        return operations;
    }

    @Test
    void every_operation_declares_who_may_call_it() throws Exception {
        List<Operation> operations = operations();
        assertThat(operations).hasSizeGreaterThan(45);
        assertThat(operations)
                .filteredOn(o -> o.role() == null)
                .as("operations without x-kikonect-role")
                .isEmpty();
        assertThat(operations)
                .extracting(Operation::role)
                .allMatch(r -> List.of("none", "user", "instance-admin", "viewer", "editor", "admin", "owner")
                        .contains(r));
    }

    @Test
    void each_role_gets_exactly_the_operations_its_rank_allows_and_a_stranger_gets_404_for_all() throws Exception {
        try (Sink sink = new Sink()) {
            Api.User owner = api.newUser();
            long team = WorkspacesTest.team(api, owner, "Matrix");
            Map<String, Api.User> members = new LinkedHashMap<>();
            members.put("owner", owner);
            for (String role : List.of("admin", "editor", "viewer")) {
                members.put(role, WorkspacesTest.member(api, owner, team, role));
            }
            Api.User target = WorkspacesTest.member(api, owner, team, "viewer");
            Api.User stranger = api.newUser();
            Api teamApi = api.in(team);

            // objects to point the paths at
            long workflow = teamApi.post(
                            "/workflows",
                            owner.token(),
                            Map.of("name", "m", "trigger_type", "webhook", "action_url", sink.url()))
                    .json()
                    .path("id")
                    .asLong();
            long run = teamApi.post("/workflows/" + workflow + "/trigger", owner.token(), "{}")
                    .json()
                    .path("id")
                    .asLong();
            long credential = teamApi.post(
                            "/credentials",
                            owner.token(),
                            Map.of(
                                    "name",
                                    "c",
                                    "type",
                                    "bearer",
                                    "token",
                                    "t0ken",
                                    "allowed_hosts",
                                    List.of("api.example.com")))
                    .json()
                    .path("id")
                    .asLong();

            List<String> violations = new ArrayList<>();
            int checked = 0;
            for (Operation op : operations()) {
                if (op.role().equals("none") || op.role().equals("user")) {
                    continue;
                }
                if (op.role().equals("instance-admin")) {
                    // not a workspace's: whatever their role in the team, members who are not instance administrators
                    // get 403
                    for (String role : List.of("admin", "editor", "viewer")) {
                        Api.Response response = teamApi.send(
                                op.method(),
                                path(op.path(), workflow, run, credential, target.id(), false),
                                members.get(role).token(),
                                "application/json",
                                body(op));
                        checked++;
                        if (response.status() != 403 || !response.body().contains("instance-admin-required")) {
                            violations.add(op.method() + " " + op.path() + " as " + role + ": " + response.status()
                                    + " (wanted 403 instance-admin-required)");
                        }
                    }
                    continue;
                }
                // (a listener's answer points at a delivery that exists only while an executor waits: 404 like a
                // deletion)
                boolean deletes = op.method().equals("DELETE") || op.path().equals("/listen/{name}/deliveries/{id}");
                for (String role : ROLES) {
                    boolean allowed = ROLES.indexOf(role) >= ROLES.indexOf(op.role());
                    // Allowed deletions point at objects that do not exist, so that the matrix destroys nothing (the
                    // answer, 404 naming the object, still shows the role check passed: a refused role gets 403 first).
                    String path = path(op.path(), workflow, run, credential, target.id(), deletes && allowed);
                    if (op.path().equals("/workspace") && deletes && allowed) {
                        continue; // the owner deleting the workspace: WorkspacesTest does it
                    }
                    Api.Response response =
                            teamApi.send(op.method(), path, members.get(role).token(), "application/json", body(op));
                    checked++;
                    if (!allowed && response.status() != 403) {
                        violations.add(op.method() + " " + op.path() + " as " + role + ": " + response.status()
                                + " (wanted 403)");
                    }
                    if (allowed
                            && (response.status() == 403
                                    || response.status() == 401
                                    || (response.status() == 404 && !deletes))) {
                        violations.add(op.method() + " " + op.path() + " as " + role + ": " + response.status() + " "
                                + response.body());
                    }
                }
                Api.Response stranger404 = teamApi.send(
                        op.method(),
                        path(op.path(), workflow, run, credential, target.id(), false),
                        stranger.token(),
                        "application/json",
                        body(op));
                checked++;
                if (stranger404.status() != 404 || !stranger404.body().contains("Workspace " + team)) {
                    violations.add(op.method() + " " + op.path() + " as a stranger: " + stranger404.status()
                            + " (wanted 404 for the workspace)");
                }
            }
            // Workspace against workspace: the owner of both, in their personal workspace, names the team's objects;
            // every route with an object in its path answers 404 (objects are scoped by workspace, not by who asks).
            Api personal = api.in(api.personalWorkspace(owner));
            int crossed = 0;
            for (Operation op : operations()) {
                if (op.role().equals("none")
                        || op.role().equals("user")
                        || op.role().equals("instance-admin")
                        || !op.path().contains("{")) {
                    continue;
                }
                if (op.path().equals("/listen/{name}")) {
                    continue; // a listener name is not an object: any workspace may listen under any name (its own
                    // deliveries only)
                }
                String path = path(op.path(), workflow, run, credential, target.id(), false);
                Api.Response response = personal.send(op.method(), path, owner.token(), "application/json", body(op));
                crossed++;
                if (response.status() != 404) {
                    violations.add(op.method() + " " + path + " from another workspace: " + response.status()
                            + " (wanted 404)");
                }
            }
            assertThat(violations).isEmpty();
            assertThat(checked).isGreaterThan(180);
            assertThat(crossed).isGreaterThan(15);
            // and nothing was touched by those attempts
            assertThat(teamApi.get("/workflows/" + workflow, owner.token()).status())
                    .isEqualTo(200);
            assertThat(teamApi.get("/credentials/" + credential, owner.token()).status())
                    .isEqualTo(200);
        }
    }

    private static String path(
            String template, long workflow, long run, long credential, long member, boolean missing) {
        long gone = 9_000_000_000L;
        return template.replace("/workflows/{id}", "/workflows/" + (missing ? gone : workflow))
                .replace("/runs/{id}", "/runs/" + (missing ? gone : run))
                .replace("/steps/{key}/", "/steps/review/")
                .replace("/credentials/{id}", "/credentials/" + (missing ? gone : credential))
                .replace("/members/{user_id}", "/members/" + (missing ? gone : member))
                .replace("/instance/users/{user_id}", "/instance/users/" + member)
                .replace("/api-keys/{id}", "/api-keys/" + gone)
                .replace("/invitations/{id}", "/invitations/" + gone)
                .replace("/push/subscriptions/{id}", "/push/subscriptions/" + gone)
                .replace("/listen/{name}/deliveries/{id}", "/listen/dev/deliveries/" + gone)
                .replace("/listen/{name}", "/listen/Not_A_Name"); // 400 at once for the roles allowed: no stream opened
    }

    /** A body the operation's role check sees before any validation: empty, or what a harmless call needs. */
    private static String body(Operation op) {
        if (op.method().equals("GET") || op.method().equals("DELETE")) {
            return null;
        }
        if (op.path().equals("/workspace")) {
            return "{}"; // PATCH with nothing to change
        }
        return "{}";
    }
}
