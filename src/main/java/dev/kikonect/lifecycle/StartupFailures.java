package dev.kikonect.lifecycle;

import dev.kikonect.common.StartupProblem;
import java.sql.SQLException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalysisReporter;
import org.springframework.core.env.Environment;

/**
 * A start that fails for a reason the operator can fix ends with one paragraph on standard error, "KiKonect did not
 * start: what is wrong. What to do.", and exit status 1: not Spring's framed report, not a 60-frame stack trace.
 * Registered in {@code META-INF/spring.factories}; Spring's own logging reporter is silenced in
 * application.properties so that the paragraph is said once. Failures nobody analysed still end with Spring's
 * "Application run failed" and the stack trace (a bug, for a bug report).
 */
public final class StartupFailures {

    private StartupFailures() {}

    /** The paragraph, on standard error (logs may go to JSON lines or a file; this is for the person who ran it). */
    public static final class OneParagraph implements FailureAnalysisReporter {
        @Override
        public void report(FailureAnalysis analysis) {
            System.err.println(paragraph(analysis));
            System.err.flush();
        }
    }

    static String paragraph(FailureAnalysis analysis) {
        String text =
                "KiKonect did not start: " + sentence(analysis.getDescription()) + " " + sentence(analysis.getAction());
        return text.replaceAll("\\s+", " ").strip();
    }

    private static String sentence(String text) {
        String t = text == null ? "" : text.strip();
        return t.isEmpty() || t.endsWith(".") ? t : t + ".";
    }

    /** Ours: a data directory in use, a master key missing, malformed or not the data's. */
    public static final class Problems extends AbstractFailureAnalyzer<StartupProblem> {
        @Override
        protected FailureAnalysis analyze(Throwable rootFailure, StartupProblem cause) {
            return new FailureAnalysis(cause.description(), cause.action(), cause);
        }
    }

    /**
     * An external database that does not answer, refuses the login or has no such database (SQLSTATE classes 08, 28
     * and 3D), named by its URL without parameters (they may carry a password).
     */
    public static final class DatabaseUnreachable extends AbstractFailureAnalyzer<SQLException> {

        private final Environment environment;

        public DatabaseUnreachable(Environment environment) {
            this.environment = environment;
        }

        @Override
        protected FailureAnalysis analyze(Throwable rootFailure, SQLException cause) {
            String state = cause.getSQLState();
            if (state == null || !(state.startsWith("08") || state.startsWith("28") || state.startsWith("3D"))) {
                return null;
            }
            String url = environment.getProperty("spring.datasource.url");
            String where = url == null ? "the embedded PostgreSQL" : url.replaceFirst("\\?.*$", "");
            String what = switch (state.substring(0, 2)) {
                case "28" -> "refused the login";
                case "3D" -> "has no such database";
                default -> "could not be reached";
            };
            return new FailureAnalysis(
                    "The database " + where + " " + what + ": " + cause.getMessage(),
                    url == null
                            ? "Check the data directory (kikonect.data-dir) and the log above."
                            : "Check spring.datasource.url, spring.datasource.username and spring.datasource.password, and that PostgreSQL"
                                    + " runs and accepts connections from this machine.",
                    cause);
        }
    }
}
