package dev.kikonect.workspace;

import dev.kikonect.auth.Role;
import dev.kikonect.auth.User;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.env.Environment;
import org.springframework.mail.SimpleMailMessage;
import org.springframework.mail.javamail.JavaMailSender;
import org.springframework.stereotype.Component;

/**
 * Mails invitation links when {@code spring.mail.host} is set (Spring Boot then provides the sender; its timeouts
 * are in application.properties). Without mail, or when sending fails, the link is still in the API's answer for the
 * admin to pass on; the log never holds the link.
 */
@Component
class InvitationMailer {

    private static final Logger log = LoggerFactory.getLogger(InvitationMailer.class);

    private final ObjectProvider<JavaMailSender> sender;
    private final String from;

    InvitationMailer(ObjectProvider<JavaMailSender> sender, Environment environment) {
        this.sender = sender;
        this.from = environment.getProperty("kikonect.mail-from", "KiKonect <kikonect@localhost>");
    }

    /** True when the message was handed to the mail server. */
    boolean send(String to, User inviter, String workspace, Role role, String link, Instant expiresAt) {
        JavaMailSender mail = sender.getIfAvailable();
        if (mail == null) {
            return false;
        }
        SimpleMailMessage message = new SimpleMailMessage();
        message.setFrom(from);
        message.setTo(to);
        message.setSubject(inviter.firstname() + " invited you to " + workspace + " on KiKonect");
        message.setText(inviter.firstname() + " " + inviter.lastname() + " (" + inviter.email()
                + ") invited you to the workspace \"" + workspace + "\" as "
                + role.wire() + ".\n\nAccept the invitation (sign in or register with this email address first):\n"
                + link
                + "\n\nThe link works once and expires at " + expiresAt + ".\n");
        try {
            mail.send(message);
            return true;
        } catch (RuntimeException e) {
            log.warn(
                    "Could not mail an invitation to the mail server: {}",
                    e.getClass().getSimpleName());
            return false;
        }
    }
}
