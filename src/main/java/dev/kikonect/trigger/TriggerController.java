package dev.kikonect.trigger;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.audit.AuditLog;
import dev.kikonect.auth.Caller;
import dev.kikonect.auth.Scope;
import dev.kikonect.auth.Scoped;
import dev.kikonect.common.DatabaseHealth;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.FieldProblem;
import dev.kikonect.common.Fields;
import dev.kikonect.lifecycle.Idempotency;
import dev.kikonect.lifecycle.Ingest;
import dev.kikonect.lifecycle.Replays;
import dev.kikonect.lifecycle.Run;
import dev.kikonect.lifecycle.RunFilter;
import dev.kikonect.lifecycle.RunStatus;
import dev.kikonect.steps.ExpressionException;
import dev.kikonect.steps.ExpressionSandbox;
import dev.kikonect.steps.Filters;
import dev.kikonect.steps.HookAnswers;
import dev.kikonect.web.PublicEndpoint;
import dev.kikonect.workflow.StoredWorkflow;
import dev.kikonect.workflow.WorkflowService;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.json.JsonMapper;

/** The entry points that fire a workflow on request: manual triggers, webhooks and replays. */
@RestController
class TriggerController {

    private final WorkflowService workflows;
    private final Ingest ingest;
    private final Idempotency idempotency;
    private final Replays replays;
    private final PayloadReader payloads;
    private final HookRateLimiter rateLimiter;
    private final HookLookup hooks;
    private final JsonMapper json;
    private final Clock clock;

    private final DatabaseHealth database;
    private final RunQuota runQuota;
    private final Filters filters;
    private final int maxBulkReplay;

    private final AuditLog audit;
    private final TransactionTemplate transactions;
    private final HookAnswers answers;
    private final HeldResponses held;

    TriggerController(
            AuditLog audit,
            TransactionTemplate transactions,
            WorkflowService workflows,
            Ingest ingest,
            Idempotency idempotency,
            Replays replays,
            PayloadReader payloads,
            HookRateLimiter rateLimiter,
            HookLookup hooks,
            JsonMapper json,
            Clock clock,
            DatabaseHealth database,
            RunQuota runQuota,
            Filters filters,
            HookAnswers answers,
            HeldResponses held,
            KiKonectProperties properties) {
        this.answers = answers;
        this.held = held;
        this.audit = audit;
        this.transactions = transactions;
        this.runQuota = runQuota;
        this.filters = filters;
        this.maxBulkReplay = properties.quotas().maxBulkReplay();
        this.workflows = workflows;
        this.ingest = ingest;
        this.idempotency = idempotency;
        this.replays = replays;
        this.payloads = payloads;
        this.rateLimiter = rateLimiter;
        this.hooks = hooks;
        this.json = json;
        this.clock = clock;
        this.database = database;
    }

    @Scoped(Scope.TRIGGER)
    @PostMapping("/workflows/{id}/trigger")
    ResponseEntity<Run> trigger(Caller caller, @PathVariable long id, HttpServletRequest request) {
        StoredWorkflow workflow = workflows.owned(caller.workspaceId(), id);
        requireEnabled(workflow);
        String payload = payloads.read(request);
        runQuota.take(caller.workspaceId(), 1);
        Optional<Filters.Verdict> stopped = stoppedByFilter(workflow, payload, "manual", request);
        if (stopped.isPresent()) {
            return accepted(ingest.enqueueIfCurrent(
                            workflow.id(),
                            workflow.workspaceId(),
                            "manual",
                            payload,
                            null,
                            outcome(stopped.get()),
                            stopped.get().error(),
                            null,
                            null)
                    .orElseThrow(() -> new DomainException.Conflict(
                            "workflow-paused", "Workflow " + workflow.id() + " was paused or deleted meanwhile.")));
        }
        return enqueue(
                workflow, "manual", payload, request.getHeader("Idempotency-Key"), requestContext(workflow, request));
    }

