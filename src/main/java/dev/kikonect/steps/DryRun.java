package dev.kikonect.steps;

import com.dashjoin.jsonata.Jsonata;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Evaluates a workflow's filter and steps against a sample payload without sending anything: per step, what WOULD be
 * sent (method, URL, headers, body) or the error with its field and position. Steps are taken in dependency order;
 * a step that needs others reads their sample {@code responses} as {@code steps.<key>}.
 */
final class DryRun {

    /** A whole dry run's time: each step has its own expression budget, and 20 steps of them would add up. */
    static final Duration TOTAL = Duration.ofSeconds(2);

    /**
     * What one step would do. {@code status}: would_send, skipped (its {@code when} is false), error, or not_reached
     * (its needs would not end as its {@code run_if} asks: the reason says which).
     */
    record StepResult(
            String key, String status, Map<String, Object> request, Map<String, Object> error, List<String> needs) {}

    record Result(boolean filtered, List<StepResult> steps) {}

    private final Function<Object, String> toJson;

    DryRun(Function<Object, String> toJson) {
        this.toJson = toJson;
    }

    /**
     * @param payloadText the payload as it would arrive (sent byte for byte by a step without {@code body})
     * @param context payload, headers, query, run and workflow, as expressions see them
     * @param responses sample responses of steps, by key: {status, headers, body}
     */
    Result run(
            StepDefinitions.Definition definition,
            String payloadText,
            Map<String, Object> context,
            Map<String, Object> responses) {
        return run(definition, payloadText, context, responses, Map.of());
    }

    /**
     * As {@link #run(StepDefinitions.Definition, String, Map, Map)}, with sample {@code outcomes} by key ("succeeded"
     * or "failed", for a step that would send; default succeeded): which steps after them would start ({@code
     * run_if}), and what an error path reads as {@code failed}.
     */
    Result run(
            StepDefinitions.Definition definition,
            String payloadText,
            Map<String, Object> context,
            Map<String, Object> responses,
            Map<String, String> outcomes) {
        if (definition.filter() != null) {
            Object pass;
            try {
                pass = definition.filter().evaluate(context);
            } catch (ExpressionException e) {
                if (e.busy()) {
                    throw Filters.busy();
                }
                return new Result(false, List.of(new StepResult(null, "error", null, error(e), List.of())));
            }
            if (!Jsonata.boolize(plain(pass))) {
                return new Result(true, List.of());
            }
        }
        List<StepResult> results = new ArrayList<>();
        Map<String, String> outcome = new LinkedHashMap<>();
        long deadline = System.nanoTime() + TOTAL.toNanos();
        for (StepDefinitions.Step step : definition.steps()) {
            if (System.nanoTime() - deadline > 0) {
                outcome.put(step.key(), "not_reached");
                results.add(new StepResult(
                        step.key(),
                        "not_reached",
                        null,
                        Map.of("reason", "the dry run took its " + TOTAL.toSeconds() + " s before this step"),
                        step.needs()));
                continue;
            }
            // How each step before this one ends in this dry run: a step that would send succeeds unless its sample
            // outcome says it fails; an expression error fails it; a false when, or not starting, skips it.
            Map<String, String> ended = new LinkedHashMap<>();
            outcome.forEach((key, status) -> ended.put(
                    key,
                    switch (status) {
                        case "would_send" -> "failed".equals(outcomes.get(key)) ? "failed" : "succeeded";
                        case "error" -> "failed";
                        default -> "skipped";
                    }));
            String reason = notStarting(step, outcome, ended);
            if (reason != null) {
                outcome.put(step.key(), "not_reached");
                results.add(new StepResult(step.key(), "not_reached", null, Map.of("reason", reason), step.needs()));
                continue;
            }
            Map<String, Object> stepContext = new LinkedHashMap<>(context);
            // each run gets its own resume URLs; the dry run shows where they would go
            Map<String, Object> waits = new LinkedHashMap<>();
            definition
                    .callbacks()
                    .forEach(key -> waits.put(key, Map.of("url", "/resume/<the run's token for " + key + ">")));
            stepContext.put("waits", waits);
            Map<String, Object> steps = new LinkedHashMap<>();
            for (String need : definition.ancestors(step)) {
                Object sample = responses.get(need);
                Map<String, Object> view = new LinkedHashMap<>();
                view.put("status", ended.getOrDefault(need, "skipped"));
                if ("failed".equals(ended.get(need))) {
                    view.put("error", "the sample outcome");
                }
                if (sample != null) {
                    view.put("response", sample);
                }
                steps.put(need, view);
            }
            stepContext.put("steps", steps);
            if (step.runIf() == StepDefinitions.RunIf.ANY_FAILED) {
                step.needs().stream()
                        .filter(n -> "failed".equals(ended.get(n)))
                        .findFirst()
                        .ifPresent(n -> {
                            Map<String, Object> failed = new LinkedHashMap<>();
                            failed.put("key", n);
                            failed.put("error", "the sample outcome");
                            failed.put("response", responses.get(n));
                            stepContext.put("failed", failed);
                        });
            }
            try {
                List<?> items = null;
                if (step.loops()) {
                    // for_each: the items over the sample; the request shown is the first item's
                    Object value = ExpressionSandbox.shared().call("steps", () -> plain(step.items(stepContext)));
                    items = value == null ? List.of() : value instanceof List<?> list ? list : List.of(value);
                    if (items.isEmpty()) {
                        outcome.put(step.key(), "would_send");
                        results.add(new StepResult(
                                step.key(),
                                "skipped",
                                null,
                                Map.of("reason", "for_each gives no items: the step would succeed with []"),
                                step.needs()));
                        continue;
                    }
                    stepContext.put("item", items.get(0));
                    stepContext.put("index", 0);
                }
                if (step.onlyWaits()) {
                    // waits, then succeeds: nothing to send
                    outcome.put(step.key(), "would_send");
                    results.add(new StepResult(step.key(), "would_send", null, null, step.needs()));
                    continue;
                }
                StepRequests.Rendered rendered = StepRequests.prepare(
                        step, stepContext, payloadText.getBytes(StandardCharsets.UTF_8), toJson, true);
                if (rendered == null) {
                    outcome.put(step.key(), "skipped");
                    results.add(new StepResult(step.key(), "skipped", null, null, step.needs()));
                    continue;
                }
                Map<String, Object> request = new LinkedHashMap<>();
                if (step.callsWorkflow()) {
                    request.put("workflow", step.workflow()); // the child run's payload is the body
                }
                if (items != null) {
                    request.put("items", items.size());
                }
                request.put("method", rendered.method());
                request.put("url", step.callsWorkflow() ? "workflow:" + step.workflow() : rendered.url());
                Map<String, String> headers = new LinkedHashMap<>();
                if (rendered.body() != null) {
                    headers.put("Content-Type", "application/json");
                }
                rendered.headers().forEach(h -> headers.put(h.getKey(), h.getValue()));
                request.put("headers", headers);
                if (step.credential() != null) {
                    // Applied when the request is sent; its value is never evaluated, shown or stored here.
                    request.put("credential", "[credential " + step.credential() + "]");
                }
                request.put(
                        "body", rendered.body() == null ? null : new String(rendered.body(), StandardCharsets.UTF_8));
                if (items != null) {
                    request.put("first_items", firstItems(step, stepContext, items, payloadText, rendered));
                }
                outcome.put(step.key(), "would_send");
                results.add(new StepResult(step.key(), "would_send", request, null, step.needs()));
            } catch (ExpressionException e) {
                if (e.busy()) {
                    throw Filters.busy();
                }
                outcome.put(step.key(), "error");
                results.add(new StepResult(step.key(), "error", null, error(e), step.needs()));
            }
        }
        return new Result(false, results);
    }

