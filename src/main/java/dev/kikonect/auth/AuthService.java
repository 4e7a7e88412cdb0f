package dev.kikonect.auth;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.audit.Actor;
import dev.kikonect.audit.AuditLog;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.FieldProblem;
import dev.kikonect.common.Fields;
import dev.kikonect.common.SecureTokens;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/** Registration, login, logout and bearer-token authentication. */
@Service
public class AuthService {

    static final String SESSION_PREFIX = "kks_";
    static final String API_KEY_PREFIX = "kka_";
    private static final Pattern EMAIL = Pattern.compile("^[^\\s@]+@[^\\s@.]+(\\.[^\\s@.]+)+$");
    static final int MIN_PASSWORD = 8;
    static final int MAX_PASSWORD = 1024;

    private final UserStore users;
    private final SessionStore sessions;
    private final PasswordHasher hasher;
    private final Clock clock;
    private final KiKonectProperties properties;
    private final ApiKeyStore apiKeys;
    private final LoginThrottle throttle;
    private final Memberships memberships;
    private final AuditLog audit;
    private final TransactionTemplate transactions;
    private final InstanceSettings settings;

    AuthService(
            InstanceSettings settings,
            Memberships memberships,
            AuditLog audit,
            TransactionTemplate transactions,
            UserStore users,
            SessionStore sessions,
            PasswordHasher hasher,
            Clock clock,
            KiKonectProperties properties,
            ApiKeyStore apiKeys,
            LoginThrottle throttle) {
        this.settings = settings;
        this.apiKeys = apiKeys;
        this.throttle = throttle;
        this.memberships = memberships;
        this.audit = audit;
        this.transactions = transactions;
        this.users = users;
        this.sessions = sessions;
        this.hasher = hasher;
        this.clock = clock;
        this.properties = properties;
    }

    User register(Map<String, Object> body) {
        Fields fields = Fields.of(body);
        String email = fields.string("email", true, 3, 254);
        if (email != null && !EMAIL.matcher(email).matches()) {
            fields.problem("email", "must be an email address like name@example.com");
        }
        String password = password(fields);
        if (password != null
                && email != null
                && password.length() >= MIN_PASSWORD
                && password.length() <= MAX_PASSWORD) {
            PasswordPolicy.refusal(password, email).ifPresent(reason -> fields.problem("password", reason));
        }
        String firstname = fields.string("firstname", true, 1, 100);
        String lastname = fields.string("lastname", true, 1, 100);
        String invitation = fields.string("invitation", false, 1, 200);
        fields.throwIfInvalid();
        // The first account of an instance may always be made (whatever the mode: else a closed or invitation-only
        // instance could never get its administrator), and becomes the instance administrator.
        boolean maybeFirst = users.none();
        if (!maybeFirst) {
            admit(email, invitation); // before hashing: a refused registration costs no Argon2
        }
        String hash = hasher.hash(password);
        return transactions.execute(tx -> {
            users.lockFirstUser();
            boolean first = users.none();
            if (!first && maybeFirst) {
                admit(email, invitation); // someone else was first meanwhile
            }
            Instant now = clock.instant();
            User user = users.create(email, hash, firstname, lastname, now, first)
                    .orElseThrow(() ->
                            new DomainException.Conflict("email-taken", "An account with this email already exists."));
            memberships.createPersonal(user, now);
            return user;
        });
    }

    /**
     * What a registration for an address that has an account answers: the same 201 a new account gets (an id from the
     * same sequence, the names as sent, after the same Argon2 hash), so that registering does not tell who has an
     * account here; when the server sends mail the address's owner gets one ({@link EmailVerification#sendAlreadyRegistered}).
     * Without mail a registrant who forgot an account learns it only when signing in with the new password fails (the
     * web app says so). What remains to a prober is to sign in with the password just sent: that costs a real account
     * for every free address tried, within the per-address registration limit.
     */
    User decoy(Map<String, Object> body) {
        Fields fields = Fields.of(body);
        return new User(
                users.takeId(),
                fields.string("email", true, 3, 254),
                fields.string("firstname", true, 1, 100),
                fields.string("lastname", true, 1, 100),
                clock.instant(),
                false);
    }

