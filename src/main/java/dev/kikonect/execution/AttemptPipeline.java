package dev.kikonect.execution;

import dev.kikonect.common.Printable;
import dev.kikonect.lifecycle.Attempt;
import dev.kikonect.lifecycle.ClaimedJob;
import dev.kikonect.lifecycle.Claims;
import dev.kikonect.lifecycle.Completions;
import dev.kikonect.lifecycle.Next;
import dev.kikonect.steps.ExpressionException;
import dev.kikonect.steps.ExpressionSandbox;
import dev.kikonect.steps.ParsedSize;
import dev.kikonect.steps.StepDefinitions;
import dev.kikonect.steps.StepRequests;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * One attempt of a claimed job, from the job to its verdict: <b>prepare</b> (the step, its expressions, its URL),
 * <b>send</b> (with its credential, fetched again once on a 401), <b>decide</b> (succeeded, retry after the policy's
 * delay, failed). Free of Spring and of the queue: the executor's loop gives it a job and its payload and does what
 * the {@link Outcome} says; {@code AttemptPipelineTest} covers each branch.
 */
final class AttemptPipeline {

    private static final Logger log = LoggerFactory.getLogger(AttemptPipeline.class);

    /** Sends one request; the executor's sends through {@link Delivery} and times it. */
    interface Sender {
        Delivery.Sent send(
                ClaimedJob job, StepRequests.Rendered request, boolean bodyIsPayload, Duration timeout, int keep);
    }

    /** The saved responses of a run's steps, by key ({@link Claims#stepResponses}). */
    interface StepReader {
        Map<String, Claims.StepResponse> responses(long runId, List<String> keys);
    }

    /** What becomes of the job. */
    sealed interface Outcome {
        /** Complete the job: where its step goes next, the attempt (null when nothing was tried) and what it keeps. */
        record Complete(Next next, Attempt attempt, Instant retryAt, Completions.KeptResponse kept)
                implements Outcome {}

        /** Hand the job back without spending an attempt; {@code reason} names why (host_busy, expressions_busy). */
        record Defer(String reason) implements Outcome {}

        /** The step's wait begins: its job goes back to the queue until {@code until}, holding nothing meanwhile. */
        record Wait(Instant until) implements Outcome {}

        /** The node is stopping: the job goes back with the others it holds. */
        record Abandon() implements Outcome {}

        /** The step waits for the workflow it runs; its job is gone until that run ends ({@link WorkflowCalls}). */
        record Parked() implements Outcome {}
    }

    /** {@code keepBytes}: how much of a response is kept for the steps that need it. */
    /**
     * Steps waiting for a callback: the JSON posted to a step's resume URL, once it came ({@code Resumes}), and the URL
     * itself ({@code waits.<key>.url} in every step's expressions).
     */
    interface Callbacks {
        Optional<String> posted(long runId, String step);

        String url(long runId, String step);

        /** An approval's wait begins (the step of {@code job}): who may decide and what they are told. */
        void approvalBegins(ClaimedJob job, List<String> roles, String message);

        /** A wait reached its timeout and goes on (on_timeout continue): the step says {@code timed_out}. */
        void timedOut(long runId, String step);
    }

    static final Callbacks NO_CALLBACKS = new Callbacks() {
        @Override
        public Optional<String> posted(long runId, String step) {
            return Optional.empty();
        }

        @Override
        public String url(long runId, String step) {
            return "";
        }

        @Override
        public void approvalBegins(ClaimedJob job, List<String> roles, String message) {}

        @Override
        public void timedOut(long runId, String step) {}
    };

    record Settings(Duration defaultTimeout, Duration hostPatience, int keepBytes, int maxItems, long maxItemsChars) {

        Settings(Duration defaultTimeout, Duration hostPatience, int keepBytes) {
            this(defaultTimeout, hostPatience, keepBytes, 1000, 4L << 20);
        }
    }

