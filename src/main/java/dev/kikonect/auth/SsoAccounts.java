package dev.kikonect.auth;

import dev.kikonect.common.DomainException;
import dev.kikonect.common.SecureTokens;
import java.time.Clock;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Which account a single sign-on opens. A provider's identity (its id and the ID token's subject) is linked to one
 * account and signs in to it from then on, whatever address the provider sends later. An identity not linked yet:
 *
 * <ul>
 *   <li>no account has its (provider-verified) address: a new account is made, its address verified, the identity
 *       linked;
 *   <li>an account has it and its address is verified (a mailed link, or an earlier sign-in through a provider): the
 *       identity is linked to it;
 *   <li>an account has it but nobody proved the address: refused ({@code sso-link-required}). Else whoever registered
 *       {@code victim@corp} with a password first would own the victim's single sign-on account and keep the password
 *       (account pre-hijacking). The owner signs in with the password and links the provider from the Account page
 *       ({@link #link}), or verifies the address from the mail when mail is set up.
 * </ul>
 */
@Service
public class SsoAccounts {

    private final UserStore users;
    private final SsoIdentities identities;
    private final PasswordHasher hasher;
    private final Memberships memberships;
    private final TransactionTemplate transactions;
    private final Clock clock;

    SsoAccounts(
            UserStore users,
            SsoIdentities identities,
            PasswordHasher hasher,
            Memberships memberships,
            TransactionTemplate transactions,
            Clock clock) {
        this.users = users;
        this.identities = identities;
        this.hasher = hasher;
        this.memberships = memberships;
        this.transactions = transactions;
        this.clock = clock;
    }

    /**
     * The account {@code subject} of provider {@code provider}, whose provider-verified address is {@code email}, signs
     * in to.
     *
     * @throws DomainException.Forbidden {@code sso-link-required} (an account with that unverified address exists) or
     *     {@code sso-identity-taken}
     */
    public User signIn(String provider, String subject, String email, String firstname, String lastname) {
        Instant now = clock.instant();
        Optional<Long> linked = identities.user(provider, subject);
        if (linked.isPresent()) {
            return users.find(linked.get())
                    .orElseThrow(() -> new IllegalStateException("linked account " + linked.get() + " is gone"));
        }
        Optional<UserStore.Credentials> found = users.findByEmail(email);
        if (found.isPresent()) {
            User user = found.get().user();
            if (!identities.verified(user.id())) {
                throw new DomainException.Forbidden(
                        "sso-link-required",
                        "An account for " + email
                                + " exists but its address is not verified: sign in with its password and link the provider from the Account page.");
            }
            if (!identities.link(provider, subject, user.id(), now)) {
                throw new DomainException.Forbidden(
                        "sso-identity-taken", "This identity is linked to another account.");
            }
            return user;
        }
        String unusable = hasher.hash(SecureTokens.random("sso_", 32));
        User made = transactions.execute(tx -> {
            users.lockFirstUser();
            Optional<User> created = users.create(email, unusable, firstname, lastname, now, users.none());
            if (created.isEmpty()) { // registered meanwhile: decide again, as for an existing account
                tx.setRollbackOnly();
                return null;
            }
            memberships.createPersonal(created.get(), now);
            identities.markVerified(created.get().id(), now);
            identities.link(provider, subject, created.get().id(), now);
            return created.get();
        });
        return made != null ? made : signIn(provider, subject, email, firstname, lastname);
    }

    /**
     * Links {@code subject} of {@code provider} to the signed-in account {@code userId}, at its owner's request: the
     * provider's verified address must be the account's own; it is then verified too.
     *
     * @throws DomainException.Forbidden {@code sso-link-mismatch} or {@code sso-identity-taken}
     */
    public void link(long userId, String provider, String subject, String email) {
        User user = users.find(userId)
                .orElseThrow(() -> new DomainException.NotAuthenticated("The session ended; sign in again."));
        if (!user.email().toLowerCase(Locale.ROOT).equals(email.toLowerCase(Locale.ROOT))) {
            throw new DomainException.Forbidden(
                    "sso-link-mismatch",
                    "The provider signed in " + email + ", not " + user.email() + ": sign in there as " + user.email()
                            + " to link it.");
        }
        Instant now = clock.instant();
        transactions.executeWithoutResult(tx -> {
            if (!identities.link(provider, subject, userId, now)) {
                throw new DomainException.Forbidden(
                        "sso-identity-taken", "This identity is linked to another account.");
            }
            identities.markVerified(userId, now);
        });
    }
}
