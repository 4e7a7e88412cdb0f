package dev.kikonect.common;

import java.util.Optional;

/**
 * The capabilities that resume a step waiting for a callback ({@code wait: {for: callback}}): one per run and step,
 * unguessable (an HMAC under a key derived from the master key, 192 bits), computed rather than stored, so that every
 * step's expressions can read it from the start of the run ({@code waits.<key>.url}) and a database that leaks holds
 * none of them. Single use is the step's own state ({@code run_steps.resumed_at}).
 */
public interface ResumeTokens {

    /** The run and step a token resumes. */
    record Target(long runId, String step) {}

    /** The token of step {@code step} of run {@code runId}. */
    String token(long runId, String step);

    /** What {@code token} resumes, when it is one this instance made (under its current or a previous master key). */
    Optional<Target> verify(String token);
}
