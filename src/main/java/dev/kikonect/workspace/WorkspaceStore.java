package dev.kikonect.workspace;

import dev.kikonect.auth.Membership;
import dev.kikonect.auth.Memberships;
import dev.kikonect.auth.Role;
import dev.kikonect.auth.User;
import dev.kikonect.common.QuotaLock;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Owner of {@code workspaces}, {@code workspace_members} and {@code invitations}. */
@Repository
class WorkspaceStore implements Memberships {

    record Workspace(
            long id, String name, boolean personal, boolean requireSso, Instant createdAt, String role, int members) {}

    record Member(long userId, String email, String firstname, String lastname, String role, Instant joinedAt) {}

    record Invitation(long id, String email, String role, Long invitedBy, Instant createdAt, Instant expiresAt) {}

    /** An invitation found by its token, with its workspace. */
    record Pending(
            long id,
            long workspaceId,
            String workspaceName,
            String email,
            String role,
            Instant expiresAt,
            Instant acceptedAt) {}

    private final JdbcClient jdbc;

    WorkspaceStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    @Override
    public Optional<Membership> find(long userId, Long workspaceId) {
        return jdbc.sql("""
            SELECT m.workspace_id, m.role, w.require_sso
              FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
             WHERE m.user_id = :user
               AND m.workspace_id = coalesce(CAST(:workspace AS bigint), (SELECT id FROM workspaces WHERE personal_of = :user))
            """)
                .param("user", userId)
                .param("workspace", workspaceId, Types.BIGINT)
                .query((rs, n) -> new Membership(
                        rs.getLong(1), Role.parse(rs.getString(2)).orElseThrow(), rs.getBoolean(3)))
                .optional();
    }

    @Override
    public boolean openInvitation(String email, byte[] tokenHash, Instant now) {
        return jdbc.sql(
                        "SELECT 1 FROM invitations WHERE token_hash = :hash AND lower(email) = lower(:email) AND accepted_at IS NULL AND expires_at > :now")
                .param("hash", tokenHash)
                .param("email", email)
                .param("now", Timestamp.from(now))
                .query(Integer.class)
                .optional()
                .isPresent();
    }

    @Override
    public void createPersonal(User user, Instant now) {
        jdbc.sql("""
            WITH w AS (INSERT INTO workspaces (name, personal_of, created_at) VALUES (:name, :user, :now) RETURNING id)
            INSERT INTO workspace_members (workspace_id, user_id, role, created_at) SELECT id, :user, 'owner', :now FROM w
            """)
                .param("name", user.firstname() + "'s workspace")
                .param("user", user.id())
                .param("now", Timestamp.from(now))
                .update();
    }

    /** Creates a workspace owned by the user unless they already own {@code maxOwned}; empty then. */
    Optional<Workspace> create(long userId, String name, Instant now, int maxOwned) {
        return jdbc.sql("""
            WITH w AS (
              INSERT INTO workspaces (name, created_at)
              SELECT :name, :now
               WHERE (SELECT count(*) FROM workspace_members WHERE user_id = :user AND role = 'owner') < :max
              RETURNING id, name, personal_of, require_sso, created_at
            ), m AS (
              INSERT INTO workspace_members (workspace_id, user_id, role, created_at) SELECT id, :user, 'owner', :now FROM w
            )
            SELECT id, name, personal_of IS NOT NULL AS personal, require_sso, created_at, 'owner' AS role, 1 AS members FROM w
            """)
                .param("name", name)
                .param("user", userId)
                .param("now", Timestamp.from(now))
                .param("max", maxOwned)
                .query(WorkspaceStore::workspace)
                .optional();
    }

    private static final String WORKSPACE_COLUMNS = """
      w.id, w.name, w.personal_of IS NOT NULL AS personal, w.require_sso, w.created_at, m.role,
      (SELECT count(*) FROM workspace_members c WHERE c.workspace_id = w.id) AS members
      """;

    List<Workspace> listOf(long userId) {
        return jdbc.sql(
                        "SELECT " + WORKSPACE_COLUMNS
                                + " FROM workspaces w JOIN workspace_members m ON m.workspace_id = w.id AND m.user_id = :user ORDER BY w.id")
                .param("user", userId)
                .query(WorkspaceStore::workspace)
                .list();
    }

