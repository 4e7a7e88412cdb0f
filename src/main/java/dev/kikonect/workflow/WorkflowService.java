package dev.kikonect.workflow;

import dev.kikonect.common.Fields;
import dev.kikonect.common.Page;
import dev.kikonect.execution.DeliveryTargets;
import dev.kikonect.execution.Signatures;
import dev.kikonect.web.ApiException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Service;
import tools.jackson.databind.json.JsonMapper;

/** Creating, reading and listing workflows, always scoped to their owner. */
@Service
public class WorkflowService {

  private final WorkflowStore store;
  private final Clock clock;
  private final JsonMapper json;
  private final Environment environment;
  private final String configuredBaseUrl;

  private final DeliveryTargets targets;

  WorkflowService(
      WorkflowStore store,
      Clock clock,
      JsonMapper json,
      Environment environment,
      dev.kikonect.KiKonectProperties properties,
      DeliveryTargets targets) {
    this.store = store;
    this.targets = targets;
    this.clock = clock;
    this.json = json;
    this.environment = environment;
    this.configuredBaseUrl = properties.publicBaseUrl();
  }

  Workflow create(long userId, Map<String, Object> body) {
    Fields fields = Fields.of(body);
    String name = fields.string("name", true, 1, 200);
    String actionUrl = actionUrl(fields);
    Long maxAttempts = fields.integer("max_attempts", false, 1, 20);
    String typeName = fields.string("trigger_type", true, 1, 20);
    TriggerType type = null;
    if (typeName != null) {
      type = TriggerType.fromWire(typeName).orElse(null);
      if (type == null) {
        fields.problem("trigger_type", "must be one of manual, webhook, interval, cron");
      }
    }
    Map<String, Object> config = fields.object("trigger_config", false);
    Map<String, Object> normalized = type == null ? Map.of() : TriggerConfigs.validate(type, config, fields);
    fields.throwIfInvalid();
    Instant now = clock.instant();
    Instant next = type.scheduled() ? dev.kikonect.scheduling.Schedule.of(type.wire(), normalized).first(now) : null;
    String secret = Signatures.newSecret();
    StoredWorkflow stored =
        store.insert(
            userId,
            name,
            type,
            actionUrl,
            json.writeValueAsString(normalized),
            maxAttempts == null ? null : maxAttempts.intValue(),
            secret,
            next,
            now);
    return view(stored).withSigningSecret(secret);
  }

  /** A new signing secret, shown once; the old one keeps signing too for 24 hours. */
  Map<String, Object> rotateSecret(long userId, long id) {
    String secret = Signatures.newSecret();
    Instant now = clock.instant();
    Instant until =
        store
            .rotateSecret(userId, id, secret, now.plus(java.time.Duration.ofHours(24)), now)
            .orElseThrow(() -> ApiException.notFound("Workflow " + id));
    return Map.of("signing_secret", secret, "previous_secret_expires_at", until.toString());
  }

  private String actionUrl(Fields fields) {
    String url = fields.string("action_url", true, 1, 2048);
    if (url == null) {
      return null;
    }
    try {
      URI uri = new URI(url);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
      if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
        fields.problem("action_url", "must be an absolute http or https URL, like https://example.com/hook");
        return null;
      }
      if (uri.getUserInfo() != null) {
        fields.problem("action_url", "must not contain credentials; use a signed delivery instead");
        return null;
      }
      Optional<String> refusal = targets.refusal(uri);
      if (refusal.isPresent()) {
        fields.problem(
            "action_url",
            "is refused: " + refusal.get() + "; KiKonect delivers only to public addresses unless "
                + "kikonect.delivery.allow-private-networks or kikonect.delivery.allowed-cidrs allow it");
        return null;
      }
    } catch (URISyntaxException e) {
      fields.problem("action_url", "is not a valid URL: " + e.getReason());
      return null;
    }
    return url;
  }

  Page<Workflow> list(long userId, String cursor, Integer limit) {
    int pageSize = Page.limit(limit);
    Page<StoredWorkflow> page = Page.of(store.list(userId, Page.before(cursor), pageSize), pageSize, StoredWorkflow::id);
    return new Page<>(page.items().stream().map(this::view).toList(), page.nextCursor());
  }

  Workflow get(long userId, long id) {
    return view(owned(userId, id));
  }

  /** The caller's workflow; another user's answers exactly like a missing one. */
  public StoredWorkflow owned(long userId, long id) {
    return store.findOwned(userId, id).orElseThrow(() -> ApiException.notFound("Workflow " + id));
  }

  public Optional<StoredWorkflow> byWebhookToken(String token) {
    return store.findByWebhookToken(token);
  }

  Workflow view(StoredWorkflow w) {
    String webhookUrl = null;
    if (w.triggerType() == TriggerType.WEBHOOK) {
      Map<?, ?> config = json.readValue(w.triggerConfig(), Map.class);
      webhookUrl = baseUrl() + "/hooks/" + config.get("token");
    }
    return new Workflow(
        w.id(),
        w.name(),
        w.triggerType().wire(),
        w.actionUrl(),
        w.triggerConfig(),
        w.enabled(),
        w.maxAttempts(),
        w.nextRunAt(),
        w.lastFiredAt(),
        webhookUrl,
        w.createdAt(),
        w.updatedAt(),
        null);
  }

  private String baseUrl() {
    if (configuredBaseUrl != null && !configuredBaseUrl.isBlank()) {
      return configuredBaseUrl.replaceAll("/+$", "");
    }
    return "http://localhost:" + environment.getProperty("local.server.port", environment.getProperty("server.port", "8080"));
  }
}
