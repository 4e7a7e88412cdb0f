package dev.kikonect.run;

import dev.kikonect.audit.AuditLog;
import dev.kikonect.auth.Caller;
import dev.kikonect.auth.Scope;
import dev.kikonect.auth.Scoped;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.FieldProblem;
import dev.kikonect.common.Page;
import dev.kikonect.lifecycle.AttemptView;
import dev.kikonect.lifecycle.Run;
import dev.kikonect.lifecycle.RunControl;
import dev.kikonect.lifecycle.RunFilter;
import dev.kikonect.lifecycle.WorkSignal;
import dev.kikonect.workflow.WorkflowService;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
class RunController {

    private final RunStore runs;
    private final RunStats stats;
    private final RunControl control;
    private final WorkflowService workflows;
    private final Clock clock;

    private final WorkSignal signal;

    private final AuditLog audit;
    private final TransactionTemplate transactions;

    RunController(
            RunStore runs,
            RunStats stats,
            RunControl control,
            WorkflowService workflows,
            Clock clock,
            WorkSignal signal,
            AuditLog audit,
            TransactionTemplate transactions) {
        this.audit = audit;
        this.transactions = transactions;
        this.signal = signal;
        this.runs = runs;
        this.stats = stats;
        this.control = control;
        this.workflows = workflows;
        this.clock = clock;
    }

    /** The dashboard's figures over every run of the caller in the last 24 hours, counted by the database. */
    @GetMapping("/stats")
    RunStats.Stats stats(Caller caller) {
        return stats.of(caller.workspaceId(), clock.instant());
    }

    /** One run with its attempt log. */
    @GetMapping("/runs/{id}")
    Run get(Caller caller, @PathVariable long id) {
        Run run = runs.findOwned(caller.workspaceId(), id).orElseThrow(() -> new DomainException.NotFound("Run " + id));
        List<AttemptView> log = runs.attempts(id);
        return run.withAttempts(log).withSteps(runs.steps(run, log));
    }

    @GetMapping("/workflows/{id}/runs")
    Page<Run> forWorkflow(
            Caller caller,
            @PathVariable long id,
            @RequestParam(required = false) String status,
            @RequestParam(required = false) String trigger,
            @RequestParam(name = "created_after", required = false) String createdAfter,
            @RequestParam(name = "created_before", required = false) String createdBefore,
            @RequestParam(required = false) String cursor,
            @RequestParam(required = false) Integer limit) {
        workflows.owned(caller.workspaceId(), id);
        return list(caller, id, status, trigger, createdAfter, createdBefore, cursor, limit);
    }

    /** All the caller's runs, newest first, filtered by workflow, status, trigger and creation time. */
    @GetMapping("/runs")
    Page<Run> all(
            Caller caller,
            @RequestParam(name = "workflow_id", required = false) Long workflowId,
            @RequestParam(required = false) String status,
            @RequestParam(required = false) String trigger,
            @RequestParam(name = "created_after", required = false) String createdAfter,
            @RequestParam(name = "created_before", required = false) String createdBefore,
            @RequestParam(required = false) String cursor,
            @RequestParam(required = false) Integer limit) {
        return list(caller, workflowId, status, trigger, createdAfter, createdBefore, cursor, limit);
    }

    private Page<Run> list(
            Caller caller,
            Long workflowId,
            String status,
            String trigger,
            String after,
            String before,
            String cursor,
            Integer limit) {
        List<FieldProblem> problems = new ArrayList<>();
        RunFilter filter = RunFilter.parse(workflowId, status, trigger, after, before, problems);
        if (!problems.isEmpty()) {
            throw new DomainException.InvalidInput(problems);
        }
        int pageSize = Page.limit(limit);
        return Page.of(runs.list(caller.workspaceId(), filter, Page.before(cursor), pageSize), pageSize, Run::id);
    }

    /**
     * Stops a run: every step not yet sent never is (a step being sent finishes and records its attempt). A run of a
     * one-step workflow can be cancelled while pending or retrying; a run with steps until it ends.
     */
    @Scoped(Scope.TRIGGER)
    @PostMapping("/runs/{id}/cancel")
    Run cancel(Caller caller, @PathVariable long id) {
        Run run = runs.findOwned(caller.workspaceId(), id).orElseThrow(() -> new DomainException.NotFound("Run " + id));
        Boolean cancelled = transactions.execute(tx -> {
            boolean done = control.cancel(caller.workspaceId(), id, clock.instant());
            if (done) {
                audit.record(
                        caller.actor(),
                        "run.cancelled",
                        "run",
                        id,
                        Map.of("status", Map.of("before", run.status().wire(), "after", "cancelled")));
            }
            return done;
        });
        if (!Boolean.TRUE.equals(cancelled)) {
            Run now = runs.findOwned(caller.workspaceId(), id).orElse(run);
            throw new DomainException.Conflict(
                    "run-not-cancellable",
                    "Run " + id + " is " + now.status().wire()
                            + "; only runs that have not ended can be cancelled (a one-step run while pending or retrying).");
        }
        return get(caller, id);
    }

    /**
     * Retries a failed run from its failure: only its failed steps and the steps skipped because of them run again,
     * reading the kept responses of the steps that succeeded (which are not sent again). Replay re-runs everything.
     */
    @Scoped(Scope.TRIGGER)
    @PostMapping("/runs/{id}/retry")
    ResponseEntity<Run> retry(Caller caller, @PathVariable long id) {
        Optional<RunControl.RetryRefusal> refused = transactions.execute(tx -> {
            Optional<RunControl.RetryRefusal> refusal = control.retry(caller.workspaceId(), id, clock.instant());
            if (refusal.isEmpty()) {
                audit.record(caller.actor(), "run.retried", "run", id, null);
            }
            return refusal;
        });
        if (refused.isPresent()) {
            switch (refused.get()) {
                case NOT_FOUND -> throw new DomainException.NotFound("Run " + id);
                case FILTER_FAILED ->
                    throw new DomainException.Conflict(
                            "run-not-retryable",
                            "Run " + id + " failed in its filter, before any step; replay it instead (POST /runs/" + id
                                    + "/replay).");
                case NOT_FAILED -> {
                    Run now = runs.findOwned(caller.workspaceId(), id)
                            .orElseThrow(() -> new DomainException.NotFound("Run " + id));
                    throw new DomainException.Conflict(
                            "run-not-retryable",
                            "Run " + id + " is " + now.status().wire()
                                    + "; only failed runs can be retried from their failure.");
                }
            }
        }
        signal.wake();
        return ResponseEntity.accepted().body(get(caller, id));
    }
}
