package com.dashjoin.jsonata;

import com.dashjoin.jsonata.Parser.Symbol;

/**
 * KiKonect's hook into jsonata-java 0.9.8 (pinned in pom.xml): one evaluation of a compiled expression whose every
 * step, string concatenation ({@code &}) and range ({@code [a..b]}) goes through a {@link Meter} first.
 *
 * <p>Why a class in the library's package: the engine's public hooks (entry and exit callbacks, looked up by name in
 * the frame on every step) run only around a step, so an operator such as {@code &} or {@code ..} builds its whole
 * result before anyone can look at it, and a frame created inside a lambda does not carry them. These operators are
 * package-private methods of {@link Jsonata}; overriding them is the only way to budget them without forking the
 * engine. {@code ExpressionSandboxTest} fails if an upgrade of the library changes what this relies on.
 *
 * <p>An instance is made per evaluation and used by one thread: the engine's per-thread instance ({@link
 * Jsonata#current}, which higher-order functions such as {@code $map} call back into) is this one while it runs.
 */
public final class SandboxedJsonata extends Jsonata {

    /** What the sandbox counts. Each method may throw to stop the evaluation. */
    public interface Meter {
        /** A step of evaluation begins (one node of the expression, for one input). */
        void enter();

        /** The step has its result. */
        void exit(Object result);

        /** The step is over, with a result or not. */
        void leave();

        /** {@code lhs & rhs}: the two sides as strings, within the budget; the engine's rules for non-strings. */
        String concat(Object lhs, Object rhs);

        /** A range of {@code size} numbers is about to be made. */
        void range(long size);
    }

    private final Meter meter;

    public SandboxedJsonata(Jsonata compiled, Meter meter) {
        super(compiled);
        this.meter = meter;
    }

    /** Evaluates with {@code bindings} (never null: the compiled expression's own frame is shared between threads). */
    public Object run(Object input, Frame bindings) {
        Jsonata previous = current.get();
        current.set(this);
        try {
            return evaluate(input, bindings);
        } finally {
            if (previous == null) {
                current.remove();
            } else {
                current.set(previous);
            }
        }
    }

    @Override
    Jsonata getPerThreadInstance() {
        return this;
    }

    @Override
    Object _evaluate(Symbol expr, Object input, Frame environment) {
        meter.enter();
        try {
            Object result = super._evaluate(expr, input, environment);
            meter.exit(result);
            return result;
        } finally {
            meter.leave();
        }
    }

    @Override
    Object evaluateStringConcat(Object lhs, Object rhs) {
        return meter.concat(lhs, rhs);
    }

    @Override
    Object evaluateRangeExpression(Object lhs, Object rhs) {
        if (lhs instanceof Number l
                && rhs instanceof Number r
                && (l instanceof Long || l instanceof Integer)
                && (r instanceof Long || r instanceof Integer)) {
            long size = r.longValue() - l.longValue() + 1;
            if (size > 0) {
                meter.range(size);
            }
        }
        return super.evaluateRangeExpression(lhs, rhs);
    }
}
