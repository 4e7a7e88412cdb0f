package dev.kikonect.auth;

import dev.kikonect.audit.Actor;

/**
 * The authenticated caller of the current request. A controller method that declares a {@code Caller} parameter gets
 * it. {@code scope} is what its token may do (a login session: owner); {@code membership} the workspace the request
 * acts in (its {@code KiKonect-Workspace} header, else the user's personal workspace; an API key: its own) and the
 * role there, null on {@link UserLevel} routes. Every store query is scoped by {@link #workspaceId()}.
 *
 * @param keyId the API key's id, null for a login session
 * @param keyLabel the API key's name and prefix, for the audit log
 * @param method how a login session signed in: password or sso (null for an API key)
 * @param client the address the request came from
 */
public record Caller(
        User user,
        String token,
        Scope scope,
        Long keyId,
        String keyLabel,
        String method,
        Membership membership,
        String client) {

    public long userId() {
        return user.id();
    }

    public long workspaceId() {
        if (membership == null) {
            throw new IllegalStateException("a user-level route asked for a workspace");
        }
        return membership.workspaceId();
    }

    public Role role() {
        return membership == null ? null : membership.role();
    }

    public boolean isApiKey() {
        return keyId != null;
    }

    /** May do {@code needed}: the token's scope covers it, and so does the member's role (when in a workspace). */
    public boolean allowed(Scope needed) {
        return scope.covers(needed)
                && (membership == null || membership.role().ceiling().covers(needed));
    }

    /** The lower of the token's scope and the role's ceiling: what this caller may hand on to an API key it makes. */
    public Scope effectiveScope() {
        if (membership == null || scope.covers(membership.role().ceiling())) {
            return membership == null ? scope : membership.role().ceiling();
        }
        return scope;
    }

    Caller in(Membership membership, String client) {
        return new Caller(user, token, scope, keyId, keyLabel, method, membership, client);
    }

    /** Who this is, for the audit log. */
    public Actor actor() {
        return new Actor(
                membership == null ? null : membership.workspaceId(),
                user.id(),
                keyId,
                keyId == null ? user.email() : "api key " + keyLabel,
                client);
    }
}
