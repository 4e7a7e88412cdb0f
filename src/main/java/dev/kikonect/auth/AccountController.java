package dev.kikonect.auth;

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
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/** API keys and password changes: an admin's business (a login session, or an API key with scope admin). */
@RestController
@Scoped(Scope.ADMIN)
class AccountController {

  private final ApiKeyStore keys;
  private final AuthService auth;
  private final Clock clock;

  private final int maxKeys;

  private final AccountThrottle throttle;

  AccountController(ApiKeyStore keys, AuthService auth, Clock clock, dev.kikonect.KiKonectProperties properties, AccountThrottle throttle) {
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
    Scope scope = scopeName == null ? Scope.WRITE : Scope.parse(scopeName).orElse(null);
    if (scopeName != null && scope == null) {
      fields.problem("scope", "must be one of read, trigger, write, admin");
    } else if (scope != null && !caller.scope().covers(scope)) {
      fields.problem("scope", "must not be above your own scope (" + caller.scope().wire() + ")");
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
    ApiKeyStore.ApiKey created =
        keys.create(caller.userId(), name, scope, SecureTokens.sha256(key), key.substring(0, 12), expiresAt, now, maxKeys)
            .orElseThrow(
                () ->
                    new DomainException.QuotaExceeded(
                        "kikonect.quotas.max-api-keys", "You have " + maxKeys + " API keys, the most one account may have; delete one first."));
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("id", created.id());
    result.put("name", created.name());
    result.put("scope", created.scope());
    result.put("key", key);
    result.put("prefix", created.prefix());
    result.put("created_at", created.createdAt());
    result.put("last_used_at", null);
    result.put("expires_at", created.expiresAt());
    return result;
  }

  @GetMapping("/api-keys")
  Map<String, List<ApiKeyStore.ApiKey>> list(Caller caller) {
    return Map.of("items", keys.list(caller.userId()));
  }

  @DeleteMapping("/api-keys/{id}")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  void delete(Caller caller, @PathVariable long id) {
    if (!keys.delete(caller.userId(), id)) {
      throw new DomainException.NotFound("API key " + id);
    }
  }

  /** Changes the password and signs out every other session of the user. */
  @PostMapping("/password")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  void changePassword(Caller caller, @RequestBody Map<String, Object> body) {
    throttle.changePassword(caller.userId());
    auth.changePassword(caller, body);
  }
}