    /**
     * GET (and HEAD) on a webhook, for workflows whose {@code trigger_config.methods} has GET: senders that verify an
     * endpoint with a GET (Meta's hub.challenge, Microsoft Graph's validation). The query is the payload; a HEAD never
     * starts a run.
     */
    @PublicEndpoint
    @GetMapping("/hooks/{token}")
    ResponseEntity<?> hookGet(@PathVariable String token, HttpServletRequest request)
            throws HttpRequestMethodNotSupportedException {
        return hook(token, request);
    }

    /** No login: the unguessable token in the URL is the credential (plus a signature, if the workflow asks). */
    @PublicEndpoint
    @PostMapping("/hooks/{token}")
    ResponseEntity<?> hook(@PathVariable String token, HttpServletRequest request)
            throws HttpRequestMethodNotSupportedException {
        // Unknown tokens cost no state: an implausible one is refused before anything, a well-formed one is looked up
        // (unknown tokens are not remembered) before it gets a rate-limit bucket.
        if (!HookLookup.plausible(token)) {
            throw new DomainException.NotFound("Webhook");
        }
        database.requireUp(); // 503 at once while the database does not answer, rather than a request that hangs
        boolean idempotent = request.getHeader("Idempotency-Key") != null;
        HookLookup.Hook hook = (idempotent ? hooks.fresh(token) : hooks.find(token))
                .orElseThrow(() -> new DomainException.NotFound("Webhook"));
        Optional<Duration> wait = rateLimiter.acquire(token);
        if (wait.isPresent()) {
            long seconds = Math.max(1, (wait.get().toMillis() + 999) / 1000);
            throw new DomainException.RateLimited(
                    "rate-limited",
                    "Too many requests",
                    "This webhook takes at most its configured rate (kikonect.hooks.rate-limit); retry after " + seconds
                            + " s.",
                    Duration.ofSeconds(seconds));
        }
        if (!idempotent && HookVerifier.remembersDeliveries(hook.config())) {
            // A signed delivery is remembered by its id (replays get the earlier run): that path reads the workflow
            // fresh.
            hook = hooks.fresh(token).orElseThrow(() -> new DomainException.NotFound("Webhook"));
            idempotent = true;
        }
        requireEnabled(hook.workflow());
        boolean post = "POST".equals(request.getMethod());
        if (!post && !methods(hook.config()).contains("GET")) {
            throw new HttpRequestMethodNotSupportedException(request.getMethod(), methods(hook.config()));
        }
        byte[] body = post ? payloads.readBytes(request) : new byte[0];
        Optional<ResponseEntity<?>> accepted = acceptHook(hook, body, idempotent, request);
        if (accepted.isEmpty()) {
            // The remembered workflow was out of date (paused, deleted, token or verification settings changed): check
            // the request again against the workflow as it is now.
            hook = hooks.fresh(token).orElseThrow(() -> new DomainException.NotFound("Webhook"));
            requireEnabled(hook.workflow());
            accepted = acceptHook(hook, body, idempotent, request);
        }
        return accepted.orElseThrow(() -> new DomainException.Conflict(
                "workflow-changed", "The workflow changed while this webhook was being accepted; send it again."));
    }

    @SuppressWarnings("unchecked")
    private static List<String> methods(Map<String, Object> config) {
        return config.get("methods") instanceof List<?> list ? (List<String>) list : List.of("POST");
    }

