package dev.kikonect.audit;

/**
 * Who did something, as the audit log records it: a user (by id and email), or an API key (by id, with its name and
 * prefix in {@code label}) acting for its creator {@code userId}; {@code workspaceId} is where (null for a sign-in),
 * {@code client} the address the request came from.
 */
public record Actor(Long workspaceId, Long userId, Long keyId, String label, String client) {}
