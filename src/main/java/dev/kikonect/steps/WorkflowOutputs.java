package dev.kikonect.steps;

import java.util.Map;
import java.util.function.Function;

/**
 * A workflow's {@code output}: a JSONata expression over {@code payload} and {@code steps} ({key: {status,
 * response}}) whose value is what a run of the workflow answers the step of another run that ran it (sub-workflows).
 * Evaluated in the {@link ExpressionSandbox}, under its budget, like every other expression.
 */
public final class WorkflowOutputs {

    private WorkflowOutputs() {}

    /**
     * The JSON text of {@code expression}'s value over {@code context} ("null" when undefined).
     *
     * @throws ExpressionException when it does not parse or fails, or (kind BUSY) the sandbox could not take it in time
     */
    public static String evaluate(String expression, Map<String, Object> context, Function<Object, String> toJson) {
        Expression compiled = Expression.compile("output", expression);
        return ExpressionSandbox.shared().call("output", () -> {
            Object value = compiled.evaluate(context);
            return value == null ? "null" : toJson.apply(DryRun.plain(value));
        });
    }
}
