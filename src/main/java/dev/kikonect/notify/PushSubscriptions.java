package dev.kikonect.notify;

import java.net.URI;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The browsers that asked to be told about failed runs (Web Push). Owns {@code push_subscriptions}. Every query is
 * scoped by user and workspace; the sender's query also checks that the user is still a member of the workspace.
 */
@Repository
public class PushSubscriptions {

    /** Browsers one user may have subscribed in one workspace (a new one beyond it replaces nothing: 429 with the quota). */
    static final int MAX_PER_USER = 20;

    /** One subscription as its owner sees it: the push service's origin, not its capability URL. */
    public record Subscription(
            long id,
            String pushService,
            List<Long> workflowIds,
            /** Whether this browser also hears about approvals waiting for its user. */
            boolean approvals,
            Instant createdAt,
            Instant updatedAt,
            Instant lastSentAt,
            String lastError) {}

    /** What the sender needs: where to push and the browser's keys. */
    public record Target(long id, String endpoint, String p256dh, String auth) {}

    private final JdbcClient jdbc;

    PushSubscriptions(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * Creates or replaces (same browser: same endpoint) the caller's subscription; empty when the user already has
     * {@link #MAX_PER_USER} others in the workspace.
     */
    Optional<Long> upsert(
            long userId,
            long workspaceId,
            String endpoint,
            String p256dh,
            String auth,
            List<Long> workflowIds,
            boolean approvals,
            Instant now) {
        return jdbc.sql("""
            INSERT INTO push_subscriptions (user_id, workspace_id, endpoint, p256dh, auth, workflow_ids, approvals, created_at, updated_at)
            SELECT :user, :workspace, :endpoint, :p256dh, :auth, :workflows, :approvals, :now, :now
             WHERE (SELECT count(*) FROM push_subscriptions
                     WHERE user_id = :user AND workspace_id = :workspace AND endpoint <> :endpoint) < :max
            ON CONFLICT (user_id, workspace_id, endpoint)
              DO UPDATE SET p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, workflow_ids = EXCLUDED.workflow_ids,
                            approvals = EXCLUDED.approvals,
                            updated_at = EXCLUDED.updated_at, last_error = NULL
            RETURNING id
            """)
                .param("user", userId)
                .param("workspace", workspaceId)
                .param("endpoint", endpoint)
                .param("p256dh", p256dh)
                .param("auth", auth)
                .param("workflows", workflowIds.toArray(Long[]::new))
                .param("approvals", approvals)
                .param("now", Timestamp.from(now))
                .param("max", MAX_PER_USER)
                .query(Long.class)
                .optional();
    }

    List<Subscription> list(long userId, long workspaceId) {
        return jdbc.sql("""
            SELECT id, endpoint, workflow_ids, approvals, created_at, updated_at, last_sent_at, last_error FROM push_subscriptions
             WHERE user_id = :user AND workspace_id = :workspace ORDER BY id
            """)
                .param("user", userId)
                .param("workspace", workspaceId)
                .query(PushSubscriptions::row)
                .list();
    }

    Optional<Subscription> find(long userId, long workspaceId, long id) {
        return jdbc.sql("""
            SELECT id, endpoint, workflow_ids, approvals, created_at, updated_at, last_sent_at, last_error FROM push_subscriptions
             WHERE id = :id AND user_id = :user AND workspace_id = :workspace
            """)
                .param("id", id)
                .param("user", userId)
                .param("workspace", workspaceId)
                .query(PushSubscriptions::row)
                .optional();
    }

    boolean delete(long userId, long workspaceId, long id) {
        return jdbc.sql(
                                "DELETE FROM push_subscriptions WHERE id = :id AND user_id = :user AND workspace_id = :workspace")
                        .param("id", id)
                        .param("user", userId)
                        .param("workspace", workspaceId)
                        .update()
                == 1;
    }

    /** The subscriptions to tell that a run of {@code workflowId} failed: of members of its workspace, at most 100. */
    public List<Target> forWorkflow(long workflowId) {
        return jdbc.sql("""
            SELECT p.id, p.endpoint, p.p256dh, p.auth
              FROM push_subscriptions p
              JOIN workflows w ON w.id = :workflow AND w.workspace_id = p.workspace_id
              JOIN workspace_members m ON m.workspace_id = p.workspace_id AND m.user_id = p.user_id
             WHERE p.workflow_ids @> ARRAY[CAST(:workflow AS bigint)]
             ORDER BY p.id LIMIT 100
            """)
                .param("workflow", workflowId)
                .query((rs, n) -> new Target(
                        rs.getLong("id"), rs.getString("endpoint"), rs.getString("p256dh"), rs.getString("auth")))
                .list();
    }

    /** A subscription that hears about approvals, with its user's role in the workspace. */
    public record Approver(Target target, String role) {}

    /** The subscriptions of workspace {@code workspaceId} that hear about approvals, of its members, at most 200. */
    public List<Approver> approvers(long workspaceId) {
        return jdbc.sql("""
            SELECT p.id, p.endpoint, p.p256dh, p.auth, m.role
              FROM push_subscriptions p
              JOIN workspace_members m ON m.workspace_id = p.workspace_id AND m.user_id = p.user_id
             WHERE p.workspace_id = :workspace AND p.approvals
             ORDER BY p.id LIMIT 200
            """)
                .param("workspace", workspaceId)
                .query((rs, n) -> new Approver(
                        new Target(
                                rs.getLong("id"),
                                rs.getString("endpoint"),
                                rs.getString("p256dh"),
                                rs.getString("auth")),
                        rs.getString("role")))
                .list();
    }

    /** Records one push: sent (error null) or not, and why. */
    public void recordSent(long id, String error, Instant now) {
        jdbc.sql("""
            UPDATE push_subscriptions SET last_error = :error,
                   last_sent_at = CASE WHEN :sent THEN CAST(:now AS timestamptz) ELSE last_sent_at END
             WHERE id = :id
            """)
                .param("id", id)
                .param("error", error, Types.VARCHAR)
                .param("sent", error == null)
                .param("now", Timestamp.from(now))
                .update();
    }

    /** The push service says the browser is gone (404 or 410): the subscription goes. */
    public void forget(long id) {
        jdbc.sql("DELETE FROM push_subscriptions WHERE id = :id")
                .param("id", id)
                .update();
    }

    private static Subscription row(ResultSet rs, int n) throws SQLException {
        Array ids = rs.getArray("workflow_ids");
        List<Long> workflowIds = Arrays.stream((Long[]) ids.getArray()).toList();
        return new Subscription(
                rs.getLong("id"),
                origin(rs.getString("endpoint")),
                workflowIds,
                rs.getBoolean("approvals"),
                rs.getTimestamp("created_at").toInstant(),
                rs.getTimestamp("updated_at").toInstant(),
                rs.getTimestamp("last_sent_at") == null
                        ? null
                        : rs.getTimestamp("last_sent_at").toInstant(),
                rs.getString("last_error"));
    }

    private static String origin(String endpoint) {
        URI uri = URI.create(endpoint);
        return uri.getScheme() + "://" + uri.getRawAuthority();
    }
}
