package dev.kikonect.workflow;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.FieldProblem;
import dev.kikonect.common.Fields;
import dev.kikonect.common.Page;
import dev.kikonect.common.PublicUrls;
import dev.kikonect.credentials.Credentials;
import dev.kikonect.execution.DeliveryTargets;
import dev.kikonect.execution.Listeners;
import dev.kikonect.execution.Signatures;
import dev.kikonect.scheduling.Schedule;
import dev.kikonect.steps.Filters;
import dev.kikonect.steps.StepDefinitions;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** Creating, changing, reading and deleting workflows, always scoped to their owner. */
@Service
public class WorkflowService {

    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};
    private static final Set<String> MISFIRE = Set.of("fire_once", "skip");
    private static final Set<String> OVERLAP = Set.of("allow", "skip");
    static final int MAX_PREVIEW = 100;

    private final WorkflowStore store;
    private final Clock clock;
    private final JsonMapper json;
    private final PublicUrls urls;
    private final DeliveryTargets targets;
    private final Filters filters;
    private final Credentials credentials;
    private final KiKonectProperties.Quotas quotas;
    private final TransactionTemplate transactions;

    WorkflowService(
            TransactionTemplate transactions,
            WorkflowStore store,
            Clock clock,
            JsonMapper json,
            PublicUrls urls,
            DeliveryTargets targets,
            KiKonectProperties properties,
            Filters filters,
            Credentials credentials) {
        this.transactions = transactions;
        this.filters = filters;
        this.credentials = credentials;
        this.quotas = properties.quotas();
        this.store = store;
        this.clock = clock;
        this.json = json;
        this.urls = urls;
        this.targets = targets;
    }

    Workflow create(long workspaceId, Map<String, Object> body) {
        return create(workspaceId, body, created -> {});
    }

    /**
     * Validates (outside any transaction: URL checks resolve names), then stores the workflow and hands it to
     * {@code alongside} (the audit entry) in one short transaction.
     */
    Workflow create(long workspaceId, Map<String, Object> body, Consumer<Workflow> alongside) {
        body = asGiven(body);
        Fields fields = Fields.of(body);
        String name = fields.string("name", true, 1, 200);
        StepsChoice steps = steps(workspaceId, null, fields, body, true);
        String onFailureUrl = actionUrl(fields, "on_failure_url", false);
        String filter = filter(fields);
        String output = output(fields);
        Integer maxAttempts = maxAttempts(fields);
        String misfire = choice(fields, "misfire", MISFIRE, "fire_once");
        String overlap = choice(fields, "overlap", OVERLAP, "allow");
        Boolean enabled = fields.bool("enabled");
        TriggerType type = triggerType(fields, true);
        Map<String, Object> config = fields.object("trigger_config", false);
        Map<String, Object> normalized =
                type == null ? Map.of() : TriggerConfigs.validate(type, config, null, fields, quotas.minCronInterval());
        watched(workspaceId, normalized, fields);
        if (steps != null) {
            answeringStep(normalized, steps.actionUrl(), steps.json(), fields);
        }
        fields.throwIfInvalid();
        Instant now = clock.instant();
        Instant next = type.scheduled() ? Schedule.of(type.wire(), normalized).first(now) : null;
        String secret = Signatures.newSecret();
        WorkflowStore.Settings settings = new WorkflowStore.Settings(
                name,
                type,
                steps.actionUrl(),
                steps.json(),
                steps.tracked() || answeringStep(normalized) != null,
                steps.readsRequest(),
                json.writeValueAsString(normalized),
                enabled == null || enabled,
                maxAttempts,
                misfire,
                overlap,
                onFailureUrl,
                filter,
                output);
        return transactions.execute(tx -> {
            long id = store.insert(workspaceId, settings, secret, next, now, quotas.maxWorkflows())
                    .orElseThrow(() -> new DomainException.QuotaExceeded(
                            "kikonect.quotas.max-workflows",
                            "This workspace has " + quotas.maxWorkflows()
                                    + " workflows, the most one workspace may have; delete some first."));
            Workflow created = view(owned(workspaceId, id)).withSigningSecret(secret);
            alongside.accept(created);
            return created;
        });
    }

    /**
     * Changes any of name, action_url, trigger_config, enabled, max_attempts, misfire and overlap, validated as on
     * create. A new schedule starts from now; resuming a paused workflow leaves its missed slot in place, so the
     * scheduler treats it under the misfire policy (fire_once: once now; skip: not at all).
     */
    Workflow update(long workspaceId, long id, Map<String, Object> body) {
        return update(workspaceId, id, body, (before, after) -> {});
    }

    /**
     * Validates outside any transaction, then changes the workflow and hands before and after to {@code alongside}
     * (the audit entry) in one short transaction; the optimistic check makes "before" exactly what was replaced.
     */
    Workflow update(long workspaceId, long id, Map<String, Object> body, BiConsumer<Workflow, Workflow> alongside) {
        StoredWorkflow current = owned(workspaceId, id);
        Fields fields = Fields.of(body);
        if (body.containsKey("trigger_type") && !current.triggerType().wire().equals(body.get("trigger_type"))) {
            fields.problem("trigger_type", "cannot be changed; create a new workflow instead");
        }
        String name = body.containsKey("name") ? fields.string("name", true, 1, 200) : current.name();
        StepsChoice steps = body.containsKey("action_url") || body.containsKey("steps")
                ? steps(workspaceId, id, fields, body, false)
                : null;
        String onFailureUrl = body.containsKey("on_failure_url")
                ? actionUrl(fields, "on_failure_url", false)
                : current.onFailureUrl();
        String filter = body.containsKey("filter") ? filter(fields) : current.filter();
        String output = body.containsKey("output") ? output(fields) : current.output();
        Integer maxAttempts = body.containsKey("max_attempts") ? maxAttempts(fields) : current.maxAttempts();
        String misfire = body.containsKey("misfire") ? choice(fields, "misfire", MISFIRE, null) : current.misfire();
        String overlap = body.containsKey("overlap") ? choice(fields, "overlap", OVERLAP, null) : current.overlap();
        boolean enabled = current.enabled();
        if (body.containsKey("enabled")) {
            Boolean given = fields.bool("enabled");
            if (given == null) {
                fields.problem("enabled", "must be true or false");
            } else {
                enabled = given;
            }
        }
        Map<String, Object> currentConfig = json.readValue(current.triggerConfig(), MAP);
        Map<String, Object> config = currentConfig;
        boolean reschedule = false;
        if (body.containsKey("trigger_config")) {
            Map<String, Object> given = fields.object("trigger_config", true);
            if (given != null) {
                config = TriggerConfigs.validate(
                        current.triggerType(), given, currentConfig, fields, quotas.minCronInterval());
                watched(workspaceId, config, fields);
                reschedule = current.triggerType().scheduled() && !config.equals(currentConfig);
            }
        }
        if (steps != null || body.containsKey("trigger_config")) {
            answeringStep(
                    config,
                    steps == null ? current.actionUrl() : steps.actionUrl(),
                    steps == null ? current.steps() : steps.json(),
                    fields);
        }
        fields.throwIfInvalid();
        Instant now = clock.instant();
        Instant next = null;
        if (reschedule) {
            next = Schedule.of(current.triggerType().wire(), config).first(now);
        } else if (enabled && current.triggerType().scheduled() && current.nextRunAt() == null) {
            reschedule = true;
            next = Schedule.of(current.triggerType().wire(), config).first(now);
        }
        WorkflowStore.Settings settings = new WorkflowStore.Settings(
                name,
                current.triggerType(),
                steps == null ? current.actionUrl() : steps.actionUrl(),
                steps == null ? current.steps() : steps.json(),
                (steps == null ? tracked(current.steps()) : steps.tracked()) || answeringStep(config) != null,
                steps == null ? current.keepsRequest() : steps.readsRequest(),
                json.writeValueAsString(config),
                enabled,
                maxAttempts,
                misfire,
                overlap,
                onFailureUrl,
                filter,
                output);
        boolean rescheduled = reschedule;
        Instant nextRun = next;
        return transactions.execute(tx -> {
            if (!store.update(workspaceId, id, current.updatedAt(), settings, rescheduled, nextRun, now)) {
                throw new DomainException.Conflict(
                        "concurrent-update",
                        "Workflow " + id + " was changed by another request; read it again and retry.");
            }
            Workflow after = view(owned(workspaceId, id));
            alongside.accept(view(current), after);
            return after;
        });
    }

    void delete(long workspaceId, long id) {
        if (!store.delete(workspaceId, id)) {
            throw new DomainException.NotFound("Workflow " + id);
        }
    }

    /** A new signing secret, shown once; the old one keeps signing too for 24 hours. */
    Map<String, Object> rotateSecret(long workspaceId, long id) {
        String secret = Signatures.newSecret();
        Instant now = clock.instant();
        Instant until = store.rotateSecret(workspaceId, id, secret, now.plus(Duration.ofHours(24)), now)
                .orElseThrow(() -> new DomainException.NotFound("Workflow " + id));
        return Map.of("signing_secret", secret, "previous_secret_expires_at", until.toString());
    }

    /** A new webhook token (and URL); the old one stops working at once. */
    Workflow rotateToken(long workspaceId, long id) {
        StoredWorkflow current = owned(workspaceId, id);
        if (current.triggerType() != TriggerType.WEBHOOK) {
            throw new DomainException.Conflict(
                    "not-a-webhook",
                    "Workflow " + id + " is a " + current.triggerType().wire()
                            + " workflow; only webhook workflows have a token.");
        }
        store.rotateToken(workspaceId, id, TriggerConfigs.newToken(), clock.instant());
        return view(owned(workspaceId, id));
    }

    Page<Workflow> list(long workspaceId, String triggerType, Boolean enabled, String cursor, Integer limit) {
        if (triggerType != null && TriggerType.fromWire(triggerType).isEmpty()) {
            throw new DomainException.InvalidInput(List.of(
                    new FieldProblem("trigger_type", "must be one of manual, webhook, interval, cron, run_failed")));
        }
        int pageSize = Page.limit(limit);
        Page<StoredWorkflow> page = Page.of(
                store.list(workspaceId, triggerType, enabled, Page.before(cursor), pageSize),
                pageSize,
                StoredWorkflow::id);
        return new Page<>(page.items().stream().map(this::view).toList(), page.nextCursor());
    }

    Workflow get(long workspaceId, long id) {
        return view(owned(workspaceId, id));
    }

    /** The next fire times of a stored workflow. */
    Map<String, Object> schedule(long workspaceId, long id, Integer count) {
        StoredWorkflow w = owned(workspaceId, id);
        if (!w.triggerType().scheduled()) {
            throw new DomainException.Conflict(
                    "not-scheduled",
                    "Workflow " + id + " is a " + w.triggerType().wire() + " workflow; it has no schedule.");
        }
        Map<String, Object> config = json.readValue(w.triggerConfig(), MAP);
        return preview(w.triggerType(), config, w.nextRunAt(), count);
    }

    /** The next fire times of a trigger that is not saved yet; invalid configs get the same 400 as on create. */
    Map<String, Object> preview(Map<String, Object> body) {
        Fields fields = Fields.of(body);
        TriggerType type = triggerType(fields, true);
        if (type != null && !type.scheduled()) {
            fields.problem("trigger_type", "must be interval or cron to have a schedule");
        }
        Map<String, Object> config = fields.object("trigger_config", true);
        Map<String, Object> normalized = type == null || !type.scheduled()
                ? Map.of()
                : TriggerConfigs.validate(type, config, null, fields, quotas.minCronInterval());
        Long count = fields.integer("count", false, 1, MAX_PREVIEW);
        fields.throwIfInvalid();
        return preview(type, normalized, null, count == null ? null : count.intValue());
    }

    private Map<String, Object> preview(
            TriggerType type, Map<String, Object> config, Instant nextRunAt, Integer count) {
        int n = count == null ? 10 : count;
        if (n < 1 || n > MAX_PREVIEW) {
            throw new DomainException.InvalidInput(
                    List.of(new FieldProblem("count", "must be between 1 and " + MAX_PREVIEW)));
        }
        Schedule schedule = Schedule.of(type.wire(), config);
        ZoneId zone = ZoneId.of(type == TriggerType.CRON ? (String) config.get("timezone") : "UTC");
        List<Map<String, Object>> times = schedule.upcoming(nextRunAt, clock.instant(), n).stream()
                .map(t -> Map.<String, Object>of(
                        "at", t.toString(), "local", t.atZone(zone).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)))
                .toList();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("trigger_type", type.wire());
        result.put("timezone", zone.getId());
        result.put("fire_times", times);
        return result;
    }

    /**
     * An error workflow's watched ids ({@code trigger_config.workflows}) must be workflows of its workspace, and not
     * error workflows themselves: an error workflow's failure starts nothing (no loops).
     */
    private void watched(long workspaceId, Map<String, Object> config, Fields fields) {
        if (!(config.get("workflows") instanceof List<?> ids)) {
            return;
        }
        Map<Long, TriggerType> found = store.triggerTypes(
                workspaceId, ids.stream().mapToLong(id -> (Long) id).toArray());
        for (Object id : ids) {
            TriggerType type = found.get((Long) id);
            if (type == null) {
                fields.problem("trigger_config.workflows", "names no workflow of this workspace: " + id);
            } else if (type == TriggerType.RUN_FAILED) {
                fields.problem(
                        "trigger_config.workflows",
                        "names " + id + ", an error workflow (run_failed) itself: their failures start nothing");
            }
        }
    }

    /** The caller's workflow; another user's answers exactly like a missing one. */
    public StoredWorkflow owned(long workspaceId, long id) {
        return store.findOwned(workspaceId, id).orElseThrow(() -> new DomainException.NotFound("Workflow " + id));
    }

    public Optional<StoredWorkflow> byWebhookToken(String token) {
        return store.findByWebhookToken(token);
    }

    private static TriggerType triggerType(Fields fields, boolean required) {
        String typeName = fields.string("trigger_type", required, 1, 20);
        if (typeName == null) {
            return null;
        }
        Optional<TriggerType> type = TriggerType.fromWire(typeName);
        if (type.isEmpty()) {
            fields.problem("trigger_type", "must be one of manual, webhook, interval, cron, run_failed");
        }
        return type.orElse(null);
    }

    private static Integer maxAttempts(Fields fields) {
        Long value = fields.integer("max_attempts", false, 1, 20);
        return value == null ? null : value.intValue();
    }

    private static String choice(Fields fields, String field, Set<String> allowed, String fallback) {
        String value = fields.string(field, fallback == null, 1, 20);
        if (value == null) {
            return fallback;
        }
        if (!allowed.contains(value)) {
            fields.problem(
                    field,
                    "must be one of "
                            + String.join(", ", allowed.stream().sorted().toList()));
            return fallback;
        }
        return value;
    }

    /**
     * The optional {@code output}: a JSONata expression over {@code payload} and {@code steps}, what a run of this
     * workflow answers the step of another run that ran it; checked here (a 400 with the parser's position).
     */
    private String output(Fields fields) {
        if (fields.raw("output") == null) {
            return null;
        }
        String output = fields.string("output", false, 1, 65_536);
        if (output != null) {
            filters.problem(output).ifPresent(reason -> fields.problem("output", reason));
        }
        return output;
    }

    /** The optional {@code filter}: a JSONata condition, checked here (a 400 with the parser's position). */
    private String filter(Fields fields) {
        if (fields.raw("filter") == null) {
            return null;
        }
        String filter = fields.string("filter", false, 1, 65_536);
        if (filter != null) {
            filters.problem(filter).ifPresent(reason -> fields.problem("filter", reason));
        }
        return filter;
    }

    /** A workflow's steps as stored: the JSON, and what runs need to know of them. */
    private record StepsChoice(String actionUrl, String json, boolean tracked, boolean readsRequest) {}

    /**
     * A new workflow's fields as given: a field set to null is a field not given (clients generated from the OpenAPI
     * description send every optional field, null when unset), and so is an empty {@code steps} beside
     * {@code action_url} (they send unset lists as []). On PATCH null keeps its meaning ("clear it").
     */
    static Map<String, Object> asGiven(Map<String, Object> body) {
        Map<String, Object> given = new LinkedHashMap<>();
        body.forEach((k, v) -> {
            if (v != null) {
                given.put(k, v);
            }
        });
        if (given.get("steps") instanceof List<?> steps && steps.isEmpty() && given.containsKey("action_url")) {
            given.remove("steps");
        }
        return given;
    }

    /** The most a workflow's steps may take as JSON. */
    static final int MAX_STEPS_JSON = 256 * 1024;

    /**
     * The workflow's steps: {@code steps} as given, or the shorthand {@code action_url} as one step {@code deliver}
     * that POSTs the payload byte for byte. Not both. Static step URLs are checked by the SSRF guard now, as {@code
     * action_url} is; templated ones when they are sent.
     */
    @SuppressWarnings("unchecked")
    private StepsChoice steps(long workspaceId, Long self, Fields fields, Map<String, Object> body, boolean required) {
        if (body.containsKey("action_url") && body.containsKey("steps")) {
            fields.problem("steps", "give either action_url (one step that POSTs the payload) or steps, not both");
            return null;
        }
        if (!body.containsKey("steps")) {
            if (required && body.get("action_url") == null) {
                fields.problem("action_url", "is required (or give steps)");
                return null;
            }
            String url = actionUrl(fields, "action_url", true);
            if (url == null) {
                return null;
            }
            Map<String, Object> deliver = new LinkedHashMap<>();
            deliver.put("key", "deliver");
            deliver.put("url", url);
            return new StepsChoice(url, json.writeValueAsString(List.of(deliver)), false, false);
        }
        StepDefinitions.Definition definition;
        try {
            definition =
                    StepDefinitions.parse(Map.of("steps", body.get("steps") == null ? List.of() : body.get("steps")));
        } catch (DomainException.InvalidInput e) {
            e.problems().forEach(p -> fields.problem(p.field(), p.reason()));
            return null;
        }
        List<Object> raw = (List<Object>) body.get("steps");
        for (int i = 0; i < raw.size(); i++) {
            Map<String, Object> step = (Map<String, Object>) raw.get(i);
            if (step.get("workflow") instanceof Number called) {
                calledWorkflow(workspaceId, self, called.longValue(), "steps[" + i + "].workflow", fields);
                continue;
            }
            String url = (String) step.get("url");
            if (url == null) {
                continue; // a step that only waits (StepDefinitions allowed it)
            }
            if (!url.contains("{{")) {
                Fields one = Fields.of(Map.of("steps[" + i + "].url", url));
                actionUrl(one, "steps[" + i + "].url", true);
                one.problems().forEach(p -> fields.problem(p.field(), p.reason()));
            }
            if (step.get("credential") != null && url.startsWith("listen://")) {
                // the listener (a laptop) would get the secret, and the mailbox would hold it while waiting
                fields.problem(
                        "steps[" + i + "].credential",
                        "cannot be used with a listen:// URL: the listener would receive the secret");
            }
            if (step.get("credential") instanceof String credential && !credentials.exists(workspaceId, credential)) {
                fields.problem(
                        "steps[" + i + "].credential",
                        "names no credential of yours: '" + credential + "' (create it with POST /credentials)");
            }
        }
        String text = json.writeValueAsString(raw);
        if (text.length() > MAX_STEPS_JSON) {
            fields.problem("steps", "takes " + text.length() + " characters as JSON; at most " + MAX_STEPS_JSON);
            return null;
        }
        return new StepsChoice(null, text, definition.tracked(), definition.readsRequest());
    }

    /**
     * A step's {@code workflow} must be a workflow of the workspace, not the one being saved, and what it runs must
     * not come back to it (a cycle) nor nest deeper than {@link SubRuns#MAX_DEPTH}.
     */
    private void calledWorkflow(long workspaceId, Long self, long called, String field, Fields fields) {
        if (self != null && called == self) {
            fields.problem(field, "names this workflow itself: a workflow cannot run itself");
            return;
        }
        if (store.findOwned(workspaceId, called).isEmpty()) {
            fields.problem(field, "names no workflow of this workspace: " + called);
            return;
        }
        List<Long> cycle = new ArrayList<>();
        int depth = depthOf(workspaceId, called, self, new ArrayList<>(List.of(called)), cycle);
        if (!cycle.isEmpty()) {
            fields.problem(
                    field,
                    "makes a cycle: this workflow -> "
                            + cycle.stream().map(String::valueOf).collect(Collectors.joining(" -> "))
                            + " -> this workflow");
        } else if (depth > StepDefinitions.MAX_WORKFLOW_DEPTH) {
            fields.problem(
                    field, "nests sub-workflows " + depth + " deep; at most " + StepDefinitions.MAX_WORKFLOW_DEPTH);
        }
    }

    /**
     * How deep the runs of workflow {@code id} nest (1: it runs no workflow); fills {@code cycle} with the path when
     * it comes back to {@code self}. Stops looking past {@link SubRuns#MAX_DEPTH} + 1.
     */
    @SuppressWarnings("unchecked")
    private int depthOf(long workspaceId, long id, Long self, List<Long> path, List<Long> cycle) {
        if (path.size() > StepDefinitions.MAX_WORKFLOW_DEPTH + 1) {
            return path.size();
        }
        Optional<StoredWorkflow> workflow = store.findOwned(workspaceId, id);
        if (workflow.isEmpty() || workflow.get().steps() == null) {
            return 1;
        }
        int deepest = 1;
        for (Object step : json.readValue(workflow.get().steps(), List.class)) {
            if (((Map<String, Object>) step).get("workflow") instanceof Number next) {
                long nextId = next.longValue();
                if (self != null && nextId == self) {
                    cycle.addAll(path);
                    return deepest;
                }
                if (path.contains(nextId)) {
                    continue; // a cycle among the others: refused when they were saved
                }
                path.add(nextId);
                deepest = Math.max(deepest, 1 + depthOf(workspaceId, nextId, self, path, cycle));
                path.remove(path.size() - 1);
                if (!cycle.isEmpty()) {
                    return deepest;
                }
            }
        }
        return deepest;
    }

    /** Whether stored steps need per-step state (see {@link dev.kikonect.steps.StepDefinitions.Definition#tracked}). */
    @SuppressWarnings("unchecked")
    /** The step whose answer a webhook's caller waits for ({@code trigger_config.respond}, mode step), if any. */
    private static String answeringStep(Map<String, Object> config) {
        return config.get("respond") instanceof Map<?, ?> respond && "step".equals(respond.get("mode"))
                ? (String) respond.get("step")
                : null;
    }

    /**
     * A caller held for a step's answer needs a step of that name among the workflow's steps (runs of such a workflow
     * keep each step's state, and the answering step's response, whatever the steps need).
     */
    private void answeringStep(Map<String, Object> config, String actionUrl, String stepsJson, Fields fields) {
        String key = answeringStep(config);
        if (key == null) {
            return;
        }
        if (actionUrl != null) {
            fields.problem(
                    "trigger_config.respond.step",
                    "needs the workflow's steps: give steps (one step {key, url} does what action_url does)");
            return;
        }
        List<?> list = stepsJson == null ? List.of() : json.readValue(stepsJson, List.class);
        List<String> keys = list.stream()
                .map(step -> step instanceof Map<?, ?> m ? String.valueOf(m.get("key")) : "")
                .toList();
        if (!keys.contains(key)) {
            fields.problem(
                    "trigger_config.respond.step",
                    "names no step of this workflow: '" + key + "' (its steps: " + String.join(", ", keys) + ")");
        }
    }

    private boolean tracked(String steps) {
        return StepDefinitions.parse(Map.of("steps", json.readValue(steps, List.class)))
                .tracked();
    }

    private String actionUrl(Fields fields, String field, boolean required) {
        String url = fields.string(field, required, 1, 2048);
        if (url == null) {
            return null;
        }
        try {
            URI uri = new URI(url);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
            if (scheme.equals("listen")) {
                // kikonect listen: delivered to the workspace's listener of that name, never to the network
                if (!Listeners.validName(uri.getAuthority())
                        || (uri.getRawPath() != null && !uri.getRawPath().isEmpty())) {
                    fields.problem(
                            field,
                            "listen:// needs a listener name of 1 to 40 lower-case letters, digits and dashes, like listen://dev");
                    return null;
                }
                return url;
            }
            if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
                fields.problem(field, "must be an absolute http or https URL, like https://example.com/hook");
                return null;
            }
            if (uri.getPort() == 0 || uri.getPort() > 65535) {
                fields.problem(field, "has port " + uri.getPort() + "; a port is 1 to 65535");
                return null;
            }
            if (uri.getUserInfo() != null) {
                fields.problem(field, "must not contain credentials; use a signed delivery instead");
                return null;
            }
            Optional<String> refusal = targets.refusal(uri);
            if (refusal.isPresent()) {
                fields.problem(
                        field,
                        "is refused: " + refusal.get() + "; KiKonect delivers only to public addresses unless "
                                + "kikonect.delivery.allow-private-networks or kikonect.delivery.allowed-cidrs allow it");
                return null;
            }
        } catch (URISyntaxException e) {
            fields.problem(field, "is not a valid URL: " + e.getReason());
            return null;
        }
        return url;
    }

    Workflow view(StoredWorkflow w) {
        String webhookUrl = null;
        if (w.triggerType() == TriggerType.WEBHOOK) {
            Map<String, Object> config = json.readValue(w.triggerConfig(), MAP);
            webhookUrl = urls.base() + "/hooks/" + config.get("token");
        }
        return new Workflow(
                w.id(),
                w.name(),
                w.triggerType().wire(),
                w.actionUrl(),
                w.steps(),
                w.triggerConfig(),
                w.enabled(),
                w.maxAttempts(),
                w.misfire(),
                w.overlap(),
                w.onFailureUrl(),
                w.filter(),
                w.output(),
                w.nextRunAt(),
                w.lastFiredAt(),
                w.lastRunStatus(),
                w.lastRunAt(),
                webhookUrl,
                w.createdAt(),
                w.updatedAt(),
                null);
    }
}
