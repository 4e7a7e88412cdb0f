package dev.kikonect.listen;

import dev.kikonect.execution.Listeners;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The deliveries to listeners, in the database so that the executor on one node and the listener's connection on
 * another meet (owns {@code listen_deliveries}). The executor puts a request and polls for its answer every 50 ms;
 * a listener's stream claims waiting requests with SKIP LOCKED; the answer is posted to any node.
 */
@Component
class ListenMailbox implements Listeners {

    /** A request a listener is to forward. */
    record Waiting(long id, JsonNode request) {}

    private static final Duration POLL = Duration.ofMillis(50);

    private final JdbcClient jdbc;
    private final JsonMapper json;
    private final Clock clock;

    ListenMailbox(JdbcClient jdbc, JsonMapper json, Clock clock) {
        this.jdbc = jdbc;
        this.json = json;
        this.clock = clock;
    }

    @Override
    public Answer exchange(
            long workspaceId,
            String name,
            String method,
            List<Map.Entry<String, String>> headers,
            byte[] body,
            Duration timeout)
            throws NoAnswer, InterruptedException {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("method", method);
        Map<String, String> h = new LinkedHashMap<>();
        headers.forEach(e -> h.merge(e.getKey(), e.getValue(), (a, b) -> a + ", " + b));
        request.put("headers", h);
        request.put("body", body == null ? null : new String(body, StandardCharsets.UTF_8));
        Instant now = clock.instant();
        // rows of a node that died while waiting (it deletes its own otherwise): gone a minute after they expired
        jdbc.sql("DELETE FROM listen_deliveries WHERE expires_at < :cutoff")
                .param("cutoff", Timestamp.from(now.minus(Duration.ofMinutes(1))))
                .update();
        long id = jdbc.sql("""
            INSERT INTO listen_deliveries (workspace_id, name, request, created_at, expires_at)
            VALUES (:workspace, :name, CAST(:request AS jsonb), :now, :expires) RETURNING id
            """)
                .param("workspace", workspaceId)
                .param("name", name)
                .param("request", json.writeValueAsString(request))
                .param("now", Timestamp.from(now))
                .param("expires", Timestamp.from(now.plus(timeout)))
                .query(Long.class)
                .single();
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                Optional<Answer> answer = answered(id);
                if (answer.isPresent()) {
                    return answer.get();
                }
                if (System.nanoTime() >= deadline) {
                    boolean claimed = jdbc.sql("SELECT claimed_at IS NOT NULL FROM listen_deliveries WHERE id = :id")
                            .param("id", id)
                            .query(Boolean.class)
                            .optional()
                            .orElse(false);
                    throw new NoAnswer(
                            claimed
                                    ? "listener '" + name + "' took the delivery but gave no answer within "
                                            + timeout.toSeconds() + " s"
                                    : "no listener '" + name + "' connected (start one: kikonect listen " + name
                                            + " --forward <local URL>)");
                }
                Thread.sleep(POLL.toMillis());
            }
        } finally {
            jdbc.sql("DELETE FROM listen_deliveries WHERE id = :id")
                    .param("id", id)
                    .update();
        }
    }

    private Optional<Answer> answered(long id) {
        return jdbc.sql(
                        "SELECT response_status, response_headers::text, response_body FROM listen_deliveries WHERE id = :id AND answered_at IS NOT NULL")
                .param("id", id)
                .query((rs, n) -> {
                    List<Map.Entry<String, String>> headers = new ArrayList<>();
                    String text = rs.getString(2);
                    if (text != null) {
                        json.readTree(text)
                                .properties()
                                .forEach(e -> headers.add(
                                        Map.entry(e.getKey(), e.getValue().asString())));
                    }
                    String body = rs.getString(3);
                    return new Answer(
                            rs.getInt(1), headers, body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8));
                })
                .optional();
    }

    /** Claims up to {@code limit} waiting requests of the listener {@code name} (oldest first). */
    List<Waiting> claim(long workspaceId, String name, int limit) {
        Instant now = clock.instant();
        return jdbc.sql("""
            UPDATE listen_deliveries d SET claimed_at = :now
              FROM (SELECT id FROM listen_deliveries
                     WHERE workspace_id = :workspace AND name = :name AND claimed_at IS NULL AND expires_at > :now
                     ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED) w
             WHERE d.id = w.id
            RETURNING d.id, d.request::text
            """)
                .param("workspace", workspaceId)
                .param("name", name)
                .param("now", Timestamp.from(now))
                .param("limit", limit)
                .query((rs, n) -> new Waiting(rs.getLong(1), json.readTree(rs.getString(2))))
                .list();
    }

    /** Whether delivery {@code id} to {@code name} is waiting for its listener's answer. */
    boolean isWaiting(long workspaceId, String name, long id) {
        return jdbc.sql("""
            SELECT count(*) FROM listen_deliveries
             WHERE id = :id AND workspace_id = :workspace AND name = :name AND claimed_at IS NOT NULL AND answered_at IS NULL
            """)
                        .param("id", id)
                        .param("workspace", workspaceId)
                        .param("name", name)
                        .query(Integer.class)
                        .single()
                == 1;
    }

    /** Gives claimed deliveries that never reached the listener back to the next one. */
    void release(Collection<Long> ids) {
        if (ids.isEmpty()) {
            return;
        }
        jdbc.sql("UPDATE listen_deliveries SET claimed_at = NULL WHERE id = ANY(:ids) AND answered_at IS NULL")
                .param("ids", ids.toArray(Long[]::new))
                .update();
    }

    /** Records a listener's answer; false when the delivery is not (or no longer) waiting for one. */
    boolean answer(long workspaceId, String name, long id, int status, Map<String, String> headers, String body) {
        return jdbc.sql("""
                UPDATE listen_deliveries SET answered_at = :now, response_status = :status,
                       response_headers = CAST(:headers AS jsonb), response_body = :body
                 WHERE id = :id AND workspace_id = :workspace AND name = :name AND claimed_at IS NOT NULL AND answered_at IS NULL
                """)
                        .param("now", Timestamp.from(clock.instant()))
                        .param("status", status)
                        .param("headers", json.writeValueAsString(headers))
                        .param("body", body)
                        .param("id", id)
                        .param("workspace", workspaceId)
                        .param("name", name)
                        .update()
                == 1;
    }
}
