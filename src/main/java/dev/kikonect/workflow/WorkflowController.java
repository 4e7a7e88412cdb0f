package dev.kikonect.workflow;

import dev.kikonect.audit.AuditLog;
import dev.kikonect.auth.Caller;
import dev.kikonect.auth.Role;
import dev.kikonect.auth.Scope;
import dev.kikonect.auth.Scoped;
import dev.kikonect.common.Page;
import dev.kikonect.steps.DryRuns;
import dev.kikonect.steps.ExpressionSandbox;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.http.HttpStatus;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

@RestController
class WorkflowController {

    private final WorkflowService workflows;
    private final DryRuns dryRuns;
    private final JsonMapper json;
    private final AuditLog audit;
    private final TransactionTemplate transactions;

    WorkflowController(
            WorkflowService workflows,
            DryRuns dryRuns,
            JsonMapper json,
            AuditLog audit,
            TransactionTemplate transactions) {
        this.audit = audit;
        this.transactions = transactions;
        this.workflows = workflows;
        this.dryRuns = dryRuns;
        this.json = json;
    }

    /**
     * The dry run of a saved workflow: {@code {payload, headers?, query?, trigger?, responses?}}; what each step would
     * send, or the error with its position. Nothing is sent or stored.
     */
    @PostMapping("/workflows/{id}/test")
    @Scoped(Scope.READ)
    Map<String, Object> test(Caller caller, @PathVariable long id, @RequestBody Map<String, Object> body) {
        StoredWorkflow w = workflows.owned(caller.workspaceId(), id);
        Map<String, Object> definition = new LinkedHashMap<>();
        definition.put("name", w.name());
        if (w.filter() != null) {
            definition.put("filter", w.filter());
        }
        definition.put("steps", json.readValue(w.steps(), List.class));
        Map<String, Object> request = new LinkedHashMap<>(body);
        request.putIfAbsent("trigger", w.triggerType().wire());
        return ExpressionSandbox.onBehalfOf(caller.workspaceId(), () -> dryRuns.test(definition, w.id(), request));
    }

    @PostMapping("/workflows")
    @ResponseStatus(HttpStatus.CREATED)
    Workflow create(Caller caller, @RequestBody Map<String, Object> body) {
        return workflows.create(
                caller.workspaceId(),
                body,
                created -> audit.record(
                        caller.actor(), "workflow.created", "workflow", created.id(), changes(null, created)));
    }

    @GetMapping("/workflows")
    Page<Workflow> list(
            Caller caller,
            @RequestParam(name = "trigger_type", required = false) String triggerType,
            @RequestParam(required = false) Boolean enabled,
            @RequestParam(required = false) String cursor,
            @RequestParam(required = false) Integer limit) {
        Page<Workflow> page = workflows.list(caller.workspaceId(), triggerType, enabled, cursor, limit);
        return new Page<>(page.items().stream().map(w -> forRole(caller, w)).toList(), page.nextCursor());
    }

    @GetMapping("/workflows/{id}")
    Workflow get(Caller caller, @PathVariable long id) {
        return forRole(caller, workflows.get(caller.workspaceId(), id));
    }

    @PatchMapping("/workflows/{id}")
    Workflow update(Caller caller, @PathVariable long id, @RequestBody Map<String, Object> body) {
        return workflows.update(
                caller.workspaceId(),
                id,
                body,
                (before, after) ->
                        audit.record(caller.actor(), "workflow.updated", "workflow", id, changes(before, after)));
    }

    @DeleteMapping("/workflows/{id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void delete(Caller caller, @PathVariable long id) {
        transactions.executeWithoutResult(tx -> {
            Workflow before = workflows.get(caller.workspaceId(), id);
            workflows.delete(caller.workspaceId(), id);
            audit.record(caller.actor(), "workflow.deleted", "workflow", id, changes(before, null));
        });
    }

    @PostMapping("/workflows/{id}/secret/rotate")
    Map<String, Object> rotateSecret(Caller caller, @PathVariable long id) {
        return transactions.execute(tx -> {
            Map<String, Object> rotated = workflows.rotateSecret(caller.workspaceId(), id);
            audit.record(
                    caller.actor(),
                    "workflow.secret_rotated",
                    "workflow",
                    id,
                    Map.of("signing_secret", AuditLog.CHANGED));
            return rotated;
        });
    }

    @PostMapping("/workflows/{id}/token/rotate")
    Workflow rotateToken(Caller caller, @PathVariable long id) {
        return transactions.execute(tx -> {
            Workflow rotated = workflows.rotateToken(caller.workspaceId(), id);
            audit.record(
                    caller.actor(),
                    "workflow.token_rotated",
                    "workflow",
                    id,
                    Map.of("webhook_token", AuditLog.CHANGED));
            return rotated;
        });
    }

    /** Fields of a workflow that are not history (last run, next fire time, updated_at) and not secret. */
    private static final Set<String> UNAUDITED = Set.of(
            "id",
            "next_run_at",
            "last_fired_at",
            "last_run_status",
            "last_run_at",
            "created_at",
            "updated_at",
            "signing_secret",
            "webhook_url");

    /** What changed between two views of a workflow; the webhook token (in trigger_config) only as [changed]. */
    private Map<String, Object> changes(Workflow before, Workflow after) {
        return AuditLog.diff(auditable(before), auditable(after), Set.of("webhook_token"));
    }

    private Map<String, Object> auditable(Workflow w) {
        if (w == null) {
            return null;
        }
        Map<String, Object> view = new LinkedHashMap<>(json.readValue(json.writeValueAsString(w), MAP));
        UNAUDITED.forEach(view::remove);
        if (view.get("trigger_config") instanceof Map<?, ?> config && config.containsKey("token")) {
            Map<String, Object> rest = new LinkedHashMap<>(json.convertValue(config, MAP));
            view.put("webhook_token", rest.remove("token"));
            view.put("trigger_config", rest);
        }
        return view;
    }

    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

    /** A viewer reads workflows without what would let them trigger one: no webhook URL, no token in trigger_config. */
    private Workflow forRole(Caller caller, Workflow w) {
        if (caller.role() != Role.VIEWER || w.webhookUrl() == null) {
            return w;
        }
        Map<String, Object> config = new LinkedHashMap<>(json.readValue(w.triggerConfig(), MAP));
        config.remove("token");
        if (config.containsKey("secret")) {
            config.put("secret", "[hidden]"); // a viewer sees that senders are verified, not with what
        }
        return w.forViewer(json.writeValueAsString(config));
    }

    @GetMapping("/workflows/{id}/schedule")
    Map<String, Object> schedule(Caller caller, @PathVariable long id, @RequestParam(required = false) Integer count) {
        return workflows.schedule(caller.workspaceId(), id, count);
    }

    @Scoped(Scope.READ)
    @PostMapping("/schedule/preview")
    Map<String, Object> preview(Caller caller, @RequestBody Map<String, Object> body) {
        return workflows.preview(body);
    }
}
