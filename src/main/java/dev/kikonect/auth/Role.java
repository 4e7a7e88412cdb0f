package dev.kikonect.auth;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * A member's role in a workspace, each including the ones below it: {@code viewer} reads workflows, runs and
 * attempts (no secrets, no triggering); {@code editor} also creates, changes, triggers, replays, cancels and retries;
 * {@code admin} also manages members, credentials, API keys, settings and reads the audit log; {@code owner} also
 * deletes the workspace and makes or unmakes owners. A role is a ceiling on {@link Scope}: whatever a token's scope,
 * it never does more in a workspace than its member's role allows.
 */
public enum Role {
    VIEWER(Scope.READ),
    EDITOR(Scope.WRITE),
    ADMIN(Scope.ADMIN),
    OWNER(Scope.OWNER);

    private final Scope ceiling;

    Role(Scope ceiling) {
        this.ceiling = ceiling;
    }

    public Scope ceiling() {
        return ceiling;
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean atLeast(Role other) {
        return ordinal() >= other.ordinal();
    }

    public static Optional<Role> parse(String wire) {
        return Arrays.stream(values()).filter(r -> r.wire().equals(wire)).findFirst();
    }

    /** The highest role whose ceiling the scope reaches (an API key's role as shown). */
    public static Role of(Scope scope) {
        return switch (scope) {
            case READ -> VIEWER;
            case TRIGGER, WRITE -> EDITOR;
            case ADMIN -> ADMIN;
            case OWNER -> OWNER;
        };
    }
}
