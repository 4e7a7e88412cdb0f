package dev.kikonect.trigger;

import dev.kikonect.auth.Caller;
import dev.kikonect.auth.PublicEndpoint;
import dev.kikonect.run.Run;
import dev.kikonect.web.ApiException;
import dev.kikonect.workflow.StoredWorkflow;
import dev.kikonect.workflow.TriggerType;
import dev.kikonect.workflow.WorkflowService;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/** The two entry points that fire a workflow on request: manual triggers and webhooks. */
@RestController
class TriggerController {

  private final WorkflowService workflows;
  private final Triggerer triggerer;
  private final PayloadReader payloads;

  TriggerController(WorkflowService workflows, Triggerer triggerer, PayloadReader payloads) {
    this.workflows = workflows;
    this.triggerer = triggerer;
    this.payloads = payloads;
  }

  @PostMapping("/workflows/{id}/trigger")
  ResponseEntity<Run> trigger(Caller caller, @PathVariable long id, HttpServletRequest request) {
    StoredWorkflow workflow = workflows.owned(caller.userId(), id);
    requireEnabled(workflow);
    String payload = payloads.read(request);
    return accepted(triggerer.enqueue(workflow.id(), workflow.userId(), "manual", payload));
  }

  /** No login: the unguessable token in the URL is the credential. */
  @PublicEndpoint
  @PostMapping("/hooks/{token}")
  ResponseEntity<Run> hook(@PathVariable String token, HttpServletRequest request) {
    StoredWorkflow workflow =
        workflows
            .byWebhookToken(token)
            .filter(w -> w.triggerType() == TriggerType.WEBHOOK)
            .orElseThrow(() -> ApiException.notFound("Webhook"));
    requireEnabled(workflow);
    String payload = payloads.read(request);
    return accepted(triggerer.enqueue(workflow.id(), workflow.userId(), "webhook", payload));
  }

  private static void requireEnabled(StoredWorkflow workflow) {
    if (!workflow.enabled()) {
      throw ApiException.conflict("workflow-paused", "Workflow " + workflow.id() + " is paused; resume it to accept triggers.");
    }
  }

  private static ResponseEntity<Run> accepted(Run run) {
    return ResponseEntity.accepted().location(URI.create("/runs/" + run.id())).body(run);
  }
}