    private final Clock clock;
    private final JsonMapper json;
    private final CompiledSteps compiled;
    private final SharedPayloads payloads;
    private final StepReader reader;
    private final StepContext contexts;
    private final Sender sender;
    private final StepCredentials credentials;
    private final HostLimiter hosts;
    private final RetryPolicy retries;
    private final Settings settings;
    private final Runnable payloadParsed;
    private final WorkflowCalls calls;
    private final Loops loops;
    private final Callbacks callbacks;

    AttemptPipeline(
            Clock clock,
            JsonMapper json,
            CompiledSteps compiled,
            SharedPayloads payloads,
            StepReader reader,
            Sender sender,
            StepCredentials credentials,
            HostLimiter hosts,
            RetryPolicy retries,
            Settings settings,
            Runnable payloadParsed) {
        this(
                clock,
                json,
                compiled,
                payloads,
                reader,
                sender,
                credentials,
                hosts,
                retries,
                settings,
                payloadParsed,
                WorkflowCalls.NONE,
                Loops.NONE,
                NO_CALLBACKS);
    }

    AttemptPipeline(
            Clock clock,
            JsonMapper json,
            CompiledSteps compiled,
            SharedPayloads payloads,
            StepReader reader,
            Sender sender,
            StepCredentials credentials,
            HostLimiter hosts,
            RetryPolicy retries,
            Settings settings,
            Runnable payloadParsed,
            WorkflowCalls.Store calls,
            Loops.Store loops,
            Callbacks callbacks) {
        this.callbacks = callbacks;
        this.calls = new WorkflowCalls(calls, clock, json, settings.keepBytes());
        this.loops = new Loops(loops, clock, json, settings.maxItems(), settings.maxItemsChars());
        this.clock = clock;
        this.json = json;
        this.compiled = compiled;
        this.payloads = payloads;
        this.reader = reader;
        this.contexts = new StepContext(json, reader, callbacks);
        this.sender = sender;
        this.credentials = credentials;
        this.hosts = hosts;
        this.retries = retries;
        this.settings = settings;
        this.payloadParsed = payloadParsed;
    }

