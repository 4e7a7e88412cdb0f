package dev.kikonect.execution;

import dev.kikonect.lifecycle.ClaimedJob;
import dev.kikonect.steps.StepDefinitions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/**
 * What a step's expressions see: payload, headers and query (of the incoming webhook, when kept), run, workflow
 * and, for a step of a tracked run, {@code steps.<key>} for the steps it needs, directly or indirectly.
 */
final class StepContext {

    private final JsonMapper json;
    private final AttemptPipeline.StepReader reader;

    private final AttemptPipeline.Callbacks callbacks;

    StepContext(JsonMapper json, AttemptPipeline.StepReader reader, AttemptPipeline.Callbacks callbacks) {
        this.callbacks = callbacks;
        this.json = json;
        this.reader = reader;
    }

    /** The context without its payload (null: the caller parses it in the sandbox, with the step's expressions). */
    @SuppressWarnings("unchecked")
    Map<String, Object> of(ClaimedJob job, StepDefinitions.Definition definition, StepDefinitions.Step step) {
        Map<String, Object> context = new LinkedHashMap<>();
        context.put("payload", null);
        Map<String, Object> request = job.request() == null ? Map.of() : json.readValue(job.request(), Map.class);
        context.put("headers", request.getOrDefault("headers", Map.of()));
        context.put("query", request.getOrDefault("query", Map.of()));
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("id", job.runId());
        run.put("trigger", job.trigger());
        run.put("created_at", job.runCreatedAt().toString());
        run.put(
                "scheduled_for",
                job.scheduledFor() == null ? null : job.scheduledFor().toString());
        context.put("run", run);
        Map<String, Object> workflow = new LinkedHashMap<>();
        workflow.put("id", job.workflowId());
        workflow.put("name", job.workflowName());
        context.put("workflow", workflow);
        Map<String, Object> steps = new LinkedHashMap<>();
        List<String> ancestors = job.tracked() ? definition.ancestors(step) : List.of();
        if (!ancestors.isEmpty()) {
            reader.responses(job.runId(), ancestors).forEach((key, r) -> {
                Map<String, Object> view = new LinkedHashMap<>();
                view.put("status", r.status());
                view.put("timed_out", r.timedOut());
                if (r.error() != null) {
                    view.put("error", r.error());
                }
                boolean loops =
                        definition.step(key).map(StepDefinitions.Step::loops).orElse(false);
                if (loops && r.responseStatus() != null) {
                    // a for_each step: the list of its items' responses ({status, headers, body}) in item order, and
                    // each item's {index, status, error, response}
                    Object gathered = AttemptRecords.parsedBody(json, r.body());
                    if (gathered instanceof Map<?, ?> m) {
                        view.put("response", m.get(Loops.RESPONSES));
                        view.put("items", m.get(Loops.ITEMS));
                    }
                } else if (r.responseStatus() != null) {
                    Map<String, Object> response = new LinkedHashMap<>();
                    response.put("status", r.responseStatus());
                    response.put("headers", r.headers() == null ? Map.of() : json.readValue(r.headers(), Map.class));
                    response.put("body", AttemptRecords.parsedBody(json, r.body()));
                    view.put("response", response);
                }
                steps.put(key, view);
            });
        }
        context.put("steps", steps);
        if (job.tracked()) {
            // the resume URL of every step of the run that waits for a callback, from the start of the run
            Map<String, Object> waits = new LinkedHashMap<>();
            for (String key : definition.callbacks()) {
                waits.put(key, Map.of("url", callbacks.url(job.runId(), key)));
            }
            context.put("waits", waits);
        }
        if (step.runIf() == StepDefinitions.RunIf.ANY_FAILED) {
            // An error path reads the first failed step it needs as `failed`: {key, error, response}.
            step.needs().stream()
                    .filter(key -> steps.get(key) instanceof Map<?, ?> view && "failed".equals(view.get("status")))
                    .findFirst()
                    .ifPresent(key -> {
                        Map<String, Object> view = (Map<String, Object>) steps.get(key);
                        Map<String, Object> failed = new LinkedHashMap<>();
                        failed.put("key", key);
                        failed.put("error", view.get("error"));
                        failed.put("response", view.get("response"));
                        context.put("failed", failed);
                    });
        }
        return context;
    }

    /**
     * Whether a step's {@code run_if} lets it start, its needs having finished with {@code statuses} (by key): any
     * succeeded, any failed, or always; a step without run_if started only because every need succeeded.
     */
    static boolean runIfHolds(StepDefinitions.Step step, Map<String, String> statuses) {
        return switch (step.runIf()) {
            case ALL_SUCCEEDED -> step.needs().stream().allMatch(k -> "succeeded".equals(statuses.get(k)));
            case ANY_SUCCEEDED -> step.needs().stream().anyMatch(k -> "succeeded".equals(statuses.get(k)));
            case ANY_FAILED -> step.needs().stream().anyMatch(k -> "failed".equals(statuses.get(k)));
            case ALWAYS -> true;
        };
    }
}
