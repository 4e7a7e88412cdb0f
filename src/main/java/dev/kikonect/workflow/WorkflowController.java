package dev.kikonect.workflow;

import dev.kikonect.auth.Scope;
import dev.kikonect.auth.Scoped;
import dev.kikonect.auth.Caller;
import dev.kikonect.common.Page;
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

@RestController
class WorkflowController {

  private final WorkflowService workflows;
  private final dev.kikonect.steps.DryRuns dryRuns;
  private final tools.jackson.databind.json.JsonMapper json;

  WorkflowController(WorkflowService workflows, dev.kikonect.steps.DryRuns dryRuns, tools.jackson.databind.json.JsonMapper json) {
    this.workflows = workflows;
    this.dryRuns = dryRuns;
    this.json = json;
  }

  /**
   * The dry run of a saved workflow: {@code {payload, headers?, query?, trigger?, responses?}}; what each step would
   * send, or the error with its position. Nothing is sent or stored.
   */
  @PostMapping("/workflows/{id}/test")
  @dev.kikonect.auth.Scoped(dev.kikonect.auth.Scope.READ)
  Map<String, Object> test(Caller caller, @PathVariable long id, @RequestBody Map<String, Object> body) {
    StoredWorkflow w = workflows.owned(caller.userId(), id);
    Map<String, Object> definition = new java.util.LinkedHashMap<>();
    definition.put("name", w.name());
    if (w.filter() != null) {
      definition.put("filter", w.filter());
    }
    definition.put("steps", json.readValue(w.steps(), java.util.List.class));
    Map<String, Object> request = new java.util.LinkedHashMap<>(body);
    request.putIfAbsent("trigger", w.triggerType().wire());
    return dryRuns.test(definition, w.id(), request);
  }

  @PostMapping("/workflows")
  @ResponseStatus(HttpStatus.CREATED)
  Workflow create(Caller caller, @RequestBody Map<String, Object> body) {
    return workflows.create(caller.userId(), body);
  }

  @GetMapping("/workflows")
  Page<Workflow> list(
      Caller caller,
      @RequestParam(name = "trigger_type", required = false) String triggerType,
      @RequestParam(required = false) Boolean enabled,
      @RequestParam(required = false) String cursor,
      @RequestParam(required = false) Integer limit) {
    return workflows.list(caller.userId(), triggerType, enabled, cursor, limit);
  }

  @GetMapping("/workflows/{id}")
  Workflow get(Caller caller, @PathVariable long id) {
    return workflows.get(caller.userId(), id);
  }

  @PatchMapping("/workflows/{id}")
  Workflow update(Caller caller, @PathVariable long id, @RequestBody Map<String, Object> body) {
    return workflows.update(caller.userId(), id, body);
  }

  @DeleteMapping("/workflows/{id}")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  void delete(Caller caller, @PathVariable long id) {
    workflows.delete(caller.userId(), id);
  }

  @PostMapping("/workflows/{id}/secret/rotate")
  Map<String, Object> rotateSecret(Caller caller, @PathVariable long id) {
    return workflows.rotateSecret(caller.userId(), id);
  }

  @PostMapping("/workflows/{id}/token/rotate")
  Workflow rotateToken(Caller caller, @PathVariable long id) {
    return workflows.rotateToken(caller.userId(), id);
  }

  @GetMapping("/workflows/{id}/schedule")
  Map<String, Object> schedule(Caller caller, @PathVariable long id, @RequestParam(required = false) Integer count) {
    return workflows.schedule(caller.userId(), id, count);
  }

  @Scoped(Scope.READ)
  @PostMapping("/schedule/preview")
  Map<String, Object> preview(Caller caller, @RequestBody Map<String, Object> body) {
    return workflows.preview(body);
  }
}
