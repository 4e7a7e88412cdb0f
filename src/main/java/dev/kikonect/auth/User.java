package dev.kikonect.auth;

import java.time.Instant;

/** A registered user as the API shows it; the password hash never leaves {@link UserStore}. */
public record User(long id, String email, String firstname, String lastname, Instant createdAt) {}
