package dev.kikonect.steps;

import dev.kikonect.auth.Caller;
import dev.kikonect.auth.Scope;
import dev.kikonect.auth.Scoped;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.FieldProblem;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.json.JsonMapper;

/**
 * The dry run of a workflow with steps: {@code POST /workflows/test {workflow: {filter?, steps}, payload?, headers?,
 * query?, responses?}} checks the definition (a 400 naming every bad field, as a save would) and returns per step
 * what would be sent, or the error with its field and position. Nothing is sent and nothing is stored.
 */
@RestController
class StepsController {

  private final JsonMapper json;
  private final java.time.Clock clock;

  StepsController(JsonMapper json, java.time.Clock clock) {
    this.json = json;
    this.clock = clock;
  }

  @PostMapping("/workflows/test")
  @Scoped(Scope.READ)
  @SuppressWarnings("unchecked")
  Map<String, Object> test(Caller caller, @RequestBody Map<String, Object> body) {
    if (!(body.get("workflow") instanceof Map<?, ?> workflow)) {
      throw new DomainException.InvalidInput(List.of(new FieldProblem("workflow", "is required: {filter?, steps}")));
    }
    StepDefinitions.Definition definition;
    try {
      definition = StepDefinitions.parse((Map<String, Object>) workflow);
    } catch (DomainException.InvalidInput e) {
      // Fields named as in the request: workflow.steps[1].body.
      throw new DomainException.InvalidInput(
          e.problems().stream().map(p -> new FieldProblem("workflow." + p.field(), p.reason())).toList());
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
    wf.put("id", null);
    wf.put("name", ((Map<String, Object>) workflow).get("name"));
    context.put("workflow", wf);
    DryRun.Result result = new DryRun(json::writeValueAsString)
        .run(definition, json.writeValueAsString(payload), context, object(body, "responses"));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("filtered", result.filtered());
    out.put("steps", result.steps().stream().map(StepsController::view).toList());
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
