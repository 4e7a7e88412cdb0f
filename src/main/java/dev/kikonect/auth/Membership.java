package dev.kikonect.auth;

/** A user's place in a workspace: which one, with what role, and whether it only admits SSO sessions. */
public record Membership(long workspaceId, Role role, boolean requireSso) {}