    /** Prepares, sends and judges one attempt of {@code job}; {@code payload} is its run's payload (shared, not copied). */
    Outcome run(ClaimedJob job, byte[] payload) {
        Instant started = clock.instant();
        if (job.runCancelled()) {
            return new Outcome.Complete(Next.CANCELLED, null, null, null);
        }
        StepDefinitions.Step step = null;
        StepRequests.Rendered request;
        boolean keep = false;
        if (job.steps() == null) {
            if (job.attempt() > job.maxAttempts()) {
                return lastAttemptLost(job, started);
            }
            // The one-step shorthand (action_url): the payload, byte for byte, POSTed there. Nothing to evaluate.
            request = new StepRequests.Rendered("POST", job.actionUrl(), List.of(), payload);
        } else {
            try {
                StepDefinitions.Definition definition = compiled.definition(job);
                step = CompiledSteps.step(job, definition);
                if (step == null) {
                    return failed(job, started, "the step '" + job.step() + "' is no longer in the workflow");
                }
                if (job.attempt() > maxAttempts(job, step)) {
                    return lastAttemptLost(job, started);
                }
                boolean item = Loops.isItem(job);
                if (job.tracked()
                        && !item
                        && step.runIf() != StepDefinitions.RunIf.ALL_SUCCEEDED
                        && !runIfHolds(job, step)) {
                    return new Outcome.Complete(Next.SKIPPED, null, null, null); // its needs finished, not as it asks
                }
                if (step.waits() && step.waiting().callback()) {
                    return callback(job, step, started); // its callback, its wait, or its timeout
                }
                if (step.waits() && job.waitedUntil() == null && job.attemptOffset() == 0) {
                    // its first claim: the wait begins (a retry from the failure does not wait again)
                    Instant until = waitEnds(job, payload, definition, step);
                    if (until.isAfter(clock.instant())) {
                        return new Outcome.Wait(until);
                    }
                }
                if (step.onlyWaits()) {
                    return new Outcome.Complete(Next.SUCCEEDED, null, null, null); // waited: nothing to send
                }
                if (step.loops() && !item) {
                    Optional<Outcome> gathered = loops.gather(job, started);
                    if (gathered.isPresent()) {
                        return gathered.get(); // every item finished
                    }
                    Object items = items(job, payload, definition, step);
                    return items == NOT_RUN
                            ? new Outcome.Complete(Next.SKIPPED, null, null, null)
                            : loops.expand(job, step, (Loops.Listed) items, started);
                }
                Optional<Outcome> resumed = step.callsWorkflow() ? calls.resume(job, step, started) : Optional.empty();
                if (resumed.isPresent()) {
                    return resumed.get(); // its child run ended (or still runs: a lost lease)
                }
                request = item
                        ? prepare(job, payload, definition, step, loops.itemContext(job), false)
                        : prepare(job, payload, definition, step, Map.of(), job.tracked());
                if (request == null) {
                    return new Outcome.Complete(Next.SKIPPED, null, null, null);
                }
                if (step.callsWorkflow()) {
                    return calls.start(job, step, request.body(), started);
                }
                keep = job.tracked()
                        && (item || definition.needed(step.key()) || step.key().equals(job.answerStep()));
            } catch (ExpressionException e) {
                if (e.busy()) {
                    return new Outcome.Defer("expressions_busy"); // nothing was evaluated or sent
                }
                // An expression that fails at run time fails its step at once: sending it again would fail the same
                // way.
                return failed(job, started, StepUrls.relative(e.field()) + ": " + e.reason());
            } catch (RuntimeException e) {
                // A bug or a corrupt row still ends as a failed attempt, never as a lease that expires again and again.
                log.error("Preparing step {} of run {} failed inside KiKonect", job.step(), job.runId(), e);
                return failed(job, started, "internal error: " + e.getClass().getSimpleName());
            }
        }
        boolean bodyIsPayload = request.body() == payload; // no body expression: the payload itself, byte for byte
        Optional<String> badUrl = step == null ? Optional.empty() : StepUrls.badUrl(request.url());
        if (badUrl.isPresent()) {
            return failed(job, started, "url: " + badUrl.get());
        }
        String host = StepUrls.host(request.url());
        try {
            if (!hosts.acquire(host, settings.hostPatience())) {
                return new Outcome.Defer("host_busy"); // its host has as many deliveries in flight as one host may
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome.Abandon();
        }
        try {
            Duration timeout = step == null || step.timeoutSeconds() == null
                    ? settings.defaultTimeout()
                    : Duration.ofSeconds(step.timeoutSeconds());
            Delivery.Sent sent =
                    sendWithCredential(job, step, request, bodyIsPayload, timeout, keep ? settings.keepBytes() : 0);
            if (Thread.currentThread().isInterrupted()) {
                return new Outcome
                        .Abandon(); // shutting down: the job was handed back and will be delivered again elsewhere
            }
            return decide(job, step == null ? job.maxAttempts() : maxAttempts(job, step), sent);
        } finally {
            hosts.release(host);
        }
    }

    /** Whether the needs of a run_if step (all finished: its job exists only then) ended as it asks. */
    private boolean runIfHolds(ClaimedJob job, StepDefinitions.Step step) {
        Map<String, String> statuses = new HashMap<>();
        reader.responses(job.runId(), step.needs()).forEach((key, r) -> statuses.put(key, r.status()));
        return StepContext.runIfHolds(step, statuses);
    }

    /** The step's request, its expressions evaluated in the sandbox on behalf of its workspace; null: its when was false. */
    private StepRequests.Rendered prepare(
            ClaimedJob job,
            byte[] payload,
            StepDefinitions.Definition definition,
            StepDefinitions.Step step,
            Map<String, Object> extra,
            boolean checkWhen) {
        if (!step.dynamic()) {
            return StepRequests.prepare(step, null, payload, StepRequests.toJson(json), checkWhen);
        }
        Map<String, Object> context = contexts.of(job, definition, step);
        context.putAll(extra);
        // The payload is parsed (once per run) inside the same task of the sandbox as the step's expressions: one
        // hand-over to the sandbox's thread per step, not two.
        return ExpressionSandbox.onBehalfOf(
                job.workspaceId(),
                () -> ExpressionSandbox.shared().call("steps", () -> {
                    context.put("payload", payloads.tree(job.runId(), this::parsePayload));
                    return StepRequests.prepare(step, context, payload, StepRequests.toJson(json), checkWhen);
                }));
    }

    /**
     * A step waiting for a callback, claimed: it succeeds with the JSON posted once it came (before its wait began
     * too); at its first claim the wait begins (until its timeout); claimed at its timeout without a callback, it fails
     * or (on_timeout continue) succeeds with a null response.
     */
    private Outcome callback(ClaimedJob job, StepDefinitions.Step step, Instant started) {
        Optional<String> posted = callbacks.posted(job.runId(), job.step());
        if (posted.isPresent()) {
            Completions.KeptResponse kept = new Completions.KeptResponse(200, "{}", posted.get());
            if (step.waiting().approval()) {
                Object decision = AttemptRecords.parsedBody(json, posted.get());
                if (decision instanceof Map<?, ?> d && !Boolean.TRUE.equals(d.get("approved"))) {
                    String error =
                            "rejected by " + d.get("by") + (d.get("comment") == null ? "" : ": " + d.get("comment"));
                    return new Outcome.Complete(
                            Next.FAILED,
                            AttemptRecords.failedBeforeSending(job, started, clock.instant(), error),
                            null,
                            kept);
                }
            }
            return new Outcome.Complete(Next.SUCCEEDED, null, null, kept);
        }
        Instant now = clock.instant();
        if (job.waitedUntil() == null) {
            if (step.waiting().approval()) {
                callbacks.approvalBegins(job, step.waiting().roles(), approvalMessage(job, step));
            }
            return new Outcome.Wait(step.waiting().timesOutAfter(now));
        }
        if (now.isBefore(job.waitedUntil())) {
            return new Outcome.Wait(job.waitedUntil()); // back early (a lost lease): wait on
        }
        if (step.waiting().continueOnTimeout()) {
            // no response at all (steps.<key>.response is undefined), and timed_out: true, recorded before the
            // completion (a completion lost with its lease comes back here and records it again)
            callbacks.timedOut(job.runId(), job.step());
            return new Outcome.Complete(Next.SUCCEEDED, null, null, null);
        }
        return new Outcome.Complete(
                Next.FAILED,
                AttemptRecords.failedBeforeSending(
                        job,
                        started,
                        now,
                        (step.waiting().approval()
                                        ? "wait: nobody approved or rejected it before its timeout ("
                                        : "wait: no callback came before its timeout (")
                                + step.waiting().timeout() + ")"),
                null,
                null);
    }

    /** An approval's message over the run (its template, in the sandbox); "" without one. */
    private String approvalMessage(ClaimedJob job, StepDefinitions.Step step) {
        if (step.waiting().message() == null) {
            return "";
        }
        StepDefinitions.Definition definition = compiled.definition(job);
        Map<String, Object> context = contexts.of(job, definition, step);
        return ExpressionSandbox.onBehalfOf(
                job.workspaceId(),
                () -> ExpressionSandbox.shared().call("steps", () -> {
                    context.put("payload", payloads.tree(job.runId(), this::parsePayload));
                    return step.waiting().message(context, StepRequests.toJson(json));
                }));
    }

    /** When the wait of {@code step} that begins now ends: its duration from now, or its until over the run (sandboxed). */
    private Instant waitEnds(
            ClaimedJob job, byte[] payload, StepDefinitions.Definition definition, StepDefinitions.Step step) {
        Instant now = clock.instant();
        if (step.waiting().until() == null) {
            return step.waiting().endsAfter(now, Map.of());
        }
        Map<String, Object> context = contexts.of(job, definition, step);
        return ExpressionSandbox.onBehalfOf(
                job.workspaceId(),
                () -> ExpressionSandbox.shared().call("steps", () -> {
                    context.put("payload", payloads.tree(job.runId(), this::parsePayload));
                    return step.waiting().endsAfter(now, context);
                }));
    }

    /** A for_each step's {@link #items}: its when was false. */
    private static final Object NOT_RUN = new Object();

    /** What a for_each step's expression gives (after its when), in the sandbox; {@link #NOT_RUN} when it is false. */
    private Object items(
            ClaimedJob job, byte[] payload, StepDefinitions.Definition definition, StepDefinitions.Step step) {
        Map<String, Object> context = contexts.of(job, definition, step);
        return ExpressionSandbox.onBehalfOf(
                job.workspaceId(),
                () -> ExpressionSandbox.shared().call("steps", () -> {
                    context.put("payload", payloads.tree(job.runId(), this::parsePayload));
                    if (!StepRequests.runs(step, context)) {
                        return NOT_RUN;
                    }
                    return loops.list(StepRequests.plain(step.items(context)));
                }));
    }

    /** Succeeded; retry after the policy's delay while the step has attempts left and the failure may pass; else failed. */
    private Outcome decide(ClaimedJob job, int maxAttempts, Delivery.Sent sent) {
        Attempt attempt = sent.attempt();
        if (attempt.succeeded()) {
            return new Outcome.Complete(Next.SUCCEEDED, attempt, null, sent.kept());
        }
        if (attempt.retryable() && job.attempt() < maxAttempts) {
            Instant retryAt = clock.instant().plus(retries.delayAfter(job.attempt(), attempt.retryAfter()));
            return new Outcome.Complete(Next.RETRY, attempt, retryAt, sent.kept());
        }
        return new Outcome.Complete(Next.FAILED, attempt, null, sent.kept());
    }

    private static int maxAttempts(ClaimedJob job, StepDefinitions.Step step) {
        return step.maxAttempts() == null ? job.maxAttempts() : step.maxAttempts();
    }

    /**
     * The job's attempts were used up before this one started: its last attempt was lost with its lease
     * ({@code Leases#requeueExpired} counted it). The step fails with that attempt's "lease expired" and nothing is
     * sent, evaluated or parsed (what killed a node is not tried again). The lost attempt is already in the log, so
     * the completion's attempt, numbered as it, adds no row.
     */
    private static Outcome lastAttemptLost(ClaimedJob job, Instant started) {
        Attempt lost = new Attempt(
                job.number() - 1,
                started,
                0,
                false,
                false,
                null,
                null,
                null,
                "lease expired: the node delivering it stopped (crash or lost connection); outcome unknown, and that was the last attempt",
                null,
                null);
        return new Outcome.Complete(Next.FAILED, lost, null, null);
    }

    /** A failed attempt that sent nothing (an expression, the step or the URL failed first): not worth retrying. */
    private Outcome failed(ClaimedJob job, Instant started, String error) {
        return new Outcome.Complete(Next.FAILED, failedAttempt(job, started, error, false), null, null);
    }

    private Attempt failedAttempt(ClaimedJob job, Instant started, String error, boolean retryable) {
        return new Attempt(
                job.number(),
                started,
                Duration.between(started, clock.instant()).toMillis(),
                false,
                retryable,
                null,
                null,
                null,
                Printable.of(error, 1000),
                null,
                null);
    }

    /**
     * One attempt of a step that names a credential: the credential is applied to the request last, after every
     * expression and the URL check, so its values are in no expression, error or log. A fetched token (OAuth2) that the
     * target answers 401 to is fetched again once and the request sent again within the attempt. A credential that
     * cannot be applied fails the attempt (retried when trying later may work: a token endpoint that is down).
     */
    private Delivery.Sent sendWithCredential(
            ClaimedJob job,
            StepDefinitions.Step step,
            StepRequests.Rendered request,
            boolean bodyIsPayload,
            Duration timeout,
            int keep) {
        if (step == null || step.credential() == null) {
            return send(job, request, bodyIsPayload, timeout, keep);
        }
        Instant started = clock.instant();
        if (request.url().regionMatches(true, 0, "listen:", 0, 7)) {
            // Checked on the URL as rendered, at send: a templated URL ({{ 'listen://dev' }}) passes the check at save.
            return new Delivery.Sent(
                    failedAttempt(
                            job,
                            started,
                            "credential: a listen:// step cannot use a credential (the listener would receive the secret)",
                            false),
                    null);
        }
        try {
            String target = CredentialRequests.host(request.url());
            StepCredentials.Applied applied = credentials.apply(job.workspaceId(), step.credential(), target, null);
            Delivery.Sent sent = CredentialRequests.scrubbed(
                    send(job, CredentialRequests.withCredential(request, applied), bodyIsPayload, timeout, keep),
                    applied);
            if (applied.stamp() != null
                    && Integer.valueOf(401).equals(sent.attempt().statusCode())) {
                applied = credentials.apply(job.workspaceId(), step.credential(), target, applied.stamp());
                sent = CredentialRequests.scrubbed(
                        send(job, CredentialRequests.withCredential(request, applied), bodyIsPayload, timeout, keep),
                        applied);
            }
            return sent;
        } catch (StepCredentials.Failure f) {
            return new Delivery.Sent(failedAttempt(job, started, "credential: " + f.getMessage(), f.retryable()), null);
        } catch (RuntimeException e) {
            log.error("Applying credential '{}' to run {} failed", step.credential(), job.runId(), e);
            return new Delivery.Sent(
                    failedAttempt(
                            job,
                            started,
                            "credential '" + step.credential() + "' could not be applied: "
                                    + e.getClass().getSimpleName(),
                            false),
                    null);
        }
    }

    /**
     * One send. Whatever it throws (a bug, a corrupt row) still counts as an attempt, so the job goes through the retry
     * policy to its end instead of losing its lease and coming back forever.
     */
    private Delivery.Sent send(
            ClaimedJob job, StepRequests.Rendered request, boolean bodyIsPayload, Duration timeout, int keep) {
        Instant started = clock.instant();
        try {
            return sender.send(job, request, bodyIsPayload, timeout, keep);
        } catch (OutOfMemoryError e) {
            throw e; // the process exits (-XX:+ExitOnOutOfMemoryError); the lease brings the job back elsewhere
        } catch (Throwable e) {
            log.error(
                    "Delivery attempt {} of run {} failed inside KiKonect; counted as a failed attempt",
                    job.number(),
                    job.runId(),
                    e);
            return new Delivery.Sent(
                    failedAttempt(
                            job, started, "internal error: " + e.getClass().getSimpleName(), true),
                    null);
        }
    }

    /**
     * The payload as expressions read it, parsed in the expression sandbox (its threads, its memory budget): a payload
     * whose parsed size would not fit what an evaluation may allocate fails the step instead of filling the heap.
     */
    private Object parsePayload(byte[] payload) {
        long parsed = ParsedSize.estimate(payload);
        long limit = ExpressionSandbox.shared().maxContextBytes();
        if (parsed > limit) {
            throw ExpressionException.overBudget(
                    "payload",
                    "the payload is too large for expressions: parsed, it would take about " + (parsed >> 20)
                            + " MiB; at most " + (limit >> 20) + " MiB");
        }
        payloadParsed.run();
        return ExpressionSandbox.shared().parse("payload", () -> json.readValue(payload, Object.class));
    }
}
