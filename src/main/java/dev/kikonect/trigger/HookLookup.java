package dev.kikonect.trigger;

import dev.kikonect.workflow.StoredWorkflow;
import dev.kikonect.workflow.TriggerType;
import dev.kikonect.workflow.WorkflowService;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Webhook token → workflow, remembered for a while so that a webhook costs no query of its own: the workflow is read
 * once, not once per request.
 *
 * <p>A remembered workflow may be out of date (paused, deleted, token or verification settings changed, perhaps on
 * another node). That is safe because nothing is accepted on its word alone: the statement that inserts the run
 * re-checks, row by row, that the workflow is still enabled and its trigger_config (token and verification secret)
 * is still the one the request was checked against ({@code lifecycle.Ingest#enqueueIfCurrent}). When it is not, the entry
 * is dropped and the request is checked again against the database ({@link #fresh}).
 */
@Component
class HookLookup {

  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};
  /** Bounds what a stale entry costs (memory; one extra round trip); correctness does not depend on it. */
  static final Duration TTL = Duration.ofMinutes(1);

  static final int MAX_ENTRIES = 10_000;

  /** A webhook workflow and its parsed trigger_config. */
  record Hook(StoredWorkflow workflow, Map<String, Object> config) {}

  private record Entry(Hook hook, Instant expires) {}

  private final WorkflowService workflows;
  private final JsonMapper json;
  private final Clock clock;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();

  HookLookup(WorkflowService workflows, JsonMapper json, Clock clock) {
    this.workflows = workflows;
    this.json = json;
    this.clock = clock;
  }

  /**
   * The webhook workflow of {@code token}, remembered or read; empty if there is none. A remembered paused workflow
   * is read again (it may have been resumed): only a "yes" is taken from memory, a "no" always from the database.
   */
  Optional<Hook> find(String token) {
    Entry entry = entries.get(token);
    if (entry != null && entry.hook().workflow().enabled() && clock.instant().isBefore(entry.expires())) {
      return Optional.of(entry.hook());
    }
    return fresh(token);
  }

  /** Reads the workflow of {@code token} from the database and remembers it. */
  Optional<Hook> fresh(String token) {
    Optional<Hook> hook =
        workflows
            .byWebhookToken(token)
            .filter(w -> w.triggerType() == TriggerType.WEBHOOK)
            .map(w -> new Hook(w, json.readValue(w.triggerConfig(), MAP)));
    if (hook.isEmpty()) {
      entries.remove(token); // unknown tokens are not remembered: a scan of random tokens must not fill memory
      return hook;
    }
    if (entries.size() >= MAX_ENTRIES) {
      entries.clear(); // crude but bounded; the busy hooks are back after one request each
    }
    entries.put(token, new Entry(hook.get(), clock.instant().plus(TTL)));
    return hook;
  }
}
