package dev.kikonect.workspace;

import dev.kikonect.audit.AuditLog;
import dev.kikonect.auth.Caller;
import dev.kikonect.auth.Scope;
import dev.kikonect.auth.Scoped;
import dev.kikonect.auth.UserLevel;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.FieldProblem;
import dev.kikonect.common.Page;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/**
 * Workspaces, members, invitations and the audit log. {@code /workspaces} and {@code /invitations/accept} act on the
 * signed-in user; everything else on the request's workspace ({@code KiKonect-Workspace}), like every other route.
 */
@RestController
class WorkspaceController {

    private final Workspaces workspaces;
    private final AuditLog audit;

    WorkspaceController(Workspaces workspaces, AuditLog audit) {
        this.workspaces = workspaces;
        this.audit = audit;
    }

    @UserLevel
    @Scoped(Scope.READ)
    @GetMapping("/workspaces")
    Map<String, List<WorkspaceStore.Workspace>> mine(Caller caller) {
        return Map.of("items", workspaces.mine(caller));
    }

    @UserLevel(sessionOnly = true)
    @PostMapping("/workspaces")
    @ResponseStatus(HttpStatus.CREATED)
    WorkspaceStore.Workspace create(Caller caller, @RequestBody Map<String, Object> body) {
        return workspaces.create(caller, body);
    }

    @UserLevel(sessionOnly = true)
    @PostMapping("/invitations/accept")
    WorkspaceStore.Workspace accept(Caller caller, @RequestBody Map<String, Object> body) {
        return workspaces.accept(caller, body);
    }

    @GetMapping("/workspace")
    WorkspaceStore.Workspace current(Caller caller) {
        return workspaces.current(caller);
    }

    @Scoped(Scope.ADMIN)
    @PatchMapping("/workspace")
    WorkspaceStore.Workspace update(Caller caller, @RequestBody Map<String, Object> body) {
        return workspaces.update(caller, body);
    }

    @Scoped(Scope.OWNER)
    @DeleteMapping("/workspace")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void delete(Caller caller) {
        workspaces.delete(caller);
    }

    @Scoped(Scope.OWNER)
    @PostMapping("/workspace/transfer")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void transfer(Caller caller, @RequestBody Map<String, Object> body) {
        workspaces.transfer(caller, body);
    }

    @GetMapping("/members")
    Map<String, List<WorkspaceStore.Member>> members(Caller caller) {
        return Map.of("items", workspaces.members(caller));
    }

    @Scoped(Scope.ADMIN)
    @PatchMapping("/members/{user_id}")
    WorkspaceStore.Member setRole(
            Caller caller, @PathVariable("user_id") long userId, @RequestBody Map<String, Object> body) {
        return workspaces.setRole(caller, userId, body);
    }

    /** An admin removes a member; any member removes themselves (leaves). Checked in {@link Workspaces#remove}. */
    @Scoped(Scope.READ)
    @DeleteMapping("/members/{user_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void remove(Caller caller, @PathVariable("user_id") long userId) {
        workspaces.remove(caller, userId);
    }

    @Scoped(Scope.ADMIN)
    @GetMapping("/invitations")
    Map<String, List<WorkspaceStore.Invitation>> invitations(Caller caller) {
        return Map.of("items", workspaces.invitations(caller));
    }

    @Scoped(Scope.ADMIN)
    @PostMapping("/invitations")
    @ResponseStatus(HttpStatus.CREATED)
    Map<String, Object> invite(Caller caller, @RequestBody Map<String, Object> body) {
        return workspaces.invite(caller, body);
    }

    @Scoped(Scope.ADMIN)
    @DeleteMapping("/invitations/{id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void revokeInvitation(Caller caller, @PathVariable long id) {
        workspaces.revokeInvitation(caller, id);
    }

    /** The workspace's audit log, newest first; owners and admins only. */
    @Scoped(Scope.ADMIN)
    @GetMapping("/audit")
    Page<AuditLog.Entry> audit(
            Caller caller,
            @RequestParam(required = false) String actor,
            @RequestParam(required = false) String action,
            @RequestParam(required = false, name = "object_type") String objectType,
            @RequestParam(required = false) String object,
            @RequestParam(required = false) String from,
            @RequestParam(required = false) String to,
            @RequestParam(required = false) String cursor,
            @RequestParam(required = false) Integer limit) {
        List<FieldProblem> problems = new ArrayList<>();
        Instant since = time("from", from, problems);
        Instant until = time("to", to, problems);
        if (!problems.isEmpty()) {
            throw new DomainException.InvalidInput(problems);
        }
        // object is "type:id" (workflow:42) or a bare type (workflow)
        String type = objectType;
        String id = null;
        if (object != null && !object.isBlank()) {
            int colon = object.indexOf(':');
            type = colon < 0 ? object : object.substring(0, colon);
            id = colon < 0 ? null : object.substring(colon + 1);
        }
        return audit.list(
                caller.workspaceId(),
                new AuditLog.Filter(blank(actor), blank(action), blank(type), blank(id), since, until),
                cursor,
                Page.limit(limit));
    }

    private static String blank(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }

    private static Instant time(String field, String value, List<FieldProblem> problems) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return OffsetDateTime.parse(value.strip()).toInstant();
        } catch (DateTimeParseException e) {
            problems.add(new FieldProblem(field, "must be an RFC 3339 time like 2026-11-26T10:00:00Z"));
            return null;
        }
    }
}
