package dev.kikonect.steps;

import com.dashjoin.jsonata.JException;
import com.dashjoin.jsonata.Jsonata;
import com.dashjoin.jsonata.SandboxedJsonata;
import java.util.Map;

/**
 * One JSONata expression of a workflow (a {@code filter}, a step's {@code when} or {@code body}, or the inside of a
 * {@code {{ }}} template), compiled once, evaluated in the {@link ExpressionSandbox}: on a thread of its own, within an
 * {@link ExpressionBudget} of CPU time, work, allocated bytes and depth that the engine's operators and the built-ins
 * that loop or allocate honour ({@link SafeFunctions}), over plain JSON values. JSONata has no I/O of its own: an
 * expression reads its context and computes, nothing else. Every expression text is code written by any signed-up
 * user, so the worst one fails its own evaluation and nothing else.
 */
final class Expression {

    /** Brackets of any kind nested deeper than this do not compile (the parser recurses per level). */
    static final int MAX_NESTING = 100;

    private final String field;
    private final String source;
    private final Jsonata compiled;

    private Expression(String field, String source, Jsonata compiled) {
        this.field = field;
        this.source = source;
        this.compiled = compiled;
    }

    /**
     * Compiles {@code source}; a syntax error, or brackets nested too deeply, is an {@link ExpressionException} naming
     * {@code field} and the position.
     */
    static Expression compile(String field, String source) {
        int deep = tooDeep(source);
        if (deep >= 0) {
            throw new ExpressionException(field, "nested more than " + MAX_NESTING + " levels deep", deep);
        }
        try {
            Jsonata compiled = Jsonata.jsonata(source);
            SafeFunctions.register(compiled); // once: they hide the engine's own in every evaluation of it
            return new Expression(field, source, compiled);
        } catch (JException e) {
            throw new ExpressionException(field, message(e), e.getLocation());
        } catch (StackOverflowError e) {
            throw new ExpressionException(field, "too deeply nested to compile", -1);
        } catch (RuntimeException e) {
            throw new ExpressionException(field, String.valueOf(e.getMessage()), -1);
        }
    }

    /** Where brackets first nest deeper than {@link #MAX_NESTING} (outside string literals and comments), or -1. */
    static int tooDeep(String source) {
        int depth = 0;
        for (int i = 0; i < source.length(); i++) {
            char c = source.charAt(i);
            if (c == '"' || c == '\'' || c == '`') {
                for (i++; i < source.length() && source.charAt(i) != c; i++) {
                    if (source.charAt(i) == '\\') {
                        i++;
                    }
                }
            } else if (c == '/' && i + 1 < source.length() && source.charAt(i + 1) == '*') {
                int end = source.indexOf("*/", i + 2);
                i = end < 0 ? source.length() : end + 1;
            } else if (c == '(' || c == '[' || c == '{') {
                if (++depth > MAX_NESTING) {
                    return i;
                }
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            }
        }
        return -1;
    }

    /**
     * The result for {@code context} (maps, lists, strings, numbers, booleans); null when undefined. Runs in the
     * sandbox, or inline when already there (under the budget of the task it is part of).
     *
     * @throws ExpressionException INVALID when it fails on this input, BUDGET when it went over its budget, BUSY when
     *     the sandbox could not start it in time
     */
    Object evaluate(Map<String, Object> context) {
        return ExpressionSandbox.shared().call(field, budget -> evaluateWith(budget, context));
    }

    private Object evaluateWith(ExpressionBudget budget, Map<String, Object> context) {
        SandboxedJsonata run = new SandboxedJsonata(compiled, budget);
        Jsonata.Frame frame = compiled.createFrame(); // empty, but a frame of its own: the compiled one is shared
        try {
            Object result = run.run(context, frame);
            budget.check();
            return result == Jsonata.NULL_VALUE ? JsonNull.INSTANCE : result;
        } catch (StackOverflowError e) {
            throw exceeded("nests too deeply");
        } catch (RuntimeException e) {
            // The engine wraps some errors in its own; once over budget, the budget is the reason whatever it threw.
            if (budget.exceeded() != null) {
                throw exceeded(budget.exceeded());
            }
            if (e instanceof JException j) {
                throw new ExpressionException(field, message(j), position(j));
            }
            throw new ExpressionException(field, String.valueOf(e.getMessage()), -1);
        }
    }

    private ExpressionException exceeded(String why) {
        return new ExpressionException(
                field, "expression budget exceeded: " + why, -1, ExpressionException.Kind.BUDGET);
    }

    String field() {
        return field;
    }

    String source() {
        return source;
    }

    /**
     * Where a run-time error happened. The engine gives a position for errors in function calls only; for an operator
     * (the left side of "+" is not a number) it names the operator, whose position is given when it occurs once.
     */
    private int position(JException e) {
        if (e.getLocation() >= 0) {
            return e.getLocation();
        }
        if (e.getCurrent() instanceof String token && !token.isEmpty()) {
            int at = source.indexOf(token);
            if (at >= 0 && at == source.lastIndexOf(token)) {
                return at;
            }
        }
        return -1;
    }

    private static String message(JException e) {
        String message = e.getMessage() == null ? e.getError() : e.getMessage();
        if (message != null && message.startsWith("JSonataException ")) {
            message = message.substring("JSonataException ".length());
        }
        return message == null ? "invalid expression" : message;
    }

    /** JSON's null as a result (JSONata tells it apart from "undefined", which is Java's null here). */
    enum JsonNull {
        INSTANCE
    }
}