    /** Refuses a registration the instance's mode does not allow (the mode an instance administrator set, else the configured one). */
    private void admit(String email, String invitation) {
        InstanceSettings.Registration registration = settings.registration();
        String where = registration.source().equals("instance")
                ? "an instance administrator set it"
                : "kikonect.auth.registration=" + registration.mode();
        if (registration.mode().equals("closed")) {
            throw new DomainException.Forbidden(
                    "registration-closed",
                    "This server does not take new accounts (" + where + "); ask its administrator.");
        }
        if (registration.mode().equals("invitation")
                && (invitation == null
                        || !memberships.openInvitation(email, SecureTokens.sha256(invitation), clock.instant()))) {
            throw new DomainException.Forbidden(
                    "registration-closed",
                    "This server takes new accounts only by invitation: register from the invitation link sent to this email address.");
        }
    }

    private static String password(Fields fields) {
        Object raw = fields.raw("password");
        if (raw == null) {
            fields.problem("password", "is required");
            return null;
        }
        if (!(raw instanceof String password)) {
            fields.problem("password", "must be a string");
            return null;
        }
        if (password.indexOf('\u0000') >= 0) {
            fields.problem("password", "must not contain NUL characters");
            return null;
        }
        // Passwords are taken exactly as typed: no trimming, spaces count.
        if (password.length() < MIN_PASSWORD) {
            fields.problem("password", "must be at least " + MIN_PASSWORD + " characters");
        } else if (password.length() > MAX_PASSWORD) {
            fields.problem("password", "must be at most " + MAX_PASSWORD + " characters");
        }
        return password;
    }

    Session login(Map<String, Object> body, String clientAddress) {
        Fields fields = Fields.of(body);
        String email = fields.string("email", true, 1, 254);
        Object raw = fields.raw("password");
        if (raw == null) {
            fields.problem("password", "is required");
        } else if (!(raw instanceof String)) {
            fields.problem("password", "must be a string");
        }
        fields.throwIfInvalid();
        String password = (String) raw;
        if (email.indexOf('\u0000') >= 0 || password.indexOf('\u0000') >= 0) {
            throw badCredentials();
        }
        Optional<Duration> locked = throttle.lockedFor(email, clientAddress);
        if (locked.isPresent()) {
            long seconds = Math.max(1, (locked.get().toMillis() + 999) / 1000);
            throw new DomainException.RateLimited(
                    "login-throttled",
                    "Too many failed logins",
                    "Too many failed logins for this account or from this address; try again in " + seconds + " s.",
                    Duration.ofSeconds(seconds));
        }
        if (password.length() > MAX_PASSWORD) {
            hasher.burn(password.substring(0, MAX_PASSWORD));
            throttle.failed(email, clientAddress);
            throw badCredentials();
        }
        Optional<UserStore.Credentials> found = users.findByEmail(email);
        if (found.isEmpty()) {
            hasher.burn(password);
            throttle.failed(email, clientAddress);
            throw badCredentials();
        }
        if (!hasher.matches(password, found.get().passwordHash())) {
            throttle.failed(email, clientAddress);
            throw badCredentials();
        }
        throttle.succeeded(email, clientAddress);
        return startSession(found.get().user(), "password", clientAddress);
    }

    /** Signs the user in (a new session token) and records the sign-in in the audit log, in one transaction. */
    public Session startSession(User user, String method, String clientAddress) {
        Instant now = clock.instant();
        Instant expiresAt = now.plus(properties.auth().tokenTtl());
        String token = SecureTokens.random(SESSION_PREFIX, 32);
        transactions.executeWithoutResult(tx -> {
            sessions.create(
                    user.id(),
                    SecureTokens.sha256(token),
                    method,
                    now,
                    expiresAt,
                    properties.quotas().maxSessions());
            audit.record(
                    new Actor(personal(user.id()), user.id(), null, user.email(), clientAddress),
                    "user.signed_in",
                    "user",
                    user.id(),
                    Map.of("method", method));
        });
        return new Session(token, "Bearer", expiresAt, user);
    }

