package dev.kikonect.auth;

import dev.kikonect.audit.AuditLog;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.Fields;
import dev.kikonect.common.Page;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The instance administrator's routes: who may register (over {@code kikonect.auth.registration}, at once on every
 * node) and who else is an instance administrator. The first registered user is one (on an upgraded instance, the
 * oldest user). Instance administration is a person's act: a login session, never an API key (API keys belong to a
 * workspace). Others get 403 {@code instance-admin-required}. Changes go to the audit log of the administrator's
 * personal workspace.
 */
@RestController
@UserLevel(sessionOnly = true)
class InstanceController {

    private final InstanceSettings settings;
    private final UserStore users;
    private final AuthService auth;
    private final AuditLog audit;
    private final TransactionTemplate transactions;
    private final Clock clock;
    private final String version;

    InstanceController(
            InstanceSettings settings,
            UserStore users,
            AuthService auth,
            AuditLog audit,
            TransactionTemplate transactions,
            Clock clock) {
        this.settings = settings;
        this.users = users;
        this.auth = auth;
        this.audit = audit;
        this.transactions = transactions;
        this.clock = clock;
        String v = InstanceController.class.getPackage().getImplementationVersion();
        this.version = v == null ? "development" : v;
    }

    record Instance(String version, String registration, String registrationSource, String configuredRegistration) {}

    record InstanceUser(
            long id,
            String email,
            String firstname,
            String lastname,
            Instant createdAt,
            boolean instanceAdmin,
            int workspaces) {}

    @Scoped(Scope.READ)
    @GetMapping("/instance")
    Instance instance(Caller caller) {
        requireAdmin(caller);
        return instance();
    }

    /** {@code registration}: open, invitation (or invite), closed, or null to follow the configuration again. */
    @Scoped(Scope.ADMIN)
    @PatchMapping("/instance")
    Instance change(Caller caller, @RequestBody Map<String, Object> body) {
        requireAdmin(caller);
        Fields fields = Fields.of(body);
        for (String field : body.keySet()) {
            if (!field.equals("registration")) {
                fields.problem(field, "is not a setting; the settings are: registration");
            }
        }
        String mode = null;
        if (!body.containsKey("registration")) {
            fields.problem(
                    "registration",
                    "is required (open, invitation, closed, or null to follow kikonect.auth.registration)");
        } else if (body.get("registration") != null) {
            mode = fields.string("registration", false, 1, 20);
            if ("invite".equals(mode)) {
                mode = "invitation";
            }
            if (mode != null && !List.of("open", "invitation", "closed").contains(mode)) {
                fields.problem(
                        "registration",
                        "must be open, invitation, closed, or null to follow kikonect.auth.registration");
            }
        }
        fields.throwIfInvalid();
        String before = settings.registration().mode();
        String chosen = mode;
        transactions.executeWithoutResult(tx -> {
            settings.setRegistration(chosen, caller.userId(), clock.instant());
            Map<String, Object> changes = new LinkedHashMap<>();
            changes.put("registration", Map.of("before", before, "after", chosen == null ? "configuration" : chosen));
            audit.record(auth.personalActor(caller), "instance.settings_changed", "instance", null, changes);
        });
        return instance();
    }

    /** Every user of the instance, newest first. */
    @Scoped(Scope.READ)
    @GetMapping("/instance/users")
    Page<InstanceUser> users(
            Caller caller,
            @RequestParam(required = false) Integer limit,
            @RequestParam(required = false) String cursor) {
        requireAdmin(caller);
        int n = Page.limit(limit);
        List<InstanceUser> rows = users.list(Page.before(cursor), n + 1).stream()
                .map(InstanceController::listed)
                .toList();
        return Page.of(rows, n, InstanceUser::id);
    }

    /** {@code instance_admin}: true makes the user an instance administrator, false takes it away (never from the last one). */
    @Scoped(Scope.ADMIN)
    @PatchMapping("/instance/users/{user_id}")
    InstanceUser changeUser(Caller caller, @PathVariable("user_id") long id, @RequestBody Map<String, Object> body) {
        requireAdmin(caller);
        Fields fields = Fields.of(body);
        for (String field : body.keySet()) {
            if (!field.equals("instance_admin")) {
                fields.problem(field, "cannot be changed here; only instance_admin can");
            }
        }
        Boolean admin = fields.bool("instance_admin");
        if (admin == null && fields.valid()) {
            fields.problem("instance_admin", "is required (true or false)");
        }
        fields.throwIfInvalid();
        transactions.executeWithoutResult(tx -> {
            users.lockFirstUser();
            User target = users.find(id).orElseThrow(() -> new DomainException.NotFound("User " + id + " not found."));
            users.setInstanceAdmin(id, admin)
                    .orElseThrow(() -> new DomainException.Conflict(
                            "last-instance-admin",
                            "User " + id + " is the last instance administrator: make someone else one first."));
            if (target.instanceAdmin() != admin) {
                audit.record(
                        auth.personalActor(caller),
                        admin ? "user.instance_admin_granted" : "user.instance_admin_revoked",
                        "user",
                        id,
                        Map.of("instance_admin", Map.of("before", target.instanceAdmin(), "after", admin)));
            }
        });
        return listed(users.listed(id).orElseThrow(() -> new DomainException.NotFound("User " + id + " not found.")));
    }

    private static InstanceUser listed(Map.Entry<User, Integer> entry) {
        User u = entry.getKey();
        return new InstanceUser(
                u.id(), u.email(), u.firstname(), u.lastname(), u.createdAt(), u.instanceAdmin(), entry.getValue());
    }

    private Instance instance() {
        InstanceSettings.Registration registration = settings.registration();
        return new Instance(version, registration.mode(), registration.source(), registration.configured());
    }

    /**
     * Whether the caller is an instance administrator now (read from the database, not from when the session started).
     */
    private void requireAdmin(Caller caller) {
        if (!users.find(caller.userId()).map(User::instanceAdmin).orElse(false)) {
            throw new DomainException.Forbidden(
                    "instance-admin-required",
                    "Only an instance administrator may do this (the first registered user is one).");
        }
    }
}
