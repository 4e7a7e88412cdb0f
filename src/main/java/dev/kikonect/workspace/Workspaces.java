package dev.kikonect.workspace;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.audit.Actor;
import dev.kikonect.audit.AuditLog;
import dev.kikonect.auth.AuthService;
import dev.kikonect.auth.Caller;
import dev.kikonect.auth.Role;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.Fields;
import dev.kikonect.common.PublicUrls;
import dev.kikonect.common.SecureTokens;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Workspaces, their members and invitations. Every change is audited in its own transaction; role changes and
 * removals lock the workspace row first, so that two admins demoting the last two owners at once cannot leave a
 * workspace without one.
 */
@Service
class Workspaces {

    static final String INVITATION_PREFIX = "kki_";
    private static final Pattern EMAIL = Pattern.compile("^[^\\s@]+@[^\\s@.]+(\\.[^\\s@.]+)+$");

    private final WorkspaceStore store;
    private final AuditLog audit;
    private final TransactionTemplate transactions;
    private final Clock clock;
    private final KiKonectProperties.Workspaces settings;
    private final PublicUrls urls;
    private final InvitationMailer mailer;
    private final AuthService auth;

    Workspaces(
            WorkspaceStore store,
            AuditLog audit,
            TransactionTemplate transactions,
            Clock clock,
            KiKonectProperties properties,
            PublicUrls urls,
            InvitationMailer mailer,
            AuthService auth) {
        this.store = store;
        this.audit = audit;
        this.transactions = transactions;
        this.clock = clock;
        this.settings = properties.workspaces();
        this.urls = urls;
        this.mailer = mailer;
        this.auth = auth;
    }

    List<WorkspaceStore.Workspace> mine(Caller caller) {
        return store.listOf(caller.userId());
    }

    WorkspaceStore.Workspace create(Caller caller, Map<String, Object> body) {
        Fields fields = Fields.of(body);
        String name = fields.string("name", true, 1, 100);
        fields.throwIfInvalid();
        return transactions.execute(tx -> {
            WorkspaceStore.Workspace created = store.create(caller.userId(), name, clock.instant(), settings.maxOwned())
                    .orElseThrow(() -> new DomainException.QuotaExceeded(
                            "kikonect.workspaces.max-owned",
                            "You own " + settings.maxOwned()
                                    + " workspaces, the most one user may; delete one first."));
            audit.record(
                    new Actor(created.id(), caller.userId(), null, caller.user().email(), caller.client()),
                    "workspace.created",
                    "workspace",
                    created.id(),
                    Map.of("name", Map.of("after", name)));
            return created;
        });
    }

    WorkspaceStore.Workspace current(Caller caller) {
        return store.get(caller.workspaceId(), caller.userId())
                .orElseThrow(() -> new DomainException.NotFound("Workspace " + caller.workspaceId()));
    }

    WorkspaceStore.Workspace update(Caller caller, Map<String, Object> body) {
        Fields fields = Fields.of(body);
        String name = fields.string("name", false, 1, 100);
        Boolean requireSso = fields.bool("require_sso");
        fields.throwIfInvalid();
        transactions.executeWithoutResult(tx -> {
            WorkspaceStore.Workspace before = current(caller);
            store.update(caller.workspaceId(), name, requireSso);
            WorkspaceStore.Workspace after = current(caller);
            Map<String, Object> changes = AuditLog.diff(
                    Map.of("name", before.name(), "require_sso", before.requireSso()),
                    Map.of("name", after.name(), "require_sso", after.requireSso()),
                    Set.of());
            audit.record(caller.actor(), "workspace.updated", "workspace", caller.workspaceId(), changes);
        });
        return current(caller);
    }

    void delete(Caller caller) {
        transactions.executeWithoutResult(tx -> {
            WorkspaceStore.Workspace workspace = current(caller);
            audit.record(
                    caller.actor(),
                    "workspace.deleted",
                    "workspace",
                    caller.workspaceId(),
                    Map.of("name", Map.of("before", workspace.name())));
            if (!store.delete(caller.workspaceId())) {
                throw new DomainException.Conflict(
                        "personal-workspace", "A personal workspace cannot be deleted; it goes with its user.");
            }
        });
    }

    List<WorkspaceStore.Member> members(Caller caller) {
        return store.members(caller.workspaceId());
    }

