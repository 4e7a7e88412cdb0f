package dev.kikonect.auth;

import java.time.Instant;

/** What a successful login returns: the bearer token (shown once, stored only hashed) and who it belongs to. */
public record Session(String token, String tokenType, Instant expiresAt, User user) {}