    Optional<Workspace> get(long workspaceId, long userId) {
        return jdbc.sql(
                        "SELECT " + WORKSPACE_COLUMNS
                                + " FROM workspaces w JOIN workspace_members m ON m.workspace_id = w.id AND m.user_id = :user WHERE w.id = :id")
                .param("user", userId)
                .param("id", workspaceId)
                .query(WorkspaceStore::workspace)
                .optional();
    }

    void update(long workspaceId, String name, Boolean requireSso) {
        jdbc.sql(
                        "UPDATE workspaces SET name = coalesce(:name, name), require_sso = coalesce(:sso, require_sso) WHERE id = :id")
                .param("name", name, Types.VARCHAR)
                .param("sso", requireSso, Types.BOOLEAN)
                .param("id", workspaceId)
                .update();
    }

    /** Deletes a workspace that is nobody's personal one, with everything in it; false when it is personal. */
    boolean delete(long workspaceId) {
        return jdbc.sql("DELETE FROM workspaces WHERE id = :id AND personal_of IS NULL")
                        .param("id", workspaceId)
                        .update()
                == 1;
    }

    List<Member> members(long workspaceId) {
        return jdbc.sql("""
            SELECT u.id, u.email, u.firstname, u.lastname, m.role, m.created_at
              FROM workspace_members m JOIN users u ON u.id = m.user_id
             WHERE m.workspace_id = :workspace ORDER BY m.created_at, u.id
            """)
                .param("workspace", workspaceId)
                .query((rs, n) -> new Member(
                        rs.getLong(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        rs.getTimestamp(6).toInstant()))
                .list();
    }

    /** The member's role, locking the workspace's member rows (role changes and removals go one at a time). */
    Optional<Role> lockRole(long workspaceId, long userId) {
        jdbc.sql("SELECT 1 FROM workspaces WHERE id = :workspace FOR UPDATE")
                .param("workspace", workspaceId)
                .query(Integer.class)
                .optional();
        return jdbc.sql("SELECT role FROM workspace_members WHERE workspace_id = :workspace AND user_id = :user")
                .param("workspace", workspaceId)
                .param("user", userId)
                .query((rs, n) -> Role.parse(rs.getString(1)).orElseThrow())
                .optional();
    }

    int owners(long workspaceId) {
        return jdbc.sql("SELECT count(*) FROM workspace_members WHERE workspace_id = :workspace AND role = 'owner'")
                .param("workspace", workspaceId)
                .query(Integer.class)
                .single();
    }

    void setRole(long workspaceId, long userId, Role role) {
        jdbc.sql("UPDATE workspace_members SET role = :role WHERE workspace_id = :workspace AND user_id = :user")
                .param("role", role.wire())
                .param("workspace", workspaceId)
                .param("user", userId)
                .update();
    }

    void remove(long workspaceId, long userId) {
        jdbc.sql("DELETE FROM workspace_members WHERE workspace_id = :workspace AND user_id = :user")
                .param("workspace", workspaceId)
                .param("user", userId)
                .update();
    }

    /** Adds the user with the role unless already a member or the workspace is full; false then. */
    boolean add(long workspaceId, long userId, Role role, Instant now, int maxMembers) {
        QuotaLock.take(jdbc, "members", workspaceId);
        return jdbc.sql("""
                INSERT INTO workspace_members (workspace_id, user_id, role, created_at)
                SELECT :workspace, :user, :role, :now
                 WHERE (SELECT count(*) FROM workspace_members WHERE workspace_id = :workspace) < :max
                ON CONFLICT DO NOTHING
                """)
                        .param("workspace", workspaceId)
                        .param("user", userId)
                        .param("role", role.wire())
                        .param("now", Timestamp.from(now))
                        .param("max", maxMembers)
                        .update()
                == 1;
    }

    boolean isMember(long workspaceId, long userId) {
        return jdbc.sql("SELECT 1 FROM workspace_members WHERE workspace_id = :workspace AND user_id = :user")
                .param("workspace", workspaceId)
                .param("user", userId)
                .query(Integer.class)
                .optional()
                .isPresent();
    }

    /** Stores an invitation unless the workspace has {@code maxPending} open ones; empty then. */
    Optional<Invitation> invite(
            long workspaceId,
            String email,
            Role role,
            byte[] tokenHash,
            long invitedBy,
            Instant now,
            Instant expiresAt,
            int maxPending) {
        return jdbc.sql("""
            INSERT INTO invitations (workspace_id, email, role, token_hash, invited_by, created_at, expires_at)
            SELECT :workspace, :email, :role, :hash, :by, :now, :expires
             WHERE (SELECT count(*) FROM invitations
                     WHERE workspace_id = :workspace AND accepted_at IS NULL AND expires_at > :now) < :max
            RETURNING id, email, role, invited_by, created_at, expires_at
            """)
                .param("workspace", workspaceId)
                .param("email", email)
                .param("role", role.wire())
                .param("hash", tokenHash)
                .param("by", invitedBy)
                .param("now", Timestamp.from(now))
                .param("expires", Timestamp.from(expiresAt))
                .param("max", maxPending)
                .query(WorkspaceStore::invitation)
                .optional();
    }

    List<Invitation> pendingInvitations(long workspaceId, Instant now) {
        return jdbc.sql("""
            SELECT id, email, role, invited_by, created_at, expires_at FROM invitations
             WHERE workspace_id = :workspace AND accepted_at IS NULL AND expires_at > :now ORDER BY id DESC
            """)
                .param("workspace", workspaceId)
                .param("now", Timestamp.from(now))
                .query(WorkspaceStore::invitation)
                .list();
    }

    Optional<Invitation> deleteInvitation(long workspaceId, long id) {
        return jdbc.sql(
                        "DELETE FROM invitations WHERE id = :id AND workspace_id = :workspace AND accepted_at IS NULL RETURNING id, email, role, invited_by, created_at, expires_at")
                .param("id", id)
                .param("workspace", workspaceId)
                .query(WorkspaceStore::invitation)
                .optional();
    }

    /** The invitation with this token, locked until the transaction ends. */
    Optional<Pending> lockInvitation(byte[] tokenHash) {
        return jdbc.sql("""
            SELECT i.id, i.workspace_id, w.name, i.email, i.role, i.expires_at, i.accepted_at
              FROM invitations i JOIN workspaces w ON w.id = i.workspace_id
             WHERE i.token_hash = :hash FOR UPDATE OF i
            """)
                .param("hash", tokenHash)
                .query((rs, n) -> {
                    Timestamp accepted = rs.getTimestamp(7);
                    return new Pending(
                            rs.getLong(1),
                            rs.getLong(2),
                            rs.getString(3),
                            rs.getString(4),
                            rs.getString(5),
                            rs.getTimestamp(6).toInstant(),
                            accepted == null ? null : accepted.toInstant());
                })
                .optional();
    }

    void accepted(long invitationId, long userId, Instant now) {
        jdbc.sql("UPDATE invitations SET accepted_at = :now, accepted_by = :user WHERE id = :id")
                .param("now", Timestamp.from(now))
                .param("user", userId)
                .param("id", invitationId)
                .update();
    }

    /** Deletes invitations that ended (expired or accepted) before {@code cutoff}. */
    int pruneInvitations(Instant cutoff) {
        return jdbc.sql("DELETE FROM invitations WHERE expires_at < :cutoff OR accepted_at < :cutoff")
                .param("cutoff", Timestamp.from(cutoff))
                .update();
    }

    private static Workspace workspace(ResultSet rs, int n) throws SQLException {
        return new Workspace(
                rs.getLong("id"),
                rs.getString("name"),
                rs.getBoolean("personal"),
                rs.getBoolean("require_sso"),
                rs.getTimestamp("created_at").toInstant(),
                rs.getString("role"),
                rs.getInt("members"));
    }

    private static Invitation invitation(ResultSet rs, int n) throws SQLException {
        long by = rs.getLong("invited_by");
        return new Invitation(
                rs.getLong("id"),
                rs.getString("email"),
                rs.getString("role"),
                rs.wasNull() ? null : by,
                rs.getTimestamp("created_at").toInstant(),
                rs.getTimestamp("expires_at").toInstant());
    }
}
