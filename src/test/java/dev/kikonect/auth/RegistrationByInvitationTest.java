package dev.kikonect.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

/** kikonect.auth.registration=invitation: only someone holding an open invitation for their address may register. */
@TestPropertySource(properties = "kikonect.auth.registration=invitation")
class RegistrationByInvitationTest extends ApiTest {

    @Autowired
    AuthService auth;

    @Autowired
    SsoAccounts ssoAccounts;

    private static final String PASSWORD = "a long passphrase for grace";

    private Api.Response register(String email, String invitation) {
        Map<String, Object> body =
                new HashMap<>(Map.of("email", email, "password", PASSWORD, "firstname", "Grace", "lastname", "Hopper"));
        if (invitation != null) {
            body.put("invitation", invitation);
        }
        return api.post("/register", null, body);
    }

    @Test
    void only_an_invited_address_registers_with_its_invitation() {
        // the first user of such a server comes another way (single sign-on here)
        User admin = ssoAccounts.signIn(
                "corp", UUID.randomUUID().toString(), "admin-" + UUID.randomUUID() + "@example.com", "Ada", "Admin");
        String token = auth.startSession(admin, "password", "127.0.0.1").token();
        long team = api.post("/workspaces", token, Map.of("name", "Invite only"))
                .json()
                .path("id")
                .asLong();
        String grace = "grace-" + UUID.randomUUID() + "@example.com";
        String link = api.in(team)
                .post("/invitations", token, Map.of("email", grace, "role", "editor"))
                .json()
                .path("link")
                .asString();
        String invitation = link.substring(link.lastIndexOf('/') + 1);

        Api.Response without = register(grace, null);
        assertThat(without.status()).isEqualTo(403);
        assertThat(without.json().path("type").asString()).endsWith("registration-closed");
        assertThat(without.json().path("detail").asString()).contains("invitation");
        assertThat(register("someone-else@example.com", invitation).status())
                .as("another address")
                .isEqualTo(403);
        assertThat(register(grace, "kki_made_up").status()).isEqualTo(403);

        assertThat(register(grace, invitation).status()).isEqualTo(201);
        // then the same invitation, once, lets her in
        String graceToken = api.post("/login", null, Map.of("email", grace, "password", PASSWORD))
                .json()
                .path("token")
                .asString();
        assertThat(api.post("/invitations/accept", graceToken, Map.of("token", invitation))
                        .status())
                .isEqualTo(200);
        assertThat(api.in(team).get("/workflows", graceToken).status()).isEqualTo(200);
        assertThat(register("late-" + grace, invitation).status())
                .as("a used invitation registers nobody")
                .isEqualTo(403);
    }
}
