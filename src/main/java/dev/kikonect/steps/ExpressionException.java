package dev.kikonect.steps;

/**
 * An expression that does not compile or fails when evaluated: which field ({@code steps[1].body}), why, and where in
 * the expression (a 0-based character position, or -1 when the engine gives none), and of what {@link Kind}.
 */
public final class ExpressionException extends RuntimeException {

    /** Why it failed. */
    public enum Kind {
        /** The expression is wrong for this input (a syntax error, a string where a number is needed, ...). */
        INVALID,
        /** It went over its budget of time, work, memory or depth: it would do so again. */
        BUDGET,
        /** The sandbox had no room to start it in time: nothing was evaluated; trying later may succeed. */
        BUSY
    }

    private final String field;
    private final int position;
    private final Kind kind;

    ExpressionException(String field, String reason, int position) {
        this(field, reason, position, Kind.INVALID);
    }

    ExpressionException(String field, String reason, int position, Kind kind) {
        super(reason, null, false, false);
        this.field = field;
        this.position = position;
        this.kind = kind;
    }

    /** {@code field} went over a budget for {@code why} ("the payload is too large ..."). */
    public static ExpressionException overBudget(String field, String why) {
        return new ExpressionException(field, "expression budget exceeded: " + why, -1, Kind.BUDGET);
    }

    public Kind kind() {
        return kind;
    }

    /** Whether it went over its budget (rather than failing on its input). */
    public boolean budgetExceeded() {
        return kind == Kind.BUDGET;
    }

    /** Whether the sandbox was too busy to evaluate it (nothing was tried). */
    public boolean busy() {
        return kind == Kind.BUSY;
    }

    public String field() {
        return field;
    }

    public int position() {
        return position;
    }

    /** The same failure for another field or position (a template part, a step of a dry run). */
    ExpressionException at(String field, int position) {
        return new ExpressionException(field, getMessage(), position, kind);
    }

    /** "reason at position 14", the way a 400 or a failed step states it. */
    public String reason() {
        return position >= 0 ? getMessage() + " at position " + position : getMessage();
    }
}
