package dev.kikonect.workspace;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetupTest;
import dev.kikonect.KiKonectApplication;
import dev.kikonect.support.Api;
import jakarta.mail.internet.MimeMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** With spring.mail.* set, an invitation is mailed (to a real local SMTP server, GreenMail) and its link works. */
class InvitationMailTest {

  @RegisterExtension
  static GreenMailExtension smtp = new GreenMailExtension(ServerSetupTest.SMTP.dynamicPort());

  @Test
  void an_invitation_is_mailed_with_a_link_that_lets_the_invited_person_join() throws Exception {
    Path dataDir = Files.createTempDirectory(Path.of("target"), "mail-");
    try (ConfigurableApplicationContext app =
        new SpringApplicationBuilder(KiKonectApplication.class)
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

      Api.Response invited = api.in(team).post("/invitations", owner.token(), Map.of("email", grace.email(), "role", "editor"));
      assertThat(invited.status()).isEqualTo(201);
      assertThat(invited.json().path("mailed").asBoolean()).isTrue();

      assertThat(smtp.waitForIncomingEmail(5000, 1)).isTrue();
      MimeMessage mail = smtp.getReceivedMessages()[0];
      assertThat(mail.getAllRecipients()[0].toString()).isEqualTo(grace.email());
      assertThat(mail.getFrom()[0].toString()).contains("robot@kikonect.example.com");
      assertThat(mail.getSubject()).isEqualTo("Ada invited you to Mailed team on KiKonect");
      String text = GreenMailUtil.getBody(mail);
      String link = invited.json().path("link").asString();
      assertThat(link).startsWith("https://kikonect.example.com/app/#/invitations/kki_");
      assertThat(text).contains(link).contains("as editor");

      String token = link.substring(link.lastIndexOf('/') + 1);
      assertThat(api.post("/invitations/accept", grace.token(), Map.of("token", token)).status()).isEqualTo(200);
      assertThat(api.in(team).get("/workflows", grace.token()).status()).isEqualTo(200);
    }
  }
}