    /** How many items of a loop the dry run shows with their requests. */
    static final int SHOWN_ITEMS = 3;

    /**
     * The first {@link #SHOWN_ITEMS} items of a loop with the URL and body each would be sent with ({@code first}: item
     * 0's request, rendered already).
     */
    private List<Map<String, Object>> firstItems(
            StepDefinitions.Step step,
            Map<String, Object> context,
            List<?> items,
            String payloadText,
            StepRequests.Rendered first) {
        List<Map<String, Object>> shown = new ArrayList<>();
        for (int i = 0; i < Math.min(SHOWN_ITEMS, items.size()); i++) {
            StepRequests.Rendered rendered = first;
            if (i > 0) {
                context.put("item", items.get(i));
                context.put("index", i);
                rendered = StepRequests.prepare(
                        step, context, payloadText.getBytes(StandardCharsets.UTF_8), toJson, false);
            }
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("index", i);
            one.put("item", items.get(i));
            one.put("url", rendered.url());
            one.put("body", rendered.body() == null ? null : new String(rendered.body(), StandardCharsets.UTF_8));
            shown.add(one);
        }
        return shown;
    }

    /** Why {@code step} would not start after its needs ended as {@code ended}; null when it would. */
    private static String notStarting(
            StepDefinitions.Step step, Map<String, String> outcome, Map<String, String> ended) {
        return switch (step.runIf()) {
            case ALL_SUCCEEDED ->
                step.needs().stream()
                        .filter(n -> !"succeeded".equals(ended.get(n)))
                        .findFirst()
                        .map(n -> "needs " + n
                                + ("would_send".equals(outcome.get(n))
                                        ? ", which fails in the sample outcomes"
                                        : ", which would not be sent"))
                        .orElse(null);
            case ANY_SUCCEEDED ->
                step.needs().stream().anyMatch(n -> "succeeded".equals(ended.get(n)))
                        ? null
                        : "no step it needs succeeded";
            case ANY_FAILED ->
                step.needs().stream().anyMatch(n -> "failed".equals(ended.get(n))) ? null : "no step it needs failed";
            case ALWAYS -> null;
        };
    }

    private static Map<String, Object> error(ExpressionException e) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("field", e.field());
        error.put("reason", e.reason());
        error.put("position", e.position() >= 0 ? e.position() : null);
        return error;
    }

    /** JSONata's values as plain JSON values: its null marker becomes null, at any depth. */
    static Object plain(Object value) {
        if (value == Jsonata.NULL_VALUE || value == Expression.JsonNull.INSTANCE) {
            return null;
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(String.valueOf(k), plain(v)));
            return out;
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            list.forEach(v -> out.add(plain(v)));
            return out;
        }
        return value;
    }
}
