package dev.kikonect.web;

import org.springframework.http.HttpStatus;

/**
 * An HTTP-only error (an unsupported media type, a body over the limit) raised while reading a request, rendered as
 * problem+json by {@link ProblemHandler}. Services throw {@link dev.kikonect.common.DomainException} instead.
 */
public class ApiException extends RuntimeException {

    private final HttpStatus status;
    private final String type;
    private final String title;

    public ApiException(HttpStatus status, String type, String title, String detail) {
        super(detail, null, false, false);
        this.status = status;
        this.type = type;
        this.title = title;
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
}