    /**
     * Verifies and enqueues; empty when the workflow changed since {@code hook} was read (nothing enqueued then). The
     * answer is the workflow's own ({@code trigger_config.respond}) when it gives one, else the run with a 202.
     */
    private Optional<ResponseEntity<?>> acceptHook(
            HookLookup.Hook hook, byte[] body, boolean idempotent, HttpServletRequest request) {
        StoredWorkflow workflow = hook.workflow();
        boolean post = "POST".equals(request.getMethod());
        if (post) {
            // A GET brings no body to sign, and the senders that verify with a GET do not sign it: its filter and its
            // answer decide (a GET answered by respond and dropped by the filter makes no run at all).
            Optional<String> refused = HookVerifier.check(hook.config(), request, body, clock.instant());
            if (refused.isPresent()) {
                throw new DomainException.NotAuthenticated("Signature verification failed: " + refused.get() + ".");
            }
        }
        String payload =
                post ? payloads.toPayload(body, request.getContentType()) : json.writeValueAsString(query(request));
        Map<String, Object> respond = respondOf(hook.config());
        if ("HEAD".equals(request.getMethod())) {
            return Optional.of(answerWithoutRun(workflow, respond, payload, request)); // a HEAD never starts a run
        }
        runQuota.take(workflow.workspaceId(), 1);
        Optional<Filters.Verdict> stopped = stoppedByFilter(workflow, payload, "webhook", request);
        if (stopped.isPresent() && !post && respond != null) {
            return Optional.of(answerWithoutRun(workflow, respond, payload, request)); // a handshake: no run
        }
        return acceptRun(hook, workflow, payload, body, stopped, idempotent, request)
                .map(accepted -> answered(workflow, respond, payload, request, accepted));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> respondOf(Map<String, Object> config) {
        return config.get("respond") instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
    }

    /** What the workflow's answer is made from: the request, the run it started ({@code runId}, null: none). */
    private static HookAnswers.Call call(
            StoredWorkflow workflow, String payload, HttpServletRequest request, Long runId) {
        return new HookAnswers.Call(payload, headers(request), query(request), runId, workflow.id(), workflow.name());
    }

    private static Map<String, String> query(HttpServletRequest request) {
        Map<String, String> query = new LinkedHashMap<>();
        request.getParameterMap().forEach((k, v) -> query.put(k, v.length == 0 ? "" : v[0]));
        return query;
    }

    private static Map<String, String> headers(HttpServletRequest request) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (String name : Collections.list(request.getHeaderNames())) {
            headers.put(name, request.getHeader(name));
        }
        return headers;
    }

    /**
     * The workflow's answer after its run was accepted ({@code accepted}): its own when {@code respond} gives one, else
     * {@code accepted}. The run is stored either way, so a failing or busy answer gives the usual 202 (a 5xx would make
     * the sender send it again, and start a second run); the reason is in the {@code KiKonect-Respond-Error} header.
     */
    private ResponseEntity<?> answered(
            StoredWorkflow workflow,
            Map<String, Object> respond,
            String payload,
            HttpServletRequest request,
            ResponseEntity<Run> accepted) {
        if (respond == null || accepted.getBody() == null) {
            return accepted;
        }
        if ("step".equals(respond.get("mode"))) {
            return heldAnswer(workflow, respond, payload, request, accepted);
        }
        try {
            return ExpressionSandbox.onBehalfOf(
                            workflow.workspaceId(),
                            () -> answers.answer(
                                    respond,
                                    call(
                                            workflow,
                                            payload,
                                            request,
                                            accepted.getBody().id())))
                    .<ResponseEntity<?>>map(TriggerController::answer)
                    .orElse(accepted);
        } catch (ExpressionException e) {
            return ResponseEntity.status(accepted.getStatusCode())
                    .headers(accepted.getHeaders())
                    .header("KiKonect-Respond-Error", e.busy() ? "the expression sandbox is busy" : e.reason())
                    .body(accepted.getBody());
        }
    }

