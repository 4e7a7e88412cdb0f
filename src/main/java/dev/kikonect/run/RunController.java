package dev.kikonect.run;

import dev.kikonect.auth.Caller;
import dev.kikonect.common.Page;
import dev.kikonect.web.ApiException;
import dev.kikonect.workflow.WorkflowService;
import java.time.Clock;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
class RunController {

  private final RunStore runs;
  private final WorkflowService workflows;
  private final Clock clock;

  RunController(RunStore runs, WorkflowService workflows, Clock clock) {
    this.runs = runs;
    this.workflows = workflows;
    this.clock = clock;
  }

  /** One run with its attempt log. */
  @GetMapping("/runs/{id}")
  Run get(Caller caller, @PathVariable long id) {
    Run run = runs.findOwned(caller.userId(), id).orElseThrow(() -> ApiException.notFound("Run " + id));
    return run.withAttempts(runs.attempts(id));
  }

  @GetMapping("/workflows/{id}/runs")
  Page<Run> forWorkflow(
      Caller caller,
      @PathVariable long id,
      @RequestParam(required = false) String cursor,
      @RequestParam(required = false) Integer limit) {
    workflows.owned(caller.userId(), id);
    int pageSize = Page.limit(limit);
    return Page.of(runs.listForWorkflow(caller.userId(), id, Page.before(cursor), pageSize), pageSize, Run::id);
  }

  /** Stops a pending or retrying run: its next attempt never happens. */
  @PostMapping("/runs/{id}/cancel")
  Run cancel(Caller caller, @PathVariable long id) {
    Run run = runs.findOwned(caller.userId(), id).orElseThrow(() -> ApiException.notFound("Run " + id));
    if (!runs.cancel(caller.userId(), id, clock.instant())) {
      Run now = runs.findOwned(caller.userId(), id).orElse(run);
      throw ApiException.conflict(
          "run-not-cancellable", "Run " + id + " is " + now.status() + "; only pending or retrying runs can be cancelled.");
    }
    return get(caller, id);
  }
}
