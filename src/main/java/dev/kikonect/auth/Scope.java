package dev.kikonect.auth;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * What a bearer token may do, each level including the ones before it: {@code read} (every GET, and previews),
 * {@code trigger} (also trigger, replay and cancel runs), {@code write} (also create, change and delete workflows),
 * {@code admin} (also API keys, members, credentials and the password), {@code owner}. A login session is {@code owner}; an API key has the scope it was
 * created with, and only an {@code admin} caller can create one, so no key can mint a key above itself.
 */
public enum Scope {
    READ,
    TRIGGER,
    WRITE,
    ADMIN,
    /** Only a login session of an owner: delete the workspace, make or unmake owners. No API key has it. */
    OWNER;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean covers(Scope needed) {
        return ordinal() >= needed.ordinal();
    }

    public static Optional<Scope> parse(String wire) {
        return Arrays.stream(values()).filter(s -> s.wire().equals(wire)).findFirst();
    }
}