    /**
     * The answer of the step {@code respond.step} of the run just accepted: the caller is held until the step has ended
     * ({@link HeldResponses}), at most {@code respond.timeout}; past it, when too many callers are held, or when the
     * answer's expressions fail, the usual 202 with the reason in {@code KiKonect-Respond-Error} (the run goes on).
     */
    private ResponseEntity<?> heldAnswer(
            StoredWorkflow workflow,
            Map<String, Object> respond,
            String payload,
            HttpServletRequest request,
            ResponseEntity<Run> accepted) {
        Run run = accepted.getBody();
        if (run.status() == RunStatus.FILTERED || run.status() == RunStatus.SKIPPED) {
            return accepted; // decided at ingest: no step will run
        }
        String step = (String) respond.get("step");
        Duration timeout = Optional.ofNullable(respond.get("timeout"))
                .map(t -> HookAnswers.parseHold(String.valueOf(t)))
                .orElse(Duration.ofSeconds(10));
        HeldResponses.Outcome outcome = held.await(workflow.workspaceId(), run.id(), step, timeout);
        if (outcome != HeldResponses.Outcome.ENDED) {
            return ResponseEntity.status(accepted.getStatusCode())
                    .headers(accepted.getHeaders())
                    .header(
                            "KiKonect-Respond-Error",
                            outcome == HeldResponses.Outcome.BUSY
                                    ? "too many callers are waiting for answers (kikonect.hooks.max-held)"
                                    : "step " + step + " had not finished after " + respond.get("timeout"))
                    .body(run);
        }
        try {
            Map<String, HookAnswers.StepEnd> steps = held.steps(run.id(), respond.get("body") == null ? step : null);
            return answer(ExpressionSandbox.onBehalfOf(
                    workflow.workspaceId(),
                    () -> answers.answerStep(respond, call(workflow, payload, request, run.id()), steps)));
        } catch (ExpressionException e) {
            return ResponseEntity.status(accepted.getStatusCode())
                    .headers(accepted.getHeaders())
                    .header("KiKonect-Respond-Error", e.busy() ? "the expression sandbox is busy" : e.reason())
                    .body(run);
        }
    }

    /**
     * The answer to a request that starts no run (a HEAD, or a GET the filter drops): the workflow's own, 204 when its
     * body gives no value, a 422 naming the failure, a 503 when the sandbox is busy (nothing was stored: send again).
     */
    private ResponseEntity<?> answerWithoutRun(
            StoredWorkflow workflow, Map<String, Object> respond, String payload, HttpServletRequest request) {
        if (respond == null) {
            return ResponseEntity.noContent().build();
        }
        try {
            return ExpressionSandbox.onBehalfOf(
                            workflow.workspaceId(),
                            () -> answers.answer(respond, call(workflow, payload, request, null)))
                    .<ResponseEntity<?>>map(TriggerController::answer)
                    .orElseGet(() -> ResponseEntity.noContent().build());
        } catch (ExpressionException e) {
            if (e.busy()) {
                throw new DomainException.Unavailable(
                        "expressions-busy",
                        "This node's expression sandbox is busy; nothing was stored, retry.",
                        Duration.ofSeconds(2));
            }
            throw new DomainException.InvalidRequest(
                    "respond-failed", "The workflow's answer (trigger_config.respond) failed: " + e.reason());
        }
    }

    private static ResponseEntity<?> answer(HookAnswers.Answer answer) {
        ResponseEntity.BodyBuilder builder = ResponseEntity.status(answer.status());
        if (answer.headers().stream().noneMatch(h -> h.getKey().equalsIgnoreCase("Content-Type"))) {
            builder.header("Content-Type", answer.contentType()); // text, or JSON, unless the answer names its own
        }
        answer.headers().forEach(h -> builder.header(h.getKey(), h.getValue()));
        return builder.body(answer.body());
    }

    private Optional<ResponseEntity<Run>> acceptRun(
            HookLookup.Hook hook,
            StoredWorkflow workflow,
            String payload,
            byte[] body,
            Optional<Filters.Verdict> stopped,
            boolean idempotent,
            HttpServletRequest request) {
        if (stopped.isPresent()) {
            return ingest.enqueueIfCurrent(
                            workflow.id(),
                            workflow.workspaceId(),
                            "webhook",
                            payload,
                            workflow.triggerConfig(),
                            outcome(stopped.get()),
                            stopped.get().error(),
                            null,
                            workflow.updatedAt())
                    .map(TriggerController::accepted);
        }
        if (idempotent) {
            // The workflow was read fresh for it. The caller's Idempotency-Key wins; else the signed delivery's own id.
            String key = request.getHeader("Idempotency-Key");
            return Optional.of(enqueue(
                    workflow,
                    "webhook",
                    payload,
                    key != null
                            ? key
                            : HookVerifier.deliveryKey(hook.config(), request, body)
                                    .orElse(null),
                    requestContext(workflow, request)));
        }
        return ingest.enqueueIfCurrent(
                        workflow.id(),
                        workflow.workspaceId(),
                        "webhook",
                        payload,
                        workflow.triggerConfig(),
                        null,
                        null,
                        requestContext(workflow, request),
                        workflow.updatedAt())
                .map(TriggerController::accepted);
    }

