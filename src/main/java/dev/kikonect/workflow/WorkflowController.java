package dev.kikonect.workflow;

import dev.kikonect.auth.Caller;
import dev.kikonect.common.Page;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

@RestController
class WorkflowController {

  private final WorkflowService workflows;

  WorkflowController(WorkflowService workflows) {
    this.workflows = workflows;
  }

  @PostMapping("/workflows")
  @ResponseStatus(HttpStatus.CREATED)
  Workflow create(Caller caller, @RequestBody Map<String, Object> body) {
    return workflows.create(caller.userId(), body);
  }

  @GetMapping("/workflows")
  Page<Workflow> list(
      Caller caller, @RequestParam(required = false) String cursor, @RequestParam(required = false) Integer limit) {
    return workflows.list(caller.userId(), cursor, limit);
  }

  @PostMapping("/workflows/{id}/secret/rotate")
  Map<String, Object> rotateSecret(Caller caller, @PathVariable long id) {
    return workflows.rotateSecret(caller.userId(), id);
  }

  @GetMapping("/workflows/{id}")
  Workflow get(Caller caller, @PathVariable long id) {
    return workflows.get(caller.userId(), id);
  }
}
