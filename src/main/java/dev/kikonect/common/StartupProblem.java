package dev.kikonect.common;

/**
 * Something about this machine or this configuration that stops KiKonect from starting (a data directory in use, a
 * master key that is missing, malformed or not the one the data was sealed with): a start-up failure the operator
 * fixes, said as one paragraph (what is wrong, then what to do), never as a stack trace ({@code
 * lifecycle/StartupFailures}).
 */
public class StartupProblem extends IllegalStateException {

    private final String description;
    private final String action;

    public StartupProblem(String description, String action) {
        super(description + " " + action, null);
        this.description = description;
        this.action = action;
    }

    /** What is wrong. */
    public String description() {
        return description;
    }

    /** What to do about it. */
    public String action() {
        return action;
    }
}
