package dev.kikonect.auth;

import dev.kikonect.common.DomainException;
import dev.kikonect.common.PublicUrls;
import dev.kikonect.common.SecureTokens;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.env.Environment;
import org.springframework.mail.SimpleMailMessage;
import org.springframework.mail.javamail.JavaMailSender;
import org.springframework.stereotype.Component;

/**
 * Verifying an account's address by a mailed link, when {@code spring.mail.host} is set: a registration sends one,
 * {@code POST /me/email-verification} sends another, {@code GET /verify-email?token=} uses it (once, within 24 hours).
 * A verified address lets single sign-on with that address open the account ({@link SsoAccounts}). Without mail, an
 * account is linked to a provider only by its signed-in owner ({@code GET /sso/{id}/link}).
 */
@Component
class EmailVerification {

    private static final Logger log = LoggerFactory.getLogger(EmailVerification.class);
    static final Duration VALID = Duration.ofHours(24);

    private final ObjectProvider<JavaMailSender> sender;
    private final SsoIdentities identities;
    private final PublicUrls urls;
    private final Clock clock;
    private final String from;

    EmailVerification(
            ObjectProvider<JavaMailSender> sender,
            SsoIdentities identities,
            PublicUrls urls,
            Clock clock,
            Environment environment) {
        this.sender = sender;
        this.identities = identities;
        this.urls = urls;
        this.clock = clock;
        this.from = environment.getProperty("kikonect.mail-from", "KiKonect <kikonect@localhost>");
    }

    boolean mailSetUp() {
        return sender.getIfAvailable() != null;
    }

    /** Mails {@code user} a verification link, if mail is set up; true when the mail server took it. */
    boolean send(User user) {
        JavaMailSender mail = sender.getIfAvailable();
        if (mail == null) {
            return false;
        }
        String token = SecureTokens.random("kkv_", 32);
        identities.addVerification(
                SecureTokens.sha256(token), user.id(), clock.instant().plus(VALID));
        SimpleMailMessage message = new SimpleMailMessage();
        message.setFrom(from);
        message.setTo(user.email());
        message.setSubject("Verify your address for KiKonect");
        message.setText("Hello " + user.firstname() + ",\n\nconfirm that " + user.email()
                + " is yours (the link works for 24 hours):\n" + urls.base() + "/verify-email?token=" + token
                + "\n\nIf you did not make a KiKonect account, ignore this mail.\n");
        try {
            mail.send(message);
            return true;
        } catch (RuntimeException e) {
            log.warn(
                    "Could not mail a verification link to the mail server: {}",
                    e.getClass().getSimpleName());
            return false;
        }
    }

    /** Tells the owner of {@code email} that someone tried to register it again (instead of telling the registrant). */
    void sendAlreadyRegistered(String email) {
        JavaMailSender mail = sender.getIfAvailable();
        if (mail == null) {
            return;
        }
        SimpleMailMessage message = new SimpleMailMessage();
        message.setFrom(from);
        message.setTo(email);
        message.setSubject("Someone tried to create a KiKonect account with your address");
        message.setText(
                "Hello,\n\nsomeone tried to create an account with " + email + " on " + urls.base()
                        + ", which already has one.\n"
                        + "If it was you, sign in there instead. If it was not, you need not do anything: nothing was changed.\n");
        try {
            mail.send(message);
        } catch (RuntimeException e) {
            log.warn(
                    "Could not mail an already-registered notice to the mail server: {}",
                    e.getClass().getSimpleName());
        }
    }

    /** Sends another link to the signed-in user. */
    void resend(User user) {
        if (identities.verified(user.id())) {
            throw new DomainException.Conflict("email-verified", "Your address is verified already.");
        }
        if (!mailSetUp()) {
            throw new DomainException.Conflict(
                    "mail-not-set-up",
                    "This server sends no mail (spring.mail.host is not set): link your identity provider from the Account page instead.");
        }
        if (!send(user)) {
            throw new DomainException.Unavailable(
                    "mail-failed", "The mail server did not take the message; try again later.", Duration.ofMinutes(1));
        }
    }

    /** Uses a link: the account whose address it verifies, if the link is known and not expired. */
    Optional<Long> verify(String token) {
        if (token == null || token.length() > 200) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        Optional<Long> user = identities.useVerification(SecureTokens.sha256(token), now);
        user.ifPresent(id -> identities.markVerified(id, now));
        return user;
    }

    boolean verified(long userId) {
        return identities.verified(userId);
    }
}
