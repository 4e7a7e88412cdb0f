package dev.kikonect.credentials;

import dev.kikonect.audit.AuditLog;
import dev.kikonect.auth.Caller;
import dev.kikonect.auth.Scope;
import dev.kikonect.auth.Scoped;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.http.HttpStatus;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** The credentials API: owner-scoped (another user's credential answers 404), never a secret in an answer. */
@RestController
class CredentialController {

    private final Credentials credentials;
    private final AuditLog audit;
    private final TransactionTemplate transactions;
    private final JsonMapper json;

    CredentialController(Credentials credentials, AuditLog audit, TransactionTemplate transactions, JsonMapper json) {
        this.credentials = credentials;
        this.audit = audit;
        this.transactions = transactions;
        this.json = json;
    }

    /** Name, type and non-secret fields before and after; the secret fields only as [changed]. */
    private Map<String, Object> changes(Credential before, Credential after, boolean secretChanged) {
        Map<String, Object> changes = AuditLog.diff(view(before), view(after), Set.of());
        if (secretChanged) {
            changes.put("secret", AuditLog.CHANGED);
        }
        return changes;
    }

    private Map<String, Object> view(Credential c) {
        if (c == null) {
            return null;
        }
        Map<String, Object> all =
                json.readValue(json.writeValueAsString(c), new TypeReference<Map<String, Object>>() {});
        Map<String, Object> kept = new LinkedHashMap<>();
        for (String key : List.of("name", "type", "fields")) {
            kept.put(key, all.get(key));
        }
        return kept;
    }

    @PostMapping("/credentials")
    @ResponseStatus(HttpStatus.CREATED)
    @Scoped(Scope.ADMIN)
    Credential create(Caller caller, @RequestBody Map<String, Object> body) {
        return credentials.create(
                caller.workspaceId(),
                body,
                made -> audit.record(
                        caller.actor(), "credential.created", "credential", made.id(), changes(null, made, true)));
    }

    @GetMapping("/credentials")
    Map<String, List<Credential>> list(Caller caller) {
        return Map.of("items", credentials.list(caller.workspaceId()));
    }

    @GetMapping("/credentials/{id}")
    Credential get(Caller caller, @PathVariable long id) {
        return credentials.get(caller.workspaceId(), id);
    }

    @PutMapping("/credentials/{id}")
    @Scoped(Scope.ADMIN)
    Credential replace(Caller caller, @PathVariable long id, @RequestBody Map<String, Object> body) {
        return credentials.replace(
                caller.workspaceId(),
                id,
                body,
                (before, after) -> audit.record(
                        caller.actor(), "credential.replaced", "credential", id, changes(before, after, true)));
    }

    @DeleteMapping("/credentials/{id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    @Scoped(Scope.ADMIN)
    void delete(Caller caller, @PathVariable long id) {
        transactions.executeWithoutResult(tx -> {
            Credential before = credentials.get(caller.workspaceId(), id);
            credentials.delete(caller.workspaceId(), id);
            audit.record(caller.actor(), "credential.deleted", "credential", id, changes(before, null, false));
        });
    }
}
