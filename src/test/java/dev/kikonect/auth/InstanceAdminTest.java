package dev.kikonect.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.KiKonectApplication;
import dev.kikonect.support.Api;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * A new instance started with registration closed: its first account can still be made and is the instance
 * administrator, who opens and closes registration at run time and shares the role; nobody else can.
 */
class InstanceAdminTest {

    private static final String PASSWORD = "a long passphrase for the instance";

    private static Api.Response register(Api api, String name) {
        return api.post(
                "/register",
                null,
                Map.of("email", name + "@example.com", "password", PASSWORD, "firstname", name, "lastname", "Test"));
    }

    private static String login(Api api, String name) {
        Api.Response login = api.post("/login", null, Map.of("email", name + "@example.com", "password", PASSWORD));
        assertThat(login.status()).as(login.body()).isEqualTo(200);
        return login.json().path("token").asString();
    }

    private static Api.Response patch(Api api, String path, String token, String body) {
        return api.send("PATCH", path, token, "application/json", body);
    }

    @Test
    void the_first_user_administers_the_instance_and_can_open_registration_that_the_configuration_closed()
            throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "instance-");
        try (ConfigurableApplicationContext app = new SpringApplicationBuilder(KiKonectApplication.class)
                .run("--server.port=0", "--kikonect.data-dir=" + dataDir, "--kikonect.registration=closed")) {
            Api api = new Api(Integer.parseInt(app.getEnvironment().getProperty("local.server.port")));

            // Two people register at the same instant on a closed instance: one is first (and admin), the other is
            // refused.
            CyclicBarrier together = new CyclicBarrier(2);
            List<CompletableFuture<Api.Response>> racing = new ArrayList<>();
            for (String name : List.of("ada", "eve")) {
                racing.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        together.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    return register(api, name);
                }));
            }
            List<Api.Response> answers =
                    racing.stream().map(CompletableFuture::join).toList();
            assertThat(answers).extracting(Api.Response::status).containsExactlyInAnyOrder(201, 403);
            Api.Response won =
                    answers.stream().filter(r -> r.status() == 201).findFirst().orElseThrow();
            Api.Response lost =
                    answers.stream().filter(r -> r.status() == 403).findFirst().orElseThrow();
            assertThat(won.json().path("instance_admin").asBoolean()).isTrue();
            assertThat(lost.json().path("type").asString()).endsWith("registration-closed");
            assertThat(lost.json().path("detail").asString()).contains("kikonect.auth.registration=closed");
            String first = won.json().path("firstname").asString();
            String admin = login(api, first);
            assertThat(api.get("/me", admin).json().path("instance_admin").asBoolean())
                    .isTrue();

            JsonNode instance = api.get("/instance", admin).json();
            assertThat(instance.path("registration").asString()).isEqualTo("closed");
            assertThat(instance.path("registration_source").asString()).isEqualTo("configuration");
            assertThat(instance.path("version").asString()).isNotBlank();
            assertThat(register(api, "bob").status()).isEqualTo(403);

            // Opened at run time: the next registration is taken, and that user is no administrator.
            Api.Response opened = patch(api, "/instance", admin, "{\"registration\": \"open\"}");
            assertThat(opened.status()).as(opened.body()).isEqualTo(200);
            assertThat(opened.json().path("registration").asString()).isEqualTo("open");
            assertThat(opened.json().path("registration_source").asString()).isEqualTo("instance");
            assertThat(opened.json().path("configured_registration").asString()).isEqualTo("closed");
            Api.Response bobRegistered = register(api, "bob");
            assertThat(bobRegistered.status()).isEqualTo(201);
            assertThat(bobRegistered.json().path("instance_admin").asBoolean()).isFalse();
            long bobId = bobRegistered.json().path("id").asLong();
            long adminId = won.json().path("id").asLong();
            String bob = login(api, "bob");

            // Nobody else administers: not a member, not with an API key of an instance administrator.
            for (String[] call : new String[][] {
                {"GET", "/instance"},
                {"PATCH", "/instance"},
                {"GET", "/instance/users"},
                {"PATCH", "/instance/users/" + bobId}
            }) {
                Api.Response refused = api.send(
                        call[0],
                        call[1],
                        bob,
                        "application/json",
                        call[0].equals("GET") ? null : "{\"registration\": \"open\", \"instance_admin\": true}");
                assertThat(refused.status()).as(call[1]).isEqualTo(403);
                assertThat(refused.json().path("type").asString()).endsWith("instance-admin-required");
            }
            String key = api.post("/api-keys", admin, Map.of("name", "automation", "scope", "admin"))
                    .json()
                    .path("key")
                    .asString();
            Api.Response byKey = api.get("/instance", key);
            assertThat(byKey.status()).isEqualTo(403);
            assertThat(byKey.json().path("type").asString()).endsWith("session-required");

            // Bad input names the field.
            Api.Response sometimes = patch(api, "/instance", admin, "{\"registration\": \"sometimes\"}");
            assertThat(sometimes.status()).isEqualTo(400);
            assertThat(sometimes.body()).contains("registration").contains("must be open, invitation, closed");
            assertThat(patch(api, "/instance", admin, "{\"colour\": \"blue\", \"registration\": \"open\"}")
                            .body())
                    .contains("colour");
            assertThat(patch(api, "/instance", admin, "{}").status()).isEqualTo(400);
            assertThat(patch(api, "/instance/users/" + bobId, admin, "{\"instance_admin\": \"yes\"}")
                            .status())
                    .isEqualTo(400);
            assertThat(patch(
                                    api,
                                    "/instance/users/" + bobId,
                                    admin,
                                    "{\"email\": \"x@example.com\", \"instance_admin\": true}")
                            .body())
                    .contains("email");
            assertThat(patch(api, "/instance/users/987654321", admin, "{\"instance_admin\": true}")
                            .status())
                    .isEqualTo(404);

            // Invitation only (the short spelling too), then back to what the configuration says.
            assertThat(patch(api, "/instance", admin, "{\"registration\": \"invite\"}")
                            .json()
                            .path("registration")
                            .asString())
                    .isEqualTo("invitation");
            Api.Response uninvited = register(api, "carol");
            assertThat(uninvited.status()).isEqualTo(403);
            assertThat(uninvited.json().path("detail").asString()).contains("invitation");
            JsonNode configured =
                    patch(api, "/instance", admin, "{\"registration\": null}").json();
            assertThat(configured.path("registration").asString()).isEqualTo("closed");
            assertThat(configured.path("registration_source").asString()).isEqualTo("configuration");

            // Every user, newest first, a page at a time.
            JsonNode page = api.get("/instance/users?limit=1", admin).json();
            assertThat(page.path("items")).singleElement().satisfies(u -> {
                assertThat(u.path("id").asLong()).isEqualTo(bobId);
                assertThat(u.path("workspaces").asInt()).isEqualTo(1);
                assertThat(u.path("instance_admin").asBoolean()).isFalse();
            });
            JsonNode next = api.get(
                            "/instance/users?limit=1&cursor="
                                    + page.path("next_cursor").asString(),
                            admin)
                    .json();
            assertThat(next.path("items"))
                    .singleElement()
                    .satisfies(u -> assertThat(u.path("id").asLong()).isEqualTo(adminId));
            assertThat(next.path("next_cursor").isNull()).isTrue();

            // The last administrator stays one; shared, the role passes on, at once.
            Api.Response last = patch(api, "/instance/users/" + adminId, admin, "{\"instance_admin\": false}");
            assertThat(last.status()).isEqualTo(409);
            assertThat(last.json().path("type").asString()).endsWith("last-instance-admin");
            Api.Response granted = patch(api, "/instance/users/" + bobId, admin, "{\"instance_admin\": true}");
            assertThat(granted.status()).as(granted.body()).isEqualTo(200);
            assertThat(granted.json().path("instance_admin").asBoolean()).isTrue();
            assertThat(api.get("/instance", bob).status()).isEqualTo(200);
            assertThat(patch(api, "/instance/users/" + adminId, bob, "{\"instance_admin\": false}")
                            .status())
                    .isEqualTo(200);
            assertThat(api.get("/instance", admin).status())
                    .as("no longer an administrator, in the same session")
                    .isEqualTo(403);
            assertThat(api.get("/me", admin).json().path("instance_admin").asBoolean())
                    .isFalse();

            // Who did what is in the administrators' own audit logs.
            JsonNode adminAudit =
                    api.get("/audit?action=instance", admin).json().path("items");
            assertThat(adminAudit.valueStream().map(e -> e.path("action").asString()))
                    .contains("instance.settings_changed");
            JsonNode bobAudit = api.get("/audit?action=user", bob).json().path("items");
            assertThat(bobAudit.valueStream().map(e -> e.path("action").asString()))
                    .contains("user.instance_admin_revoked");
        }
    }
}
