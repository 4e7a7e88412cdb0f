package dev.kikonect.auth;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.audit.AuditLog;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.Fields;
import dev.kikonect.common.SecureTokens;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/**
 * API keys (a workspace's, made by its admins, never above the maker's role) and password changes (the user's own:
 * a login session, or an API key with scope admin).
 */
@RestController
@Scoped(Scope.ADMIN)
class AccountController {

    private final ApiKeyStore keys;
    private final AuthService auth;
    private final Clock clock;

    private final int maxKeys;

    private final AccountThrottle throttle;
    private final AuditLog audit;
    private final TransactionTemplate transactions;

    AccountController(
            ApiKeyStore keys,
            AuthService auth,
            Clock clock,
            KiKonectProperties properties,
            AccountThrottle throttle,
            AuditLog audit,
            TransactionTemplate transactions) {
        this.audit = audit;
        this.transactions = transactions;
        this.throttle = throttle;
        this.maxKeys = properties.quotas().maxApiKeys();
        this.keys = keys;
        this.auth = auth;
        this.clock = clock;
    }

    /** A new key, shown this once; it works as a Bearer token until deleted or expired. */
    @PostMapping("/api-keys")
    @ResponseStatus(HttpStatus.CREATED)
    Map<String, Object> create(Caller caller, @RequestBody Map<String, Object> body) {
        Fields fields = Fields.of(body);
        String name = fields.string("name", true, 1, 100);
        String expires = fields.string("expires_at", false, 1, 64);
        String scopeName = fields.string("scope", false, 1, 20);
        String roleName = fields.string("role", false, 1, 20);
        Scope scope;
        String field = "scope";
        if (roleName != null) {
            // a role names the scope at its ceiling: viewer = read, editor = write, admin = admin
            field = "role";
            scope = Role.parse(roleName)
                    .filter(r -> r != Role.OWNER)
                    .map(Role::ceiling)
                    .orElse(null);
            if (scope == null) {
                fields.problem("role", "must be one of viewer, editor, admin");
            } else if (scopeName != null) {
                fields.problem("scope", "give role or scope, not both");
            }
        } else {
            scope = scopeName == null
                    ? Scope.WRITE
                    : Scope.parse(scopeName).filter(s -> s != Scope.OWNER).orElse(null);
            if (scopeName != null && scope == null) {
                fields.problem("scope", "must be one of read, trigger, write, admin");
            }
        }
        if (scope != null && !caller.effectiveScope().covers(scope)) {
            fields.problem(
                    field,
                    "must not be above your own ("
                            + (caller.isApiKey()
                                    ? "scope " + caller.scope().wire()
                                    : "role " + caller.role().wire()) + ")");
        }
        Instant now = clock.instant();
        Instant expiresAt = null;
        if (expires != null) {
            try {
                expiresAt = OffsetDateTime.parse(expires).toInstant();
                if (!expiresAt.isAfter(now)) {
                    fields.problem("expires_at", "must be in the future");
                }
            } catch (DateTimeParseException e) {
                fields.problem("expires_at", "must be an ISO-8601 time with offset, like 2027-01-01T00:00:00Z");
            }
        }
        fields.throwIfInvalid();
        String key = SecureTokens.random(AuthService.API_KEY_PREFIX, 32);
        Instant expiry = expiresAt;
        ApiKeyStore.ApiKey created = transactions.execute(tx -> {
            ApiKeyStore.ApiKey made = keys.create(
                            caller.workspaceId(),
                            caller.userId(),
                            name,
                            scope,
                            SecureTokens.sha256(key),
                            key.substring(0, 12),
                            expiry,
                            now,
                            maxKeys)
                    .orElseThrow(() -> new DomainException.QuotaExceeded(
                            "kikonect.quotas.max-api-keys",
                            "This workspace has " + maxKeys
                                    + " API keys, the most one workspace may have; delete one first."));
            audit.record(
                    caller.actor(),
                    "api_key.created",
                    "api_key",
                    made.id(),
                    Map.of(
                            "name",
                            Map.of("after", made.name()),
                            "scope",
                            Map.of("after", made.scope()),
                            "key",
                            AuditLog.CHANGED));
            return made;
        });
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("id", created.id());
        result.put("name", created.name());
        result.put("scope", created.scope());
        result.put("role", created.role());
        result.put("key", key);
        result.put("prefix", created.prefix());
        result.put("created_at", created.createdAt());
        result.put("last_used_at", null);
        result.put("expires_at", created.expiresAt());
        result.put("created_by", created.createdBy());
        return result;
    }

    @GetMapping("/api-keys")
    Map<String, List<ApiKeyStore.ApiKey>> list(Caller caller) {
        return Map.of("items", keys.list(caller.workspaceId()));
    }

    @DeleteMapping("/api-keys/{id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void delete(Caller caller, @PathVariable long id) {
        transactions.executeWithoutResult(tx -> {
            ApiKeyStore.ApiKey gone = keys.delete(caller.workspaceId(), id)
                    .orElseThrow(() -> new DomainException.NotFound("API key " + id));
            audit.record(
                    caller.actor(), "api_key.deleted", "api_key", id, Map.of("name", Map.of("before", gone.name())));
        });
    }

    /**
     * Changes the password and signs out every other session of the user. A signed-in person only: an API key acts in
     * one workspace with a role there, and must not reach its maker's account (a key made before its maker was demoted
     * once could change the maker's password).
     */
    @UserLevel(sessionOnly = true)
    @PostMapping("/password")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void changePassword(Caller caller, @RequestBody Map<String, Object> body) {
        throttle.changePassword(caller.userId());
        auth.changePassword(caller, body);
    }
}