    /**
     * Gives a member another role. Admins manage editors and viewers (and other admins); making, unmaking or being an
     * owner needs an owner. The last owner cannot be demoted.
     */
    WorkspaceStore.Member setRole(Caller caller, long userId, Map<String, Object> body) {
        if (!store.isMember(caller.workspaceId(), userId)) { // the object first, as for every route: 404 before 400
            throw new DomainException.NotFound("Member " + userId);
        }
        Fields fields = Fields.of(body);
        String wire = fields.string("role", true, 1, 20);
        Role role = wire == null ? null : Role.parse(wire).orElse(null);
        if (wire != null && role == null) {
            fields.problem("role", "must be one of owner, admin, editor, viewer");
        }
        fields.throwIfInvalid();
        transactions.executeWithoutResult(tx -> {
            long workspace = caller.workspaceId();
            Role was = store.lockRole(workspace, userId)
                    .orElseThrow(() -> new DomainException.NotFound("Member " + userId));
            if ((was == Role.OWNER || role == Role.OWNER) && caller.role() != Role.OWNER) {
                throw new DomainException.Forbidden("insufficient-role", "Only an owner may make or unmake an owner.");
            }
            if (was == Role.OWNER && role != Role.OWNER && store.owners(workspace) == 1) {
                throw new DomainException.Conflict(
                        "last-owner", "This is the workspace's last owner: make someone else owner first.");
            }
            store.setRole(workspace, userId, role);
            audit.record(
                    caller.actor(),
                    "member.role_changed",
                    "member",
                    userId,
                    Map.of("role", Map.of("before", was.wire(), "after", role.wire())));
        });
        return store.members(caller.workspaceId()).stream()
                .filter(m -> m.userId() == userId)
                .findFirst()
                .orElseThrow();
    }

    /** Removes a member (an admin's act) or leaves (anyone, for themselves); never the last owner. */
    void remove(Caller caller, long userId) {
        boolean self = userId == caller.userId();
        if (!self && !caller.role().atLeast(Role.ADMIN)) {
            throw new DomainException.Forbidden(
                    "insufficient-role",
                    "Your role in this workspace is " + caller.role().wire() + "; removing others needs admin.");
        }
        if (self && caller.isApiKey()) {
            throw new DomainException.Forbidden(
                    "session-required", "An API key cannot make its maker leave a workspace.");
        }
        transactions.executeWithoutResult(tx -> {
            long workspace = caller.workspaceId();
            Role was = store.lockRole(workspace, userId)
                    .orElseThrow(() -> new DomainException.NotFound("Member " + userId));
            if (was == Role.OWNER && !self && caller.role() != Role.OWNER) {
                throw new DomainException.Forbidden("insufficient-role", "Only an owner may remove an owner.");
            }
            if (was == Role.OWNER && store.owners(workspace) == 1) {
                throw new DomainException.Conflict(
                        "last-owner",
                        self
                                ? "You are the last owner: make someone else owner first, or delete the workspace."
                                : "This is the last owner.");
            }
            store.remove(workspace, userId);
            int keys = auth.deleteApiKeysOf(workspace, userId);
            audit.record(
                    caller.actor(),
                    self ? "member.left" : "member.removed",
                    "member",
                    userId,
                    Map.of("role", Map.of("before", was.wire()), "api_keys_deleted", keys));
        });
    }

    /** Makes another member owner and the caller admin, in one step. */
    void transfer(Caller caller, Map<String, Object> body) {
        Fields fields = Fields.of(body);
        Long to = fields.integer("user_id", true, 1, Long.MAX_VALUE);
        fields.throwIfInvalid();
        if (to.longValue() == caller.userId()) {
            throw new DomainException.InvalidInput("user_id", "must be another member");
        }
        if (current(caller).personal()) {
            // Its user would be left with no workspace of their own (and it would go on being "theirs" by personal_of).
            throw new DomainException.Conflict(
                    "personal-workspace", "A personal workspace cannot be handed over; it goes with its user.");
        }
        transactions.executeWithoutResult(tx -> {
            long workspace = caller.workspaceId();
            Role was = store.lockRole(workspace, to)
                    .orElseThrow(
                            () -> new DomainException.InvalidInput("user_id", "is not a member of this workspace"));
            store.setRole(workspace, to, Role.OWNER);
            store.setRole(workspace, caller.userId(), Role.ADMIN);
            audit.record(
                    caller.actor(),
                    "workspace.ownership_transferred",
                    "member",
                    to,
                    Map.of(
                            "role",
                            Map.of("before", was.wire(), "after", "owner"),
                            "previous_owner",
                            Map.of("user_id", caller.userId(), "after", "admin")));
        });
    }

