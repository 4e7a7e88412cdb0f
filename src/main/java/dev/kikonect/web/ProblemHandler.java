package dev.kikonect.web;

import dev.kikonect.common.DomainException;
import dev.kikonect.common.FieldProblem;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.tomcat.util.http.InvalidParameterException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.multipart.MultipartException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/** Turns every error into {@code application/problem+json}: no stack traces, a stable type, a useful detail. */
@RestControllerAdvice
class ProblemHandler extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

    @ExceptionHandler(ApiException.class)
    ResponseEntity<Object> api(ApiException e) {
        return problem(Problems.of(e.status(), e.type(), e.title(), e.getMessage()), new HttpHeaders());
    }

    /** The one place where domain errors become HTTP statuses. */
    @ExceptionHandler(DomainException.class)
    ResponseEntity<Object> domain(DomainException e) {
        HttpHeaders headers = new HttpHeaders();
        ProblemDetail problem = switch (e) {
            case DomainException.InvalidInput invalid -> {
                ProblemDetail p = Problems.of(HttpStatus.BAD_REQUEST, e.type(), "Invalid request", e.getMessage());
                p.setProperty("errors", invalid.problems());
                yield p;
            }
            case DomainException.InvalidRequest r ->
                Problems.of(HttpStatus.BAD_REQUEST, e.type(), "Bad request", e.getMessage());
            case DomainException.NotFound n -> Problems.of(HttpStatus.NOT_FOUND, e.type(), "Not found", e.getMessage());
            case DomainException.Forbidden f ->
                Problems.of(HttpStatus.FORBIDDEN, e.type(), "Forbidden", e.getMessage());
            case DomainException.Conflict c -> Problems.of(HttpStatus.CONFLICT, e.type(), "Conflict", e.getMessage());
            case DomainException.NotAuthenticated u -> {
                headers.add(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
                yield Problems.of(HttpStatus.UNAUTHORIZED, e.type(), "Unauthorized", e.getMessage());
            }
            case DomainException.QuotaExceeded exceeded -> {
                ProblemDetail p = Problems.of(HttpStatus.TOO_MANY_REQUESTS, e.type(), "Quota exceeded", e.getMessage());
                p.setProperty("quota", exceeded.quota());
                yield p;
            }
            case DomainException.Unavailable unavailable -> {
                headers.add(
                        HttpHeaders.RETRY_AFTER,
                        Long.toString(Math.max(1, unavailable.retryAfter().toSeconds())));
                yield Problems.of(HttpStatus.SERVICE_UNAVAILABLE, e.type(), "Service unavailable", e.getMessage());
            }
            case DomainException.RateLimited limited -> {
                headers.add(
                        HttpHeaders.RETRY_AFTER,
                        Long.toString(Math.max(1, limited.retryAfter().toSeconds())));
                yield Problems.of(HttpStatus.TOO_MANY_REQUESTS, e.type(), limited.title(), e.getMessage());
            }
        };
        return problem(problem, headers);
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    ResponseEntity<Object> typeMismatch(MethodArgumentTypeMismatchException e) {
        String reason = "must be a valid "
                + (e.getRequiredType() == null
                        ? "value"
                        : e.getRequiredType().getSimpleName().toLowerCase());
        return domain(new DomainException.InvalidInput(List.of(new FieldProblem(e.getName(), reason))));
    }

    @ExceptionHandler({MultipartException.class, InvalidParameterException.class})
    ResponseEntity<Object> unreadableBody(Exception e) {
        return problem(
                Problems.of(
                        HttpStatus.BAD_REQUEST,
                        "malformed-body",
                        "Malformed request body",
                        "The request body or its parameters cannot be parsed."),
                new HttpHeaders());
    }

    private static boolean missingPartition(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql
                    && "23514".equals(sql.getSQLState())
                    && String.valueOf(sql.getMessage()).contains("no partition of relation")) {
                return true;
            }
        }
        return false;
    }

    /** When the last "database unavailable" warning was logged (nanoTime); one a 10 s at most. */
    private final AtomicLong lastDatabaseWarning = new AtomicLong(System.nanoTime() - 20_000_000_000L);

    /**
     * The database cannot take work (down, restarting, no connection within the pool's wait, a transient failure):
     * 503 with Retry-After, nothing stored, and a warning logged at most every 10 s instead of a stack trace per
     * request.
     */
    @ExceptionHandler({
        DataAccessResourceFailureException.class,
        TransientDataAccessException.class,
        CannotCreateTransactionException.class
    })
    ResponseEntity<Object> databaseUnavailable(Exception e) {
        long last = lastDatabaseWarning.get();
        long now = System.nanoTime();
        if (now - last > 10_000_000_000L && lastDatabaseWarning.compareAndSet(last, now)) {
            log.warn(
                    "The database cannot take work; answering 503 (this warning at most every 10 s): {}", e.toString());
        }
        HttpHeaders headers = new HttpHeaders();
        headers.add(HttpHeaders.RETRY_AFTER, "1");
        return problem(
                Problems.of(
                        HttpStatus.SERVICE_UNAVAILABLE,
                        "database-unavailable",
                        "Service unavailable",
                        "The database cannot take this request now; nothing was stored. Retry shortly."),
                headers);
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<Object> unexpected(Exception e, HttpServletRequest request) {
        if (missingPartition(e)) {
            // the nodes keep history partitions ahead of the run ids; if they fell behind, a 503 (nothing stored) until
            // they catch up, never a 500
            return databaseUnavailable(e);
        }
        log.error("Unexpected error on {} {}", request.getMethod(), request.getRequestURI(), e);
        ProblemDetail problem = Problems.of(
                HttpStatus.INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "Something went wrong on our side; the error was logged. Retrying may help.");
        return problem(problem, new HttpHeaders());
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(
            HttpMessageNotReadableException ex, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        ProblemDetail problem = Problems.of(
                HttpStatus.BAD_REQUEST,
                "malformed-json",
                "Malformed request body",
                "The request body must be a valid JSON object.");
        return problem(problem, headers);
    }

    @Override
    protected ResponseEntity<Object> handleExceptionInternal(
            Exception ex, Object body, HttpHeaders headers, HttpStatusCode statusCode, WebRequest request) {
        ProblemDetail problem;
        if (body instanceof ProblemDetail detail) {
            problem = detail;
        } else {
            problem = ProblemDetail.forStatus(statusCode);
        }
        HttpStatus status = HttpStatus.resolve(statusCode.value());
        String slug = status == null
                ? "http-" + statusCode.value()
                : status.name().toLowerCase().replace('_', '-');
        problem.setType(URI.create(Problems.TYPE_BASE + slug));
        if (problem.getTitle() == null && status != null) {
            problem.setTitle(status.getReasonPhrase());
        }
        if (problem.getDetail() == null) {
            problem.setDetail(ex.getMessage());
        }
        return problem(problem, headers == null ? new HttpHeaders() : headers);
    }

    private static ResponseEntity<Object> problem(ProblemDetail problem, HttpHeaders headers) {
        HttpHeaders out = new HttpHeaders();
        out.addAll(headers);
        out.setContentType(MediaType.APPLICATION_PROBLEM_JSON);
        return new ResponseEntity<>(problem, out, problem.getStatus());
    }
}
