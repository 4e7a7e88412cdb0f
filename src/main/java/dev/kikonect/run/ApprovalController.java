package dev.kikonect.run;

import dev.kikonect.audit.AuditLog;
import dev.kikonect.auth.Caller;
import dev.kikonect.auth.Role;
import dev.kikonect.auth.Scope;
import dev.kikonect.auth.Scoped;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.FieldProblem;
import dev.kikonect.lifecycle.Resumes;
import dev.kikonect.lifecycle.WorkSignal;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.json.JsonMapper;

/**
 * Approvals ({@code wait: {for: approval}}): what waits for a decision in the workspace ({@code GET /approvals}), and
 * the decision ({@code POST /runs/{id}/steps/{key}/approve} or {@code /reject}, with an optional comment) by a member
 * whose role is one of the step's roles or above one. The decision is recorded once, in the step (its response:
 * {approved, by, comment, at}) and in the audit log; a rejection fails the step.
 */
@RestController
class ApprovalController {

    private final Resumes resumes;
    private final RunStore runs;
    private final AuditLog audit;
    private final WorkSignal signal;
    private final JsonMapper json;
    private final Clock clock;

    ApprovalController(
            Resumes resumes, RunStore runs, AuditLog audit, WorkSignal signal, JsonMapper json, Clock clock) {
        this.resumes = resumes;
        this.runs = runs;
        this.audit = audit;
        this.signal = signal;
        this.json = json;
        this.clock = clock;
    }

    /** The caller's role here: a member's, capped by an API key's scope. */
    private static Role role(Caller caller) {
        Role member = caller.membership().role();
        if (caller.keyId() == null) {
            return member;
        }
        Role key = Role.of(caller.scope());
        return key.atLeast(member) ? member : key;
    }

    private static boolean mayDecide(Role role, List<String> roles) {
        return roles.stream().map(Role::parse).flatMap(Optional::stream).anyMatch(role::atLeast);
    }

    @Scoped(Scope.READ)
    @GetMapping("/approvals")
    Map<String, Object> list(Caller caller) {
        Role role = role(caller);
        List<Map<String, Object>> items = resumes.pending(caller.workspaceId()).stream()
                .map(p -> {
                    Map<String, Object> item = new LinkedHashMap<>();
                    item.put("run_id", p.runId());
                    item.put("workflow_id", p.workflowId());
                    item.put("workflow_name", p.workflowName());
                    item.put("step", p.step());
                    item.put("message", p.message());
                    item.put("roles", p.roles());
                    item.put("payload", json.readValue(p.payload(), Object.class));
                    item.put("waiting_since", p.waitingSince().toString());
                    item.put(
                            "times_out_at",
                            p.timesOutAt() == null ? null : p.timesOutAt().toString());
                    item.put("may_decide", mayDecide(role, p.roles()));
                    return item;
                })
                .toList();
        return Map.of("items", items);
    }

    @Scoped(Scope.READ)
    @PostMapping("/runs/{id}/steps/{key}/approve")
    Map<String, Object> approve(
            Caller caller,
            @PathVariable long id,
            @PathVariable String key,
            @RequestBody(required = false) Map<String, Object> body) {
        return decide(caller, id, key, true, body);
    }

    @Scoped(Scope.READ)
    @PostMapping("/runs/{id}/steps/{key}/reject")
    Map<String, Object> reject(
            Caller caller,
            @PathVariable long id,
            @PathVariable String key,
            @RequestBody(required = false) Map<String, Object> body) {
        return decide(caller, id, key, false, body);
    }

    private Map<String, Object> decide(Caller caller, long id, String key, boolean approved, Map<String, Object> body) {
        Object comment = body == null ? null : body.get("comment");
        if (comment != null && (!(comment instanceof String text) || text.length() > 2000)) {
            throw new DomainException.InvalidInput(
                    List.of(new FieldProblem("comment", "must be a text of at most 2,000 characters")));
        }
        runs.findOwned(caller.workspaceId(), id).orElseThrow(() -> new DomainException.NotFound("Run " + id));
        List<String> roles = resumes.approvers(caller.workspaceId(), id, key)
                .orElseThrow(() -> new DomainException.Conflict(
                        "not-an-approval", "Step " + key + " of run " + id + " does not wait for an approval."));
        if (!mayDecide(role(caller), roles)) {
            throw new DomainException.Forbidden(
                    "approver-role",
                    "Deciding step " + key + " of run " + id + " needs one of the roles " + String.join(", ", roles)
                            + " (or one above them); you are " + role(caller).wire() + ".");
        }
        Instant now = clock.instant();
        Map<String, Object> decision = new LinkedHashMap<>();
        decision.put("approved", approved);
        decision.put("by", caller.user().email());
        decision.put("comment", comment);
        decision.put("at", now.toString());
        switch (resumes.decide(id, key, json.writeValueAsString(decision), now)) {
            case RESUMED -> {
                Map<String, Object> changes = new LinkedHashMap<>();
                changes.put("step", key);
                changes.put("comment", comment);
                audit.record(caller.actor(), approved ? "run.step_approved" : "run.step_rejected", "run", id, changes);
                signal.wake();
            }
            case ALREADY ->
                throw new DomainException.Conflict(
                        "approval-decided",
                        "Step " + key + " of run " + id + " was decided already, or its run ended.");
            case NOT_FOUND -> throw new DomainException.NotFound("A waiting approval " + key + " of run " + id);
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("run_id", id);
        answer.put("step", key);
        answer.put("decision", approved ? "approved" : "rejected");
        return answer;
    }
}
