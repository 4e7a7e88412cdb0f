package dev.kikonect.workspace;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetupTest;
import dev.kikonect.KiKonectApplication;
import dev.kikonect.support.Api;
import jakarta.mail.internet.MimeMessage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * With spring.mail.* set (a real local SMTP server, GreenMail): registering mails a link that verifies the address,
 * once; an invitation is mailed and its link works.
 */
class InvitationMailTest {

    @RegisterExtension
    static GreenMailExtension smtp = new GreenMailExtension(ServerSetupTest.SMTP.dynamicPort());

    @Test
    void an_invitation_is_mailed_with_a_link_that_lets_the_invited_person_join() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "mail-");
        try (ConfigurableApplicationContext app = new SpringApplicationBuilder(KiKonectApplication.class)
                .run(
                        "--server.port=0",
                        "--kikonect.data-dir=" + dataDir,
                        "--kikonect.public-base-url=https://kikonect.example.com",
                        "--spring.mail.host=127.0.0.1",
                        "--spring.mail.port=" + smtp.getSmtp().getPort(),
                        "--kikonect.mail-from=KiKonect <robot@kikonect.example.com>")) {
            Api api = new Api(Integer.parseInt(app.getEnvironment().getProperty("local.server.port")));
            Api.User owner = api.newUser();
            long team = WorkspacesTest.team(api, owner, "Mailed team");
            Api.User grace = api.newUser();

            // Registering mailed each of them a link that verifies the address (single sign-on may then open the
            // account).
            assertThat(smtp.waitForIncomingEmail(5000, 2)).isTrue();
            MimeMessage verify = mailTo(owner.email(), "Verify your address for KiKonect");
            String verifyText = String.valueOf(verify.getContent()); // decoded, whatever the transfer encoding
            String verifyLink =
                    verifyText.substring(verifyText.indexOf("https://kikonect.example.com/verify-email?token="));
            verifyLink = verifyLink
                    .substring(0, verifyLink.indexOf('\n'))
                    .strip()
                    .replace("https://kikonect.example.com", api.base());
            assertThat(api.get("/me", owner.token())
                            .json()
                            .path("email_verified")
                            .asBoolean())
                    .isFalse();
            HttpClient noRedirects = HttpClient.newHttpClient();
            var used = noRedirects.send(
                    HttpRequest.newBuilder(URI.create(verifyLink)).build(), HttpResponse.BodyHandlers.discarding());
            assertThat(used.headers().firstValue("Location").orElseThrow()).endsWith("/app/#/login?verified=1");
            assertThat(api.get("/me", owner.token())
                            .json()
                            .path("email_verified")
                            .asBoolean())
                    .isTrue();
            var again = noRedirects.send(
                    HttpRequest.newBuilder(URI.create(verifyLink)).build(), HttpResponse.BodyHandlers.discarding());
            assertThat(again.headers().firstValue("Location").orElseThrow())
                    .as("a link works once")
                    .endsWith("verify_error=expired");
            assertThat(api.post("/me/email-verification", owner.token(), Map.of())
                            .status())
                    .as("verified already")
                    .isEqualTo(409);

            // Registering a taken address answers as a new account would, and tells the address's owner instead.
            Api.Response taken = api.post(
                    "/register",
                    null,
                    Map.of(
                            "email",
                            grace.email(),
                            "password",
                            "another long password",
                            "firstname",
                            "M",
                            "lastname",
                            "X"));
            Api.Response fresh = api.post(
                    "/register",
                    null,
                    Map.of(
                            "email",
                            "fresh-" + grace.email(),
                            "password",
                            "another long password",
                            "firstname",
                            "M",
                            "lastname",
                            "X"));
            assertThat(taken.status()).isEqualTo(201).isEqualTo(fresh.status());
            assertThat(taken.json().propertyNames())
                    .containsExactlyInAnyOrderElementsOf(fresh.json().propertyNames());
            assertThat(taken.json().path("id").asLong()).isNotEqualTo(grace.id());
            assertThat(smtp.waitForIncomingEmail(5000, 4)).isTrue();
            assertThat(mailTo(grace.email(), "Someone tried to create a KiKonect account with your address"))
                    .isNotNull();
            assertThat(api.post("/login", null, Map.of("email", grace.email(), "password", "another long password"))
                            .status())
                    .as("the decoy made nothing")
                    .isEqualTo(401);

            Api.Response invited =
                    api.in(team).post("/invitations", owner.token(), Map.of("email", grace.email(), "role", "editor"));
            assertThat(invited.status()).isEqualTo(201);
            assertThat(invited.json().path("mailed").asBoolean()).isTrue();

            assertThat(smtp.waitForIncomingEmail(5000, 5)).isTrue(); // after the fresh account's verification link
            MimeMessage mail = mailTo(grace.email(), "Ada invited you to Mailed team on KiKonect");
            assertThat(mail.getAllRecipients()[0].toString()).isEqualTo(grace.email());
            assertThat(mail.getFrom()[0].toString()).contains("robot@kikonect.example.com");
            assertThat(mail.getSubject()).isEqualTo("Ada invited you to Mailed team on KiKonect");
            String text = GreenMailUtil.getBody(mail);
            String link = invited.json().path("link").asString();
            assertThat(link).startsWith("https://kikonect.example.com/app/#/invitations/kki_");
            assertThat(text).contains(link).contains("as editor");

            String token = link.substring(link.lastIndexOf('/') + 1);
            assertThat(api.post("/invitations/accept", grace.token(), Map.of("token", token))
                            .status())
                    .isEqualTo(200);
            assertThat(api.in(team).get("/workflows", grace.token()).status()).isEqualTo(200);
        }
    }

    private static MimeMessage mailTo(String to, String subject) throws Exception {
        for (MimeMessage m : smtp.getReceivedMessages()) {
            if (m.getAllRecipients()[0].toString().equals(to) && subject.equals(m.getSubject())) {
                return m;
            }
        }
        throw new AssertionError("no mail '" + subject + "' to " + to);
    }
}
