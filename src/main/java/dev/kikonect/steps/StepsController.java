package dev.kikonect.steps;

import dev.kikonect.auth.Caller;
import dev.kikonect.auth.Scope;
import dev.kikonect.auth.Scoped;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.FieldProblem;
import java.util.List;
import java.util.Map;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * The dry run of a workflow with steps: {@code POST /workflows/test {workflow: {filter?, steps}, payload?, headers?,
 * query?, responses?}} checks the definition (a 400 naming every bad field, as a save would) and returns per step
 * what would be sent, or the error with its field and position. Nothing is sent and nothing is stored.
 */
@RestController
class StepsController {

    private final DryRuns dryRuns;

    StepsController(DryRuns dryRuns) {
        this.dryRuns = dryRuns;
    }

    @PostMapping("/workflows/test")
    @Scoped(Scope.READ)
    @SuppressWarnings("unchecked")
    Map<String, Object> test(Caller caller, @RequestBody Map<String, Object> body) {
        if (!(body.get("workflow") instanceof Map<?, ?> workflow)) {
            throw new DomainException.InvalidInput(
                    List.of(new FieldProblem("workflow", "is required: {filter?, steps}")));
        }
        return ExpressionSandbox.onBehalfOf(
                caller.workspaceId(), () -> dryRuns.test((Map<String, Object>) workflow, null, body));
    }
}
