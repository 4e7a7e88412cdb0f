package dev.kikonect.execution;

/** What one delivery attempt came to. {@code statusCode} is null when no response arrived. */
record Outcome(boolean succeeded, Integer statusCode, String error) {

  static Outcome success(int status) {
    return new Outcome(true, status, null);
  }

  static Outcome failure(Integer status, String error) {
    return new Outcome(false, status, error);
  }
}
