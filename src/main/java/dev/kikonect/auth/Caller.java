package dev.kikonect.auth;

/**
 * The authenticated user of the current request. A controller method that declares a {@code Caller} parameter gets
 * it; every store query is scoped by {@link #userId()}.
 */
public record Caller(User user, String token) {
  public long userId() {
    return user.id();
  }
}
