package dev.kikonect.steps;

import com.dashjoin.jsonata.Jsonata;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns a step into the request it sends, the same way for a delivery and for a dry run: its {@code when}, URL
 * template, header templates and body expression evaluated against the run's context. KiKonect's own headers
 * (Content-Type for a body, User-Agent, the Standard Webhooks headers) are added by the executor, after this.
 */
public final class StepRequests {

    /** Bodies larger than this fail their step. */
    public static final int MAX_BODY_BYTES = 1024 * 1024;

    private static final Set<String> NO_BODY = Set.of("GET", "DELETE");

    /** A request to send. {@code body} is null for GET and DELETE. */
    public record Rendered(String method, String url, List<Map.Entry<String, String>> headers, byte[] body) {}

    private StepRequests() {}

    /** JSONata's values as plain JSON values (its null marker as null), to write as JSON. */
    public static Object plain(Object value) {
        return DryRun.plain(value);
    }

    /** How expressions' values become JSON text in a request: refused past the largest body (1 MiB). */
    public static Function<Object, String> toJson(JsonMapper json) {
        return BoundedJson.writer(json, MAX_BODY_BYTES + 1L);
    }

    /**
     * Whether the step's {@code when} lets it run in {@code context} (true without a {@code when}).
     *
     * @throws ExpressionException when the condition fails to evaluate
     */
    public static boolean runs(StepDefinitions.Step step, Map<String, Object> context) {
        return step.when() == null || Jsonata.boolize(DryRun.plain(step.when().evaluate(context)));
    }

    /**
     * Whether the step runs ({@code checkWhen}: its {@code when}) and, if it does, the request it sends; null when its
     * {@code when} is false. All of the step's expressions are evaluated in one task of the {@link ExpressionSandbox},
     * under one budget; a step without expressions does not go there at all.
     *
     * @throws ExpressionException as {@link #render}, and of kind BUSY when the sandbox could not take it in time
     */
    public static Rendered prepare(
            StepDefinitions.Step step,
            Map<String, Object> context,
            byte[] payload,
            Function<Object, String> toJson,
            boolean checkWhen) {
        if (!step.dynamic()) {
            return render(step, context, payload, toJson);
        }
        return ExpressionSandbox.shared()
                .call("steps", () -> checkWhen && !runs(step, context) ? null : render(step, context, payload, toJson));
    }

    /**
     * The request {@code step} sends. {@code payload} is the trigger payload's exact bytes, sent as they are by a step
     * without {@code body}; {@code context} may be null when the step is not {@link StepDefinitions.Step#dynamic}.
     *
     * @throws ExpressionException when an expression fails, is undefined where a value is needed, or the body is over 1 MiB
     */
    public static Rendered render(
            StepDefinitions.Step step, Map<String, Object> context, byte[] payload, Function<Object, String> toJson) {
        String url = step.url() == null ? null : step.url().render(context, toJson); // null: a workflow step
        List<Map.Entry<String, String>> headers = new ArrayList<>(step.headers().size());
        for (Map.Entry<String, Template> h : step.headers().entrySet()) {
            String value = h.getValue().render(context, toJson);
            if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
                throw new ExpressionException(
                        h.getValue().field(), "the value has a line break, which a header cannot carry", -1);
            }
            headers.add(Map.entry(h.getKey(), value));
        }
        byte[] body = null;
        if (!NO_BODY.contains(step.method())) {
            if (step.body() == null) {
                body = payload;
            } else {
                Object value = step.body().evaluate(context);
                if (value == null) {
                    throw new ExpressionException(step.body().field(), "the body is undefined", -1);
                }
                try {
                    body = toJson.apply(DryRun.plain(value)).getBytes(StandardCharsets.UTF_8);
                } catch (BoundedJson.TooLarge e) {
                    throw new ExpressionException(step.body().field(), "the body is larger than 1 MiB", -1);
                }
            }
            if (body.length > MAX_BODY_BYTES) {
                throw new ExpressionException(
                        step.body() == null ? "payload" : step.body().field(), "the body is larger than 1 MiB", -1);
            }
        }
        return new Rendered(step.method(), url, headers, body);
    }
}