    private static DomainException badCredentials() {
        return new DomainException.NotAuthenticated("The email or password is incorrect.");
    }

    void logout(String token) {
        sessions.revoke(SecureTokens.sha256(token), clock.instant());
    }

    /** Where a user's own events (sign-ins, password changes) are recorded: their personal workspace. */
    private Long personal(long userId) {
        return memberships.find(userId, null).map(Membership::workspaceId).orElse(null);
    }

    /** The caller as the audit log records acts on their own account or on the instance: in their personal workspace. */
    Actor personalActor(Caller caller) {
        Actor actor = caller.actor();
        return new Actor(personal(caller.userId()), actor.userId(), actor.keyId(), actor.label(), actor.client());
    }

    /** A valid token's caller (not yet in a workspace) and, for an API key, the workspace the key belongs to. */
    record Authenticated(Caller caller, Long keyWorkspace) {}

    /** The caller a bearer token (login session or API key) stands for, if it is valid, unexpired and not revoked. */
    Optional<Authenticated> authenticate(String token) {
        if (token == null || token.isEmpty() || token.length() > 200) {
            return Optional.empty();
        }
        if (token.startsWith(API_KEY_PREFIX)) {
            return apiKeys.findOwner(SecureTokens.sha256(token), clock.instant())
                    .map(o -> new Authenticated(
                            new Caller(o.user(), token, o.scope(), o.keyId(), o.label(), null, null, null),
                            o.workspaceId()));
        }
        return sessions.findUser(SecureTokens.sha256(token), clock.instant())
                .map(f -> new Authenticated(
                        new Caller(f.user(), token, Scope.OWNER, null, null, f.method(), null, null), null));
    }

    /**
     * Checks the current password, stores the new one, revokes every other session of the user and deletes every API
     * key: whoever changes a password because it leaked should not have to remember the keys made with it.
     */
    void changePassword(Caller caller, Map<String, Object> body) {
        Fields fields = Fields.of(body);
        Object current = fields.raw("current_password");
        if (!(current instanceof String)) {
            fields.problem("current_password", current == null ? "is required" : "must be a string");
        }
        Map<String, Object> renamed = new HashMap<>();
        renamed.put("password", body == null ? null : body.get("new_password"));
        Fields newFields = Fields.of(renamed);
        String next = password(newFields);
        for (var p : newFields.problems()) {
            fields.problem("new_password", p.reason());
        }
        if (next != null && newFields.problems().isEmpty()) {
            PasswordPolicy.refusal(next, caller.user().email())
                    .ifPresent(reason -> fields.problem("new_password", reason));
        }
        fields.throwIfInvalid();
        UserStore.Credentials stored = users.findByEmail(caller.user().email())
                .orElseThrow(() -> new DomainException.NotAuthenticated("Account is gone."));
        if (!hasher.matches((String) current, stored.passwordHash())) {
            throw new DomainException.InvalidInput(
                    List.of(new FieldProblem("current_password", "is not your current password")));
        }
        String hash = hasher.hash(next);
        transactions.executeWithoutResult(tx -> {
            users.setPassword(caller.userId(), hash);
            sessions.revokeAllExcept(caller.userId(), SecureTokens.sha256(caller.token()), clock.instant());
            int keys = apiKeys.deleteAll(caller.userId());
            audit.record(
                    personalActor(caller),
                    "user.password_changed",
                    "user",
                    caller.userId(),
                    Map.of("password", AuditLog.CHANGED, "api_keys_deleted", keys));
        });
    }

    /** Deletes the API keys a member made in a workspace (they leave or are removed with them); returns how many. */
    public int deleteApiKeysOf(long workspaceId, long userId) {
        return apiKeys.deleteMadeBy(workspaceId, userId);
    }

    /** The account signed in to this browser by its session cookie (not an API key), if any. */
    public Optional<Long> signedInUser(HttpServletRequest request) {
        return authenticate(SessionCookie.read(request))
                .filter(a -> !a.caller().isApiKey())
                .map(a -> a.caller().userId());
    }
}
