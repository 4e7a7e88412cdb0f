package dev.kikonect.trigger;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.kikonect.workflow.StoredWorkflow;
import dev.kikonect.workflow.TriggerType;
import dev.kikonect.workflow.WorkflowService;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Component;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Webhook token → workflow, remembered for a while so that a webhook costs no query of its own: the workflow is read
 * once, not once per request.
 *
 * <p>A remembered workflow may be out of date (paused, deleted, token or verification settings changed, perhaps on
 * another node). That is safe because nothing is accepted on its word alone: the statement that inserts the run
 * re-checks, row by row, that the workflow is still enabled, its trigger_config (token and verification secret)
 * is still the one the request was checked against, and it was not changed since it was read (updated_at: its filter
 * and steps decided what was checked and kept for the request) ({@code lifecycle.Ingest#enqueueIfCurrent}). When it is not, the entry
 * is dropped and the request is checked again against the database ({@link #fresh}).
 */
@Component
class HookLookup {

    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};
    /** Bounds what a stale entry costs (memory; one extra round trip); correctness does not depend on it. */
    static final Duration TTL = Duration.ofMinutes(1);

    static final int MAX_ENTRIES = 10_000;

    /** Hook tokens are 32 URL-safe base64 characters (24 random bytes); anything else cannot be one. */
    static final int MAX_TOKEN_LENGTH = 64;

    /** Whether {@code token} could be a hook token at all: short and URL-safe base64 only. */
    static boolean plausible(String token) {
        if (token.isEmpty() || token.length() > MAX_TOKEN_LENGTH) {
            return false;
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
                return false;
            }
        }
        return true;
    }

    /** A webhook workflow and its parsed trigger_config. */
    record Hook(StoredWorkflow workflow, Map<String, Object> config) {}

    private final WorkflowService workflows;
    private final JsonMapper json;
    /** Caffeine: at most {@link #MAX_ENTRIES} hooks, each for {@link #TTL} after it was read, on the injected clock. */
    private final Cache<String, Hook> entries;

    HookLookup(WorkflowService workflows, JsonMapper json, Clock clock) {
        this.workflows = workflows;
        this.json = json;
        this.entries = Caffeine.newBuilder()
                .maximumSize(MAX_ENTRIES)
                .expireAfterWrite(TTL)
                .ticker(() -> clock.instant().toEpochMilli() * 1_000_000L)
                .build();
    }

    /**
     * The webhook workflow of {@code token}, remembered or read; empty if there is none. A remembered paused workflow
     * is read again (it may have been resumed): only a "yes" is taken from memory, a "no" always from the database.
     */
    Optional<Hook> find(String token) {
        Hook remembered = entries.getIfPresent(token);
        if (remembered != null && remembered.workflow().enabled()) {
            return Optional.of(remembered);
        }
        return fresh(token);
    }

    /** Whether {@code token} is a webhook this node read lately (no query): such a token is known to exist. */
    boolean remembered(String token) {
        return entries.getIfPresent(token) != null;
    }

    /** Reads the workflow of {@code token} from the database and remembers it. */
    Optional<Hook> fresh(String token) {
        Optional<Hook> hook = workflows
                .byWebhookToken(token)
                .filter(w -> w.triggerType() == TriggerType.WEBHOOK)
                .map(w -> new Hook(w, json.readValue(w.triggerConfig(), MAP)));
        if (hook.isEmpty()) {
            entries.invalidate(
                    token); // unknown tokens are not remembered: a scan of random tokens must not fill memory
            return hook;
        }
        entries.put(token, hook.get());
        return hook;
    }
}
