package dev.kikonect.common;

import java.time.Duration;
import java.util.List;

/**
 * An error the caller can act on, thrown by services and stores. It says what went wrong in domain terms (a stable
 * {@code type} slug that clients switch on, a {@code detail} for people); the web layer ({@code web/ProblemHandler})
 * maps each kind to an HTTP status and renders it as problem+json. Nothing here knows about HTTP.
 */
public abstract sealed class DomainException extends RuntimeException {

    private final String type;

    private DomainException(String type, String detail) {
        super(detail, null, false, false);
        this.type = type;
    }

    /** A stable slug such as {@code validation} or {@code workflow-paused}. */
    public String type() {
        return type;
    }

    /** One or more fields of the input are invalid; {@link #problems()} names each with its reason. */
    public static final class InvalidInput extends DomainException {
        private final List<FieldProblem> problems;

        public InvalidInput(List<FieldProblem> problems) {
            super("validation", describe(problems));
            this.problems = List.copyOf(problems);
        }

        public InvalidInput(String field, String reason) {
            this(List.of(new FieldProblem(field, reason)));
        }

        public List<FieldProblem> problems() {
            return problems;
        }

        private static String describe(List<FieldProblem> problems) {
            return problems.size() == 1
                    ? problems.get(0).field() + ": " + problems.get(0).reason()
                    : problems.size() + " fields are invalid: "
                            + String.join(
                                    ", ",
                                    problems.stream().map(FieldProblem::field).toList());
        }
    }

    /** The request as a whole cannot be carried out as sent (not one field's fault). */
    public static final class InvalidRequest extends DomainException {
        public InvalidRequest(String type, String detail) {
            super(type, detail);
        }
    }

    /** The object does not exist, or is not the caller's (the two are never told apart). */
    public static final class NotFound extends DomainException {
        public NotFound(String what) {
            super("not-found", what + " was not found");
        }
    }

    /** The object's current state does not allow this (paused, already finished, changed meanwhile). */
    public static final class Conflict extends DomainException {
        public Conflict(String type, String detail) {
            super(type, detail);
        }
    }

    /** No valid credentials came with the request. */
    public static final class NotAuthenticated extends DomainException {
        public NotAuthenticated(String detail) {
            super("unauthorized", detail);
        }
    }

    /** The caller is known but its token may not do this (an API key's scope). */
    public static final class Forbidden extends DomainException {
        public Forbidden(String type, String detail) {
            super(type, detail);
        }
    }

    /** Too many attempts; the caller may try again after {@link #retryAfter()}. */
    public static final class RateLimited extends DomainException {
        private final String title;
        private final Duration retryAfter;

        public RateLimited(String type, String title, String detail, Duration retryAfter) {
            super(type, detail);
            this.title = title;
            this.retryAfter = retryAfter;
        }

        public String title() {
            return title;
        }

        public Duration retryAfter() {
            return retryAfter;
        }
    }

    /** A per-owner limit is reached ({@link #quota()} names the setting); nothing was done. */
    public static final class QuotaExceeded extends DomainException {
        private final String quota;

        public QuotaExceeded(String quota, String detail) {
            super("quota-exceeded", detail + " (quota " + quota + ")");
            this.quota = quota;
        }

        public String quota() {
            return quota;
        }
    }

    /** KiKonect cannot take this now (overloaded, shutting down); nothing was done, the caller may retry. */
    public static final class Unavailable extends DomainException {
        private final Duration retryAfter;

        public Unavailable(String type, String detail, Duration retryAfter) {
            super(type, detail);
            this.retryAfter = retryAfter;
        }

        public Duration retryAfter() {
            return retryAfter;
        }
    }
}
