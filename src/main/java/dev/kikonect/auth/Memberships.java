package dev.kikonect.auth;

import java.time.Instant;
import java.util.Optional;

/** Workspace membership as authentication needs it; the workspace package keeps the tables and implements this. */
public interface Memberships {

    /** The user's membership of {@code workspaceId}, or of their personal workspace when it is null. */
    Optional<Membership> find(long userId, Long workspaceId);

    /** Whether {@code tokenHash} is an open invitation (not used, not expired) for {@code email}. */
    boolean openInvitation(String email, byte[] tokenHash, Instant now);

    /** Creates the personal workspace of a user just registered (in the caller's transaction). */
    void createPersonal(User user, Instant now);
}
