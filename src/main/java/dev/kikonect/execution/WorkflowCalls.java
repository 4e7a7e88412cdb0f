package dev.kikonect.execution;

import dev.kikonect.lifecycle.ClaimedJob;
import dev.kikonect.lifecycle.Completions;
import dev.kikonect.lifecycle.Next;
import dev.kikonect.lifecycle.SubRuns;
import dev.kikonect.steps.BoundedJson;
import dev.kikonect.steps.ExpressionException;
import dev.kikonect.steps.ExpressionSandbox;
import dev.kikonect.steps.StepDefinitions;
import dev.kikonect.steps.WorkflowOutputs;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.json.JsonMapper;

/**
 * A step that runs another workflow ({@code workflow}): its first claim starts the child run with the step's body (or
 * the run's payload) and gives its job up, so the step waits holding nothing; when the child ends, the step gets a job
 * again ({@link SubRuns#resumeEnded}) and its claim completes the step as the child ended: succeeded with the child's
 * response (its last step's), failed with its error, skipped when the child's filter stopped it.
 */
final class WorkflowCalls {

    /** The database side ({@link SubRuns}); an interface so the pipeline's unit tests need no database. */
    interface Store {
        Optional<SubRuns.Child> child(long runId, String step);

        SubRuns.Started start(ClaimedJob job, long workflow, String payload, Instant now);

        Optional<SubRuns.Result> result(long childRunId);

        List<SubRuns.StepResult> steps(long childRunId);
    }

    /** No sub-workflows (a unit test's pipeline): a workflow step fails. */
    static final Store NONE = new Store() {
        @Override
        public Optional<SubRuns.Child> child(long runId, String step) {
            return Optional.empty();
        }

        @Override
        public SubRuns.Started start(ClaimedJob job, long workflow, String payload, Instant now) {
            return SubRuns.Started.MISSING;
        }

        @Override
        public Optional<SubRuns.Result> result(long childRunId) {
            return Optional.empty();
        }

        @Override
        public List<SubRuns.StepResult> steps(long childRunId) {
            return List.of();
        }
    };

    private final Store store;
    private final Clock clock;
    private final JsonMapper json;

    /** The largest output a step keeps ({@code kikonect.delivery.max-kept-response}), as a response. */
    private final int maxOutputBytes;

    WorkflowCalls(Store store, Clock clock, JsonMapper json, int maxOutputBytes) {
        this.store = store;
        this.clock = clock;
        this.json = json;
        this.maxOutputBytes = maxOutputBytes;
    }

    /**
     * When the step already has a child: the outcome (the child ended and the step was resumed), or parked again (the
     * job came back while the child runs: a lost lease); empty when the step has no child yet.
     */
    Optional<AttemptPipeline.Outcome> resume(ClaimedJob job, StepDefinitions.Step step, Instant started) {
        Optional<SubRuns.Child> child = store.child(job.runId(), job.step());
        if (child.isEmpty()) {
            return Optional.empty();
        }
        if (!child.get().resumed()) {
            SubRuns.Started again = store.start(job, step.workflow(), "{}", clock.instant());
            return Optional.of(
                    again == SubRuns.Started.LOST
                            ? new AttemptPipeline.Outcome.Abandon()
                            : new AttemptPipeline.Outcome.Parked());
        }
        long childRun = child.get().childRunId();
        Optional<SubRuns.Result> result = store.result(childRun);
        if (result.isEmpty()) {
            return Optional.of(failed(job, started, "workflow: run " + childRun + " no longer exists"));
        }
        SubRuns.Result r = result.get();
        if ("succeeded".equals(r.status()) && r.output() != null) {
            return Optional.of(output(job, childRun, r, started));
        }
        return Optional.of(
                switch (r.status()) {
                    case "succeeded" ->
                        new AttemptPipeline.Outcome.Complete(
                                Next.SUCCEEDED,
                                null,
                                null,
                                r.responseStatus() == null
                                        ? null
                                        : new Completions.KeptResponse(
                                                r.responseStatus(),
                                                r.responseHeaders() == null ? "{}" : r.responseHeaders(),
                                                r.responseBody()));
                    case "filtered", "skipped" -> new AttemptPipeline.Outcome.Complete(Next.SKIPPED, null, null, null);
                    case "cancelled" -> failed(job, started, "workflow: run " + childRun + " was cancelled");
                    default ->
                        failed(
                                job,
                                started,
                                "workflow: run " + childRun + " failed" + (r.error() == null ? "" : ": " + r.error()));
                });
    }

    /**
     * The step's response when the child's workflow has an {@code output}: its value over the child's payload and
     * steps, as a 200 with that JSON body. An output that fails fails the step; a busy sandbox defers it.
     */
    @SuppressWarnings("unchecked")
    private AttemptPipeline.Outcome output(ClaimedJob job, long childRun, SubRuns.Result r, Instant started) {
        Map<String, Object> steps = new LinkedHashMap<>();
        for (SubRuns.StepResult step : store.steps(childRun)) {
            Map<String, Object> view = new LinkedHashMap<>();
            view.put("status", step.status());
            if (step.responseStatus() != null) {
                Map<String, Object> response = new LinkedHashMap<>();
                response.put("status", step.responseStatus());
                response.put(
                        "headers",
                        step.responseHeaders() == null ? Map.of() : json.readValue(step.responseHeaders(), Map.class));
                response.put("body", AttemptRecords.parsedBody(json, step.responseBody()));
                view.put("response", response);
            }
            steps.put(step.key(), view);
        }
        Map<String, Object> context = new LinkedHashMap<>();
        context.put("payload", AttemptRecords.parsedBody(json, r.payload()));
        context.put("steps", steps);
        try {
            String value = ExpressionSandbox.onBehalfOf(
                    r.workspaceId(),
                    () -> WorkflowOutputs.evaluate(r.output(), context, BoundedJson.writer(json, maxOutputBytes)));
            return new AttemptPipeline.Outcome.Complete(
                    Next.SUCCEEDED, null, null, new Completions.KeptResponse(200, "{}", value));
        } catch (ExpressionException e) {
            if (e.busy()) {
                return new AttemptPipeline.Outcome.Defer("expressions_busy");
            }
            return failed(job, started, "workflow: run " + childRun + "'s output: " + e.reason());
        } catch (BoundedJson.TooLarge e) {
            return failed(
                    job,
                    started,
                    "workflow: run " + childRun + "'s output is larger than " + BoundedJson.size(maxOutputBytes)
                            + " (kikonect.delivery.max-kept-response)");
        }
    }

    /** Starts the child run with {@code body} (the step's body, or the run's payload) and parks the step. */
    AttemptPipeline.Outcome start(ClaimedJob job, StepDefinitions.Step step, byte[] body, Instant started) {
        String payload = body == null ? "{}" : new String(body, StandardCharsets.UTF_8);
        return switch (store.start(job, step.workflow(), payload, clock.instant())) {
            case STARTED, ALREADY -> new AttemptPipeline.Outcome.Parked();
            case LOST -> new AttemptPipeline.Outcome.Abandon();
            case TOO_DEEP ->
                failed(job, started, "workflow: sub-workflows nest at most " + SubRuns.MAX_DEPTH + " deep");
            case MISSING ->
                failed(job, started, "workflow: " + step.workflow() + " is paused, deleted or not of this workspace");
        };
    }

    private AttemptPipeline.Outcome failed(ClaimedJob job, Instant started, String error) {
        return new AttemptPipeline.Outcome.Complete(
                Next.FAILED, AttemptRecords.failedBeforeSending(job, started, clock.instant(), error), null, null);
    }
}
