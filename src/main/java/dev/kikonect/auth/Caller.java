package dev.kikonect.auth;

/**
 * The authenticated user of the current request. A controller method that declares a {@code Caller} parameter gets
 * it; every store query is scoped by {@link #userId()}. {@code scope} is what its token may do (a session: admin).
 */
public record Caller(User user, String token, Scope scope) {
  public long userId() {
    return user.id();
  }
}
