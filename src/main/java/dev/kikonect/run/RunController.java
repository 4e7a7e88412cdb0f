package dev.kikonect.run;

import dev.kikonect.auth.Caller;
import dev.kikonect.common.Page;
import dev.kikonect.web.ApiException;
import dev.kikonect.workflow.WorkflowService;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
class RunController {

  private final RunStore runs;
  private final WorkflowService workflows;

  RunController(RunStore runs, WorkflowService workflows) {
    this.runs = runs;
    this.workflows = workflows;
  }

  @GetMapping("/runs/{id}")
  Run get(Caller caller, @PathVariable long id) {
    return runs.findOwned(caller.userId(), id).orElseThrow(() -> ApiException.notFound("Run " + id));
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
}