    /** A new invitation; the link is in the answer (and mailed when mail is configured). */
    Map<String, Object> invite(Caller caller, Map<String, Object> body) {
        Fields fields = Fields.of(body);
        String email = fields.string("email", true, 3, 254);
        if (email != null && !EMAIL.matcher(email).matches()) {
            fields.problem("email", "must be an email address like name@example.com");
        }
        String wire = fields.string("role", false, 1, 20);
        Role role = wire == null ? Role.EDITOR : Role.parse(wire).orElse(null);
        if (role == null) {
            fields.problem("role", "must be one of owner, admin, editor, viewer");
        } else if (role == Role.OWNER && caller.role() != Role.OWNER) {
            fields.problem("role", "only an owner may invite an owner");
        }
        fields.throwIfInvalid();
        String token = SecureTokens.random(INVITATION_PREFIX, 32);
        Instant now = clock.instant();
        WorkspaceStore.Invitation invitation = transactions.execute(tx -> {
            WorkspaceStore.Invitation created = store.invite(
                            caller.workspaceId(),
                            email.toLowerCase(Locale.ROOT),
                            role,
                            SecureTokens.sha256(token),
                            caller.userId(),
                            now,
                            now.plus(settings.invitationTtl()),
                            settings.maxPendingInvitations())
                    .orElseThrow(() -> new DomainException.QuotaExceeded(
                            "kikonect.workspaces.max-pending-invitations",
                            "This workspace has " + settings.maxPendingInvitations()
                                    + " open invitations; revoke some or wait for them to be used."));
            audit.record(
                    caller.actor(),
                    "invitation.created",
                    "invitation",
                    created.id(),
                    Map.of("email", Map.of("after", created.email()), "role", Map.of("after", created.role())));
            return created;
        });
        String link = urls.base() + "/app/#/invitations/" + token;
        String workspaceName = current(caller).name();
        boolean mailed =
                mailer.send(invitation.email(), caller.user(), workspaceName, role, link, invitation.expiresAt());
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("id", invitation.id());
        result.put("email", invitation.email());
        result.put("role", invitation.role());
        result.put("created_at", invitation.createdAt());
        result.put("expires_at", invitation.expiresAt());
        result.put("link", link);
        result.put("mailed", mailed);
        return result;
    }

    List<WorkspaceStore.Invitation> invitations(Caller caller) {
        return store.pendingInvitations(caller.workspaceId(), clock.instant());
    }

    void revokeInvitation(Caller caller, long id) {
        transactions.executeWithoutResult(tx -> {
            WorkspaceStore.Invitation gone = store.deleteInvitation(caller.workspaceId(), id)
                    .orElseThrow(() -> new DomainException.NotFound("Invitation " + id));
            audit.record(
                    caller.actor(),
                    "invitation.revoked",
                    "invitation",
                    id,
                    Map.of("email", Map.of("before", gone.email())));
        });
    }

    /**
     * Accepts an invitation: once, before it expires, by the user whose email it was sent to. Answers the workspace
     * joined.
     */
    WorkspaceStore.Workspace accept(Caller caller, Map<String, Object> body) {
        Fields fields = Fields.of(body);
        String token = fields.string("token", true, 1, 200);
        fields.throwIfInvalid();
        long workspace = transactions.execute(tx -> {
            WorkspaceStore.Pending pending = store.lockInvitation(SecureTokens.sha256(token))
                    .orElseThrow(() -> new DomainException.NotFound("Invitation"));
            Instant now = clock.instant();
            if (pending.acceptedAt() != null) {
                throw new DomainException.Conflict(
                        "invitation-used", "This invitation has been used already; ask for a new one.");
            }
            if (!pending.expiresAt().isAfter(now)) {
                throw new DomainException.Conflict(
                        "invitation-expired",
                        "This invitation expired at " + pending.expiresAt() + "; ask for a new one.");
            }
            if (!pending.email().equalsIgnoreCase(caller.user().email())) {
                throw new DomainException.Forbidden(
                        "invitation-for-someone-else",
                        "This invitation is for another email address; sign in as the person it was sent to.");
            }
            if (store.isMember(pending.workspaceId(), caller.userId())) {
                throw new DomainException.Conflict("already-member", "You are a member of this workspace already.");
            }
            Role role = Role.parse(pending.role()).orElseThrow();
            if (!store.add(pending.workspaceId(), caller.userId(), role, now, settings.maxMembers())) {
                throw new DomainException.QuotaExceeded(
                        "kikonect.workspaces.max-members",
                        "This workspace has " + settings.maxMembers() + " members, the most one may have.");
            }
            store.accepted(pending.id(), caller.userId(), now);
            audit.record(
                    new Actor(
                            pending.workspaceId(),
                            caller.userId(),
                            null,
                            caller.user().email(),
                            caller.client()),
                    "member.joined",
                    "member",
                    caller.userId(),
                    Map.of("role", Map.of("after", role.wire()), "invitation", pending.id()));
            return pending.workspaceId();
        });
        return store.get(workspace, caller.userId()).orElseThrow();
    }
}
