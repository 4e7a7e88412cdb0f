package dev.kikonect.web;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;

/** Builds the problem+json bodies; every error KiKonect sends goes through here so that types stay stable. */
public final class Problems {

    public static final String TYPE_BASE = "https://kikonect.dev/problems/";

    private Problems() {}

    /**
     * Writes a problem+json answer straight to the response, for servlet filters that answer before Spring MVC (and
     * its {@link ProblemHandler}) is reached.
     */
    public static void write(HttpServletResponse response, int status, String type, String title, String detail)
            throws IOException {
        response.setStatus(status);
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        // bytes, not the writer: JSON is UTF-8 and its media type has no charset (the writer would add ISO-8859-1)
        response.getOutputStream()
                .write(("{\"type\":\"" + TYPE_BASE + type + "\",\"title\":\"" + json(title) + "\",\"status\":" + status
                                + ",\"detail\":\"" + json(detail) + "\"}")
                        .getBytes(StandardCharsets.UTF_8));
    }

    private static String json(String text) {
        return text.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    public static ProblemDetail of(HttpStatusCode status, String type, String title, String detail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setType(URI.create(TYPE_BASE + type));
        problem.setTitle(title);
        return problem;
    }
}
