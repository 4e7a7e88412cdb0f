package dev.kikonect.steps;

/**
 * An expression that does not compile or fails when evaluated: which field ({@code steps[1].body}), why, and where in
 * the expression (a 0-based character position, or -1 when the engine gives none).
 */
public final class ExpressionException extends RuntimeException {

  private final String field;
  private final int position;
  private final boolean timedOut;

  ExpressionException(String field, String reason, int position) {
    this(field, reason, position, false);
  }

  ExpressionException(String field, String reason, int position, boolean timedOut) {
    super(reason, null, false, false);
    this.field = field;
    this.position = position;
    this.timedOut = timedOut;
  }

  /** Whether the time bound stopped it (rather than the expression failing). */
  public boolean timedOut() {
    return timedOut;
  }

  public String field() {
    return field;
  }

  public int position() {
    return position;
  }

  /** "reason at position 14", the way a 400 or a failed step states it. */
  public String reason() {
    return position >= 0 ? getMessage() + " at position " + position : getMessage();
  }
}
