package dev.kikonect.web;

import java.net.URI;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;

/** Builds the problem+json bodies; every error KiKonect sends goes through here so that types stay stable. */
public final class Problems {

  public static final String TYPE_BASE = "https://kikonect.dev/problems/";

  private Problems() {}

  public static ProblemDetail of(HttpStatusCode status, String type, String title, String detail) {
    ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
    problem.setType(URI.create(TYPE_BASE + type));
    problem.setTitle(title);
    return problem;
  }
}
