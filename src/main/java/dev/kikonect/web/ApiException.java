package dev.kikonect.web;

import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;

/**
 * An error meant for the API caller, rendered as {@code application/problem+json} by {@link ProblemHandler}. The
 * {@code type} is a stable slug (clients switch on it); {@code detail} is for people.
 */
public class ApiException extends RuntimeException {

  private final HttpStatus status;
  private final String type;
  private final String title;
  private final List<FieldProblem> errors;
  private final Map<String, String> headers;

  public ApiException(HttpStatus status, String type, String title, String detail) {
    this(status, type, title, detail, List.of(), Map.of());
  }

  public ApiException(
      HttpStatus status,
      String type,
      String title,
      String detail,
      List<FieldProblem> errors,
      Map<String, String> headers) {
    super(detail, null, false, false);
    this.status = status;
    this.type = type;
    this.title = title;
    this.errors = List.copyOf(errors);
    this.headers = Map.copyOf(headers);
  }

  public static ApiException validation(List<FieldProblem> errors) {
    String detail =
        errors.size() == 1
            ? errors.get(0).field() + ": " + errors.get(0).reason()
            : errors.size() + " fields are invalid: " + String.join(", ", errors.stream().map(FieldProblem::field).toList());
    return new ApiException(HttpStatus.BAD_REQUEST, "validation", "Invalid request", detail, errors, Map.of());
  }

  public static ApiException badRequest(String type, String detail) {
    return new ApiException(HttpStatus.BAD_REQUEST, type, "Bad request", detail);
  }

  public static ApiException notFound(String what) {
    return new ApiException(HttpStatus.NOT_FOUND, "not-found", "Not found", what + " was not found");
  }

  public static ApiException unauthorized(String detail) {
    return new ApiException(
        HttpStatus.UNAUTHORIZED, "unauthorized", "Unauthorized", detail, List.of(), Map.of("WWW-Authenticate", "Bearer"));
  }

  public static ApiException conflict(String type, String detail) {
    return new ApiException(HttpStatus.CONFLICT, type, "Conflict", detail);
  }

  public HttpStatus status() {
    return status;
  }

  public String type() {
    return type;
  }

  public String title() {
    return title;
  }

  public List<FieldProblem> errors() {
    return errors;
  }

  public Map<String, String> headers() {
    return headers;
  }
}
