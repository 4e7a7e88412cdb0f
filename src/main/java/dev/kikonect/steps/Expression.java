package dev.kikonect.steps;

import com.dashjoin.jsonata.JException;
import com.dashjoin.jsonata.Jsonata;
import java.time.Duration;
import java.util.Map;

/**
 * One JSONata expression of a workflow (a {@code filter}, a step's {@code when} or {@code body}, or the inside of a
 * {@code {{ }}} template), compiled once, evaluated in a sandbox: at most {@link #TIMEOUT} and {@link #MAX_DEPTH}
 * levels of recursion per evaluation (JSONata's own runtime bounds), over plain JSON values. JSONata has no I/O of
 * its own: an expression reads its context and computes, nothing else. (Left as a known limit: a catastrophic regular
 * expression inside {@code $match} runs in Java's regex engine, which the time bound checks only between steps.)
 */
final class Expression {

  static final Duration TIMEOUT = Duration.ofMillis(100);
  static final int MAX_DEPTH = 100;
  /** The engine's message when the time bound stops an evaluation. */
  private static final String TIMEOUT_MESSAGE = "Expression evaluation timeout";

  private final String field;
  private final String source;
  private final Jsonata compiled;

  private Expression(String field, String source, Jsonata compiled) {
    this.field = field;
    this.source = source;
    this.compiled = compiled;
  }

  /** Compiles {@code source}; a syntax error is an {@link ExpressionException} naming {@code field} and the position. */
  static Expression compile(String field, String source) {
    try {
      return new Expression(field, source, Jsonata.jsonata(source));
    } catch (JException e) {
      throw new ExpressionException(field, message(e), e.getLocation());
    } catch (RuntimeException e) {
      throw new ExpressionException(field, String.valueOf(e.getMessage()), -1);
    }
  }

  /**
   * How many times an evaluation that ran out of time is tried: the bound is wall-clock time (the engine's), and on a
   * busy node a garbage-collection pause or a descheduled carrier thread can take it from an expression that needs a
   * millisecond (bench/suite saw that: 451 of 100,000 step bodies under full load). An expression that takes too long
   * every time is stopped after {@code TRIES} x {@link #TIMEOUT}.
   */
  static final int TRIES = 3;

  /** The result for {@code context} (maps, lists, strings, numbers, booleans); null when undefined. */
  Object evaluate(Map<String, Object> context) {
    for (int attempt = 1; ; attempt++) {
      try {
        return evaluateOnce(context);
      } catch (ExpressionException e) {
        if (!e.timedOut() || attempt >= TRIES) {
          throw e;
        }
      }
    }
  }

  private Object evaluateOnce(Map<String, Object> context) {
    Jsonata.Frame frame = compiled.createFrame();
    frame.setRuntimeBounds(TIMEOUT.toMillis(), MAX_DEPTH);
    try {
      Object result = compiled.evaluate(context, frame);
      return result == Jsonata.NULL_VALUE ? JsonNull.INSTANCE : result;
    } catch (JException e) {
      if (String.valueOf(e.getMessage()).contains(TIMEOUT_MESSAGE)) {
        throw new ExpressionException(field, "took longer than " + TIMEOUT.toMillis() + " ms (" + TRIES + " tries)", -1, true);
      }
      throw new ExpressionException(field, message(e), position(e));
    } catch (StackOverflowError e) {
      throw new ExpressionException(field, "recursion too deep", -1);
    } catch (RuntimeException e) {
      throw new ExpressionException(field, String.valueOf(e.getMessage()), -1);
    }
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
