package dev.kikonect.auth;

import java.time.Instant;

/**
 * A registered user as the API shows it; the password hash never leaves {@link UserStore}. {@code instanceAdmin}: may
 * change instance-wide settings ({@code /instance}); the first registered user is one.
 */
public record User(
        long id, String email, String firstname, String lastname, Instant createdAt, boolean instanceAdmin) {}