    /**
     * The workflow's filter, when it has one and it is not true for this request: the run is then recorded as
     * {@code filtered} (or {@code failed}, when the filter itself failed), and not delivered. A filtered request with
     * an Idempotency-Key is recorded without the key: a repeat records another filtered run, nothing is delivered.
     */
    private Optional<Filters.Verdict> stoppedByFilter(
            StoredWorkflow workflow, String payload, String trigger, HttpServletRequest request) {
        if (workflow.filter() == null) {
            return Optional.empty();
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (String name : Collections.list(request.getHeaderNames())) {
            headers.put(name, request.getHeader(name));
        }
        Map<String, String> query = new LinkedHashMap<>();
        request.getParameterMap().forEach((k, v) -> query.put(k, v.length == 0 ? "" : v[0]));
        Filters.Verdict verdict = ExpressionSandbox.onBehalfOf(
                workflow.workspaceId(),
                () -> filters.evaluate(
                        workflow.filter(), payload, headers, query, trigger, workflow.id(), workflow.name()));
        return verdict.passes() ? Optional.empty() : Optional.of(verdict);
    }

    private static RunStatus outcome(Filters.Verdict verdict) {
        return verdict.error() == null ? RunStatus.FILTERED : RunStatus.FAILED;
    }

    /**
     * The incoming request's headers (names lower-cased) and query as JSON, when the workflow's steps read them; null
     * otherwise. Credentials the caller sent to KiKonect (Authorization, Cookie) are never kept.
     */
    private String requestContext(StoredWorkflow workflow, HttpServletRequest request) {
        if (!workflow.keepsRequest()) {
            return null;
        }
        Map<String, String> headers = new TreeMap<>();
        for (String name : Collections.list(request.getHeaderNames())) {
            String lower = name.toLowerCase(Locale.ROOT);
            if (!Set.of("authorization", "proxy-authorization", "cookie").contains(lower)) {
                headers.put(lower, request.getHeader(name));
            }
        }
        Map<String, String> query = new LinkedHashMap<>();
        request.getParameterMap().forEach((k, v) -> query.put(k, v.length == 0 ? "" : v[0]));
        return json.writeValueAsString(Map.of("headers", headers, "query", query));
    }

    private ResponseEntity<Run> enqueue(
            StoredWorkflow workflow, String trigger, String payload, String key, String requestContext) {
        if (key == null) {
            return accepted(ingest.enqueueIfCurrent(
                            workflow.id(),
                            workflow.workspaceId(),
                            trigger,
                            payload,
                            null,
                            null,
                            null,
                            requestContext,
                            null)
                    .orElseThrow(() -> new DomainException.Conflict(
                            "workflow-paused", "Workflow " + workflow.id() + " was paused or deleted meanwhile.")));
        }
        if (key.isBlank() || key.length() > 255) {
            throw new DomainException.InvalidInput(
                    List.of(new FieldProblem("Idempotency-Key", "must be 1 to 255 characters")));
        }
        Idempotency.Enqueued result =
                idempotency.enqueue(workflow.id(), workflow.workspaceId(), trigger, payload, key, requestContext);
        if (result.repeated()) {
            return ResponseEntity.ok()
                    .location(URI.create("/runs/" + result.run().id()))
                    .header("Idempotent-Replayed", "true")
                    .body(result.run());
        }
        return accepted(result.run());
    }

    /** A new run with the same payload, or with {@code {"payload": ...}} from the body; linked by replay_of. */
    @Scoped(Scope.TRIGGER)
    @PostMapping("/runs/{id}/replay")
    ResponseEntity<Run> replay(
            Caller caller, @PathVariable long id, @RequestBody(required = false) Map<String, Object> body) {
        String payload = null;
        if (body != null && body.containsKey("payload")) {
            payload = json.writeValueAsString(body.get("payload"));
        }
        Run original =
                replays.source(caller.workspaceId(), id).orElseThrow(() -> new DomainException.NotFound("Run " + id));
        requireEnabled(workflows.owned(caller.workspaceId(), original.workflowId()));
        runQuota.take(caller.workspaceId(), 1);
        String edited = payload;
        Run run = transactions.execute(tx -> {
            Run made = replays.replay(caller.workspaceId(), id, edited)
                    .orElseThrow(() -> new DomainException.NotFound("Run " + id));
            audit.record(
                    caller.actor(),
                    "run.replayed",
                    "run",
                    id,
                    Map.of("replay", made.id(), "payload_edited", edited != null));
            return made;
        });
        return accepted(run);
    }

    /**
     * Replays every run a filter matches (at most 10,000), in one transaction; says how many. The filter is the run
     * list's ({@link RunFilter}): a replay takes exactly the runs the list shows with the same filters, less those of
     * paused workflows (which take no runs); the dry run says both numbers.
     */
    @Scoped(Scope.TRIGGER)
    @PostMapping("/runs/replay")
    ResponseEntity<Map<String, Object>> replayMany(Caller caller, @RequestBody Map<String, Object> body) {
        Fields fields = Fields.of(body);
        Long workflowId = fields.integer("workflow_id", false, 1, Long.MAX_VALUE);
        String status = fields.string("status", false, 1, 20);
        String trigger = fields.string("trigger", false, 1, 20);
        String after = fields.string("created_after", false, 1, 64);
        String before = fields.string("created_before", false, 1, 64);
        Boolean dryRun = fields.has("dry_run") ? fields.bool("dry_run") : null;
        List<FieldProblem> problems = new ArrayList<>();
        RunFilter filter = RunFilter.parse(workflowId, status, trigger, after, before, problems);
        problems.forEach(p -> fields.problem(p.field(), p.reason()));
        if (workflowId == null && status == null && trigger == null && after == null && before == null) {
            fields.problem(
                    "workflow_id", "give at least one of workflow_id, status, trigger, created_after, created_before");
        }
        fields.throwIfInvalid();
        if (workflowId != null) {
            workflows.owned(caller.workspaceId(), workflowId);
        }
        Replays.Count count = replays.countReplayable(caller.workspaceId(), filter, maxBulkReplay);
        if (Boolean.TRUE.equals(dryRun)) {
            // how many the list shows and how many a replay would make, to confirm before doing it (at most the limit +
            // 1: "more than")
            return ResponseEntity.ok(
                    Map.of("matching", count.matching(), "replayable", count.replayable(), "limit", maxBulkReplay));
        }
        if (count.replayable() > maxBulkReplay) {
            throw new DomainException.InvalidRequest(
                    "too-many-runs",
                    "The filter matches more than " + maxBulkReplay
                            + " runs (kikonect.quotas.max-bulk-replay); narrow it (time range, status, trigger, workflow).");
        }
        runQuota.take(caller.workspaceId(), count.replayable());
        Integer replayed = count.replayable() == 0
                ? 0
                : transactions.execute(tx -> {
                    int n = replays.replayAll(caller.workspaceId(), filter);
                    Map<String, Object> details = new LinkedHashMap<>();
                    details.put("filter", body);
                    details.put("replayed", n);
                    audit.record(caller.actor(), "run.bulk_replayed", "run", null, details);
                    return n;
                });
        return ResponseEntity.status(HttpStatus.ACCEPTED).body(Map.of("replayed", replayed));
    }

    private static void requireEnabled(StoredWorkflow workflow) {
        if (!workflow.enabled()) {
            throw new DomainException.Conflict(
                    "workflow-paused", "Workflow " + workflow.id() + " is paused; resume it to accept triggers.");
        }
    }

    private static ResponseEntity<Run> accepted(Run run) {
        return ResponseEntity.accepted()
                .location(URI.create("/runs/" + run.id()))
                .body(run);
    }
}
