package dev.kikonect.steps;

import dev.kikonect.common.DomainException;
import dev.kikonect.common.FieldProblem;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Dry runs: {@code {payload?, headers?, query?, trigger?, responses?, outcomes?}} against a workflow definition ({filter?, steps,
 * name?}), for {@code POST /workflows/test} and {@code POST /workflows/{id}/test}. Nothing is sent or stored.
 */
@Component
public class DryRuns {

    private final JsonMapper json;
    private final Clock clock;

    DryRuns(JsonMapper json, Clock clock) {
        this.json = json;
        this.clock = clock;
    }

    /** The dry run's answer; a definition that would not save is a 400 naming its fields ({@code workflow.steps[1].body}). */
    @SuppressWarnings("unchecked")
    public Map<String, Object> test(Map<String, Object> workflow, Long workflowId, Map<String, Object> body) {
        StepDefinitions.Definition definition;
        try {
            definition = StepDefinitions.parse((Map<String, Object>) workflow);
        } catch (DomainException.InvalidInput e) {
            // Fields named as in the request: workflow.steps[1].body.
            throw new DomainException.InvalidInput(e.problems().stream()
                    .map(p -> new FieldProblem("workflow." + p.field(), p.reason()))
                    .toList());
        }
        Object payload = body.containsKey("payload") ? body.get("payload") : Map.of();
        Map<String, Object> context = new LinkedHashMap<>();
        context.put("payload", payload);
        context.put("headers", lowerCased(object(body, "headers")));
        context.put("query", object(body, "query"));
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("id", null);
        run.put("trigger", body.getOrDefault("trigger", "manual"));
        run.put("created_at", clock.instant().toString());
        run.put("scheduled_for", null);
        context.put("run", run);
        Map<String, Object> wf = new LinkedHashMap<>();
        wf.put("id", workflowId);
        wf.put("name", ((Map<String, Object>) workflow).get("name"));
        context.put("workflow", wf);
        DryRun.Result result = new DryRun(StepRequests.toJson(json))
                .run(definition, json.writeValueAsString(payload), context, object(body, "responses"), outcomes(body));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("filtered", result.filtered());
        out.put("steps", result.steps().stream().map(DryRuns::view).toList());
        return out;
    }

    /** The sample {@code outcomes}: by step key, "succeeded" or "failed". */
    private static Map<String, String> outcomes(Map<String, Object> body) {
        Map<String, String> out = new LinkedHashMap<>();
        object(body, "outcomes").forEach((key, value) -> {
            if (!"succeeded".equals(value) && !"failed".equals(value)) {
                throw new DomainException.InvalidInput(
                        List.of(new FieldProblem("outcomes." + key, "must be succeeded or failed")));
            }
            out.put(key, (String) value);
        });
        return out;
    }

    private static Map<String, Object> view(DryRun.StepResult r) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("key", r.key());
        out.put("status", r.status());
        out.put("needs", r.needs());
        out.put("request", r.request());
        out.put("error", r.error());
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Map<String, Object> body, String field) {
        Object value = body.get(field);
        if (value == null) {
            return Map.of();
        }
        if (!(value instanceof Map<?, ?>)) {
            throw new DomainException.InvalidInput(List.of(new FieldProblem(field, "must be an object")));
        }
        return (Map<String, Object>) value;
    }

    private static Map<String, Object> lowerCased(Map<String, Object> headers) {
        Map<String, Object> out = new LinkedHashMap<>();
        headers.forEach((k, v) -> out.put(k.toLowerCase(Locale.ROOT), v));
        return out;
    }
}
