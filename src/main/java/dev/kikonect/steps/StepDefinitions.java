package dev.kikonect.steps;

import dev.kikonect.auth.Role;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.FieldProblem;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads and checks a workflow's {@code filter} and {@code steps} (issue 13's model): every problem is collected and
 * reported at once as a 400 naming its field ({@code steps[1].body}), with the expression parser's message and
 * position; also a cycle in {@code needs} (named), an unknown or duplicate key, more than 20 steps, an unknown method
 * and headers KiKonect must own.
 */
public final class StepDefinitions {

    static final int MAX_STEPS = 20;
    /** A for_each step's items in flight at most, by default. */
    public static final int DEFAULT_CONCURRENCY = 10;
    /** The separator of an item's key: item 3 of step "lines" is the step "lines#3". */
    public static final String ITEM_SEPARATOR = "#";
    /** How deep sub-workflows nest (a step with {@code workflow}): checked at save here, at run time by SubRuns. */
    public static final int MAX_WORKFLOW_DEPTH = 5;
    /** Headers per step: each value may be a template, evaluated per request, so their number is bounded too. */
    static final int MAX_HEADERS = 50;

    static final Pattern KEY = Pattern.compile("[a-z][a-z0-9_]{0,39}");
    /** A credential's name (credentials/Credentials.NAME). */
    static final Pattern CREDENTIAL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,99}");

    static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "PATCH", "DELETE");
    /** Headers KiKonect sets itself: a step may not. */
    static final Set<String> OWNED_HEADERS = Set.of("host", "content-length", "transfer-encoding", "connection");

    /** One step, compiled. {@code body} null: the trigger payload byte for byte (none for GET and DELETE). */
    public record Step(
            String key,
            String method,
            Template url,
            Map<String, Template> headers,
            Expression body,
            Expression when,
            List<String> needs,
            Integer maxAttempts,
            Integer timeoutSeconds,
            String credential,
            RunIf runIf,
            Long workflow,
            Expression forEach,
            Integer concurrency,
            Wait waiting) {

        /** Whether the step waits before it is sent ({@code wait}). */
        public boolean waits() {
            return waiting != null;
        }

        /** Whether the step only waits: no url and no workflow (it succeeds, with no response, once the wait ends). */
        public boolean onlyWaits() {
            return waiting != null && url == null && workflow == null;
        }

        /** Whether any part of the request is computed (body, when, a templated URL or header): only then is a context built. */
        public boolean dynamic() {
            return body != null
                    || when != null
                    || forEach != null
                    || url != null && !url.isStatic()
                    || !headers.isEmpty() && headers.values().stream().anyMatch(t -> !t.isStatic());
        }

        /** Whether the step runs another workflow ({@code workflow}) rather than sending a request. */
        public boolean callsWorkflow() {
            return workflow != null;
        }

        /** Whether the step is sent once per item of its {@code for_each}. */
        public boolean loops() {
            return forEach != null;
        }

        /** How many of its items are in flight at most (default {@value #DEFAULT_CONCURRENCY}). */
        public int itemConcurrency() {
            return concurrency == null ? DEFAULT_CONCURRENCY : concurrency;
        }

        /** Evaluates its {@code for_each} over {@code context}: the items' values (as JSONata gives them). */
        public Object items(Map<String, Object> context) {
            return forEach.evaluate(context);
        }

        /** Whether the step has a {@code when}. */
        public boolean conditional() {
            return when != null;
        }
    }

    /**
     * What a step waits for before it is sent: a delay ({@code duration}, ISO 8601 such as PT10M or P3D) or a time
     * ({@code until}, a JSONata expression giving an ISO 8601 instant such as {@code payload.remind_at}). The wait
     * begins when the step would start, on the executors' clock. Or a callback ({@code callback}; {@code roles} null),
     * or an approval ({@code roles}: who may decide), until its {@code timeout}.
     */
    public record Wait(
            Duration duration,
            Expression until,
            boolean callback,
            Duration timeout,
            boolean continueOnTimeout,
            List<String> roles,
            Template message) {

        /** Whether a member decides ({@code wait.for = approval}): a callback whose resume is approve or reject. */
        public boolean approval() {
            return roles != null;
        }

        /** The approval's message over {@code context} (its own text when it has no template; "" without one). */
        public String message(Map<String, Object> context, Function<Object, String> toJson) {
            return message == null ? "" : message.render(context, toJson);
        }

        /** The longest wait. */
        public static final Duration MAX = Duration.ofDays(366);

        /** A delay of {@code duration}, or until the time {@code until} gives. */
        public Wait(Duration duration, Expression until) {
            this(duration, until, false, null, false, null, null);
        }

        /** A callback's wait ends at its timeout, or after {@link #MAX} without one. */
        public Instant timesOutAfter(Instant now) {
            return now.plus(timeout == null ? MAX : timeout);
        }

        /** When the wait that begins {@code now} ends, over {@code context} for {@code until}. */
        public Instant endsAfter(Instant now, Map<String, Object> context) {
            if (duration != null) {
                return now.plus(duration);
            }
            Object value = DryRun.plain(until.evaluate(context));
            if (!(value instanceof String text)) {
                throw new ExpressionException(
                        until.field(), "must give an ISO 8601 time, like 2026-12-24T09:00:00Z", -1);
            }
            try {
                return OffsetDateTime.parse(text).toInstant();
            } catch (DateTimeParseException e) {
                throw new ExpressionException(
                        until.field(), "'" + text + "' is not an ISO 8601 time, like 2026-12-24T09:00:00Z", -1);
            }
        }
    }

    /**
     * When a step with {@code needs} may start. ALL_SUCCEEDED (the default) starts it once every need succeeded; a
     * need that fails or is skipped skips it. The others start it once every need has finished (succeeded, failed or
     * skipped, a skip by {@code when} included): ANY_SUCCEEDED when at least one succeeded (a merge after branches),
     * ALWAYS whatever the outcomes (a finally), ANY_FAILED when at least one failed (an error path); otherwise the step
     * is skipped.
     */
    public enum RunIf {
        ALL_SUCCEEDED,
        ANY_SUCCEEDED,
        ALWAYS,
        ANY_FAILED;

        /** The name in a workflow's JSON: all_succeeded, any_succeeded, always, any_failed. */
        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Optional<RunIf> of(Object raw) {
            for (RunIf r : values()) {
                if (r.wire().equals(raw)) {
                    return Optional.of(r);
                }
            }
            return Optional.empty();
        }
    }

    /** A workflow's steps, in an order where every step comes after the steps it needs. */
    public record Definition(Expression filter, List<Step> steps) {

        /** The step with this key, if there is one. */
        public Optional<Step> step(String key) {
            return steps.stream().filter(s -> s.key().equals(key)).findFirst();
        }

        /** The keys of the steps that wait for a callback (each has a resume URL, {@code waits.<key>.url}). */
        public List<String> callbacks() {
            return steps.stream()
                    .filter(s ->
                            s.waits() && s.waiting().callback() && !s.waiting().approval())
                    .map(Step::key)
                    .toList();
        }

        /** Whether some step needs {@code key} (then its response is kept for them). */
        public boolean needed(String key) {
            return steps.stream().anyMatch(s -> s.needs().contains(key));
        }

        /** The steps {@code step} needs, directly or indirectly: what its expressions may read as {@code steps.<key>}. */
        public List<String> ancestors(Step step) {
            List<String> out = new ArrayList<>();
            List<String> todo = new ArrayList<>(step.needs());
            while (!todo.isEmpty()) {
                String next = todo.remove(0);
                if (!out.contains(next)) {
                    out.add(next);
                    step(next).ifPresent(s -> todo.addAll(s.needs()));
                }
            }
            return out;
        }

        /** Whether an expression of a step reads the incoming request's {@code headers} or {@code query}. */
        public boolean readsRequest() {
            Pattern reads = Pattern.compile("\\b(headers|query)\\b");
            return steps.stream()
                    .flatMap(s -> Stream.of(
                                    s.url() == null
                                            ? Stream.<String>empty()
                                            : s.url().sources(),
                                    s.headers().values().stream().flatMap(Template::sources),
                                    Stream.ofNullable(s.body()).map(Expression::source),
                                    Stream.ofNullable(s.when()).map(Expression::source),
                                    Stream.ofNullable(s.forEach()).map(Expression::source),
                                    Stream.ofNullable(s.waiting())
                                            .map(Wait::until)
                                            .filter(u -> u != null)
                                            .map(Expression::source))
                            .flatMap(x -> x))
                    .anyMatch(text -> reads.matcher(text).find());
        }

        /**
         * Whether runs keep per-step state: more than one step, or a step with a {@code when}, a {@code workflow} or a
         * {@code for_each} (its items are steps of the run).
         */
        public boolean tracked() {
            return steps.size() > 1
                    || steps.stream().anyMatch(s -> s.conditional() || s.callsWorkflow() || s.loops() || s.waits());
        }
    }

    private StepDefinitions() {}

    /** The definition in {@code workflow} ({@code filter}, {@code steps}); a 400 naming every bad field otherwise. */
    @SuppressWarnings("unchecked")
    public static Definition parse(Map<String, Object> workflow) {
        List<FieldProblem> problems = new ArrayList<>();
        Expression filter = null;
        Object rawFilter = workflow.get("filter");
        if (rawFilter != null) {
            if (rawFilter instanceof String text && !text.isBlank()) {
                filter = compile(problems, "filter", text);
            } else {
                problems.add(new FieldProblem("filter", "must be a JSONata expression (a non-empty string)"));
            }
        }
        Object rawSteps = workflow.get("steps");
        if (!(rawSteps instanceof List<?> list) || list.isEmpty()) {
            problems.add(new FieldProblem("steps", "must be a list of 1 to " + MAX_STEPS + " steps"));
            throw new DomainException.InvalidInput(problems);
        }
        if (list.size() > MAX_STEPS) {
            problems.add(new FieldProblem("steps", "has " + list.size() + " steps; at most " + MAX_STEPS));
            throw new DomainException.InvalidInput(problems);
        }
        List<Step> steps = new ArrayList<>();
        Set<String> keys = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String at = "steps[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> raw)) {
                problems.add(new FieldProblem(at, "must be an object"));
                continue;
            }
            Step step = step(problems, at, (Map<String, Object>) raw);
            if (step != null && !keys.add(step.key())) {
                problems.add(new FieldProblem(at + ".key", "'" + step.key() + "' is used by another step"));
            }
            if (step != null) {
                steps.add(step);
            }
        }
        for (int i = 0; i < steps.size(); i++) {
            for (String need : steps.get(i).needs()) {
                if (!keys.contains(need)) {
                    problems.add(new FieldProblem(
                            "steps[" + indexOf(list, steps.get(i).key()) + "].needs", "names no step: '" + need + "'"));
                } else if (need.equals(steps.get(i).key())) {
                    problems.add(new FieldProblem(
                            "steps[" + indexOf(list, steps.get(i).key()) + "].needs", "a step cannot need itself"));
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new DomainException.InvalidInput(problems);
        }
        List<Step> ordered = ordered(steps, list);
        return new Definition(filter, ordered);
    }

    private static int indexOf(List<?> raw, String key) {
        for (int i = 0; i < raw.size(); i++) {
            if (raw.get(i) instanceof Map<?, ?> m && key.equals(m.get("key"))) {
                return i;
            }
        }
        return -1;
    }

    @SuppressWarnings("unchecked")
    private static Step step(List<FieldProblem> problems, String at, Map<String, Object> raw) {
        int before = problems.size();
        for (String name : raw.keySet()) {
            if (!Set.of(
                            "key",
                            "method",
                            "url",
                            "headers",
                            "body",
                            "when",
                            "needs",
                            "max_attempts",
                            "timeout",
                            "credential",
                            "run_if",
                            "workflow",
                            "for_each",
                            "concurrency",
                            "wait")
                    .contains(name)) {
                problems.add(new FieldProblem(
                        at + "." + name,
                        "is not a step field (key, method, url, workflow, headers, body, when, needs, run_if,"
                                + " for_each, concurrency, wait, max_attempts, timeout, credential)"));
            }
        }
        String key = raw.get("key") instanceof String k ? k : null;
        if (key == null || !KEY.matcher(key).matches()) {
            problems.add(new FieldProblem(at + ".key", "must match [a-z][a-z0-9_]{0,39}, like 'ticket'"));
        }
        String method = "POST";
        if (raw.containsKey("method")) {
            method = raw.get("method") instanceof String m ? m.toUpperCase(Locale.ROOT) : "";
            if (!METHODS.contains(method)) {
                problems.add(new FieldProblem(at + ".method", "must be one of GET, POST, PUT, PATCH, DELETE"));
            }
        }
        Template url = null;
        Long workflow = null;
        if (raw.get("workflow") != null) {
            // A sub-workflow step: its body (or the payload) starts a run of that workflow; no request of its own.
            if (raw.get("workflow") instanceof Number n
                    && n.doubleValue() == Math.rint(n.doubleValue())
                    && n.longValue() > 0) {
                workflow = n.longValue();
            } else {
                problems.add(new FieldProblem(at + ".workflow", "must be the id of a workflow of this workspace"));
            }
            for (String requestOnly : List.of("url", "method", "headers", "credential", "timeout")) {
                if (raw.get(requestOnly) != null) { // a generated client sends unset fields as null
                    problems.add(new FieldProblem(
                            at + "." + requestOnly,
                            "is for a step that sends a request; a step with workflow runs that workflow instead"));
                }
            }
        } else if (raw.get("url") == null && raw.get("wait") != null) {
            // a step that only waits: it succeeds once its wait ends
        } else if (!(raw.get("url") instanceof String u) || u.isBlank()) {
            problems.add(new FieldProblem(
                    at + ".url", "is required: an http or https URL, {{ }} templates allowed (or a workflow to run)"));
        } else if (u.length() > 2048) {
            problems.add(new FieldProblem(at + ".url", "must be at most 2048 characters"));
        } else {
            url = template(problems, at + ".url", u);
            if (url != null
                    && url.isStatic()
                    && !(u.startsWith("http://") || u.startsWith("https://") || u.startsWith("listen://"))) {
                problems.add(new FieldProblem(
                        at + ".url", "must be an absolute http or https URL, like https://example.com/hook"));
            }
        }
        Map<String, Template> headers = new LinkedHashMap<>();
        if (raw.containsKey("headers")) {
            if (!(raw.get("headers") instanceof Map<?, ?> h)) {
                problems.add(new FieldProblem(at + ".headers", "must be an object of header names to values"));
            } else if (h.size() > MAX_HEADERS) {
                problems.add(new FieldProblem(at + ".headers", "has " + h.size() + " headers; at most " + MAX_HEADERS));
            } else {
                for (Map.Entry<?, ?> e : h.entrySet()) {
                    String name = String.valueOf(e.getKey());
                    String field = at + ".headers." + name;
                    String lower = name.toLowerCase(Locale.ROOT);
                    if (!name.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")) {
                        problems.add(new FieldProblem(field, "is not a valid header name"));
                    } else if (OWNED_HEADERS.contains(lower) || lower.startsWith("webhook-")) {
                        problems.add(new FieldProblem(field, "is set by KiKonect and cannot be given"));
                    } else if (!(e.getValue() instanceof String value)
                            || value.length() > 8192
                            || value.indexOf('\r') >= 0
                            || value.indexOf('\n') >= 0) {
                        problems.add(
                                new FieldProblem(field, "must be a single-line string of at most 8192 characters"));
                    } else {
                        Template t = template(problems, field, value);
                        if (t != null) {
                            headers.put(name, t);
                        }
                    }
                }
            }
        }
        Expression body = optionalExpression(problems, at + ".body", raw.get("body"));
        Expression when = optionalExpression(problems, at + ".when", raw.get("when"));
        List<String> needs = new ArrayList<>();
        if (raw.containsKey("needs")) {
            if (!(raw.get("needs") instanceof List<?> n) || n.stream().anyMatch(x -> !(x instanceof String))) {
                problems.add(new FieldProblem(at + ".needs", "must be a list of step keys"));
            } else {
                needs.addAll((List<String>) n);
            }
        }
        Integer maxAttempts = integer(problems, at + ".max_attempts", raw.get("max_attempts"), 1, 20);
        Integer timeout = integer(problems, at + ".timeout", raw.get("timeout"), 1, 300);
        String credential = null;
        if (raw.containsKey("credential")) {
            if (raw.get("credential") instanceof String c
                    && CREDENTIAL.matcher(c).matches()) {
                credential = c;
            } else {
                problems.add(new FieldProblem(
                        at + ".credential", "must be the name of one of your credentials, like erp-api"));
            }
        }
        RunIf runIf = RunIf.ALL_SUCCEEDED;
        if (raw.get("run_if") != null) {
            Optional<RunIf> given = RunIf.of(raw.get("run_if"));
            if (given.isEmpty()) {
                problems.add(new FieldProblem(
                        at + ".run_if", "must be one of all_succeeded, any_succeeded, always, any_failed"));
            } else if (given.get() != RunIf.ALL_SUCCEEDED && needs.isEmpty()) {
                problems.add(new FieldProblem(
                        at + ".run_if", "applies to a step with needs: name the steps it waits for in needs"));
            } else {
                runIf = given.get();
            }
        }
        Expression forEach = optionalExpression(problems, at + ".for_each", raw.get("for_each"));
        Integer concurrency = integer(problems, at + ".concurrency", raw.get("concurrency"), 1, 100);
        if (concurrency != null && raw.get("for_each") == null) {
            problems.add(new FieldProblem(at + ".concurrency", "applies to a step with for_each"));
        }
        if (raw.get("for_each") != null && workflow != null) {
            problems.add(new FieldProblem(
                    at + ".for_each", "cannot be used with workflow (yet): loop in the workflow it runs"));
        }
        Wait wait = wait(problems, at + ".wait", raw.get("wait"));
        if (wait != null && wait.callback() && (raw.get("url") != null || raw.get("workflow") != null)) {
            problems.add(new FieldProblem(
                    at + ".wait",
                    "a callback or approval wait is a step of its own (no url or workflow): the steps after it go on"));
        }
        if (wait != null && raw.get("for_each") != null) {
            problems.add(
                    new FieldProblem(at + ".wait", "cannot be used with for_each (yet): wait in a step before it"));
        }
        if (problems.size() > before) {
            return null;
        }
        return new Step(
                key,
                method,
                url,
                headers,
                body,
                when,
                List.copyOf(needs),
                maxAttempts,
                timeout,
                credential,
                runIf,
                workflow,
                forEach,
                concurrency,
                wait);
    }

    /** A step's {@code wait}: {for: delay, duration | until}, {for: callback, ...} or {for: approval, roles, message, ...}. */
    @SuppressWarnings("unchecked")
    private static Wait wait(List<FieldProblem> problems, String field, Object raw) {
        if (raw == null) {
            return null;
        }
        if (!(raw instanceof Map<?, ?> map)) {
            problems.add(
                    new FieldProblem(field, "must be an object such as {\"for\": \"delay\", \"duration\": \"PT1H\"}"));
            return null;
        }
        Map<String, Object> w = (Map<String, Object>) map;
        for (String name : w.keySet()) {
            if (!Set.of("for", "duration", "until", "timeout", "on_timeout", "roles", "message")
                    .contains(name)) {
                problems.add(new FieldProblem(
                        field + "." + name,
                        "is not a wait field (for, duration, until, timeout, on_timeout, roles, message)"));
            }
        }
        Object kind = w.get("for");
        if ("callback".equals(kind) || "approval".equals(kind)) {
            return callback(problems, field, w, "approval".equals(kind));
        }
        if (!"delay".equals(kind)) {
            problems.add(new FieldProblem(field + ".for", "must be delay, callback or approval"));
            return null;
        }
        if (w.get("timeout") != null || w.get("on_timeout") != null) {
            problems.add(new FieldProblem(field + ".timeout", "is for a callback wait; a delay ends by itself"));
            return null;
        }
        if ((w.get("duration") == null) == (w.get("until") == null)) {
            problems.add(
                    new FieldProblem(field, "needs exactly one of duration (ISO 8601, like PT10M or P3D) and until"));
            return null;
        }
        if (w.get("duration") != null) {
            try {
                Duration d = Duration.parse(String.valueOf(w.get("duration")));
                if (d.isNegative() || d.isZero() || d.compareTo(Wait.MAX) > 0) {
                    problems.add(new FieldProblem(field + ".duration", "must be more than 0 and at most P366D"));
                    return null;
                }
                return new Wait(d, null);
            } catch (DateTimeParseException e) {
                problems.add(new FieldProblem(
                        field + ".duration", "must be an ISO 8601 duration such as PT30S, PT10M, PT2H or P3D"));
                return null;
            }
        }
        Expression until = optionalExpression(problems, field + ".until", w.get("until"));
        return until == null ? null : new Wait(null, until);
    }

    /**
     * A callback wait: {for: callback, timeout?, on_timeout? (fail, the default, or continue)}; an approval adds roles?
     * (who may decide; default admin, and every role above one listed) and message? (a template).
     */
    private static Wait callback(List<FieldProblem> problems, String field, Map<String, Object> w, boolean approval) {
        List<String> roles = null;
        Template message = null;
        if (approval) {
            roles = List.of("admin");
            if (w.get("roles") != null) {
                if (w.get("roles") instanceof List<?> given
                        && !given.isEmpty()
                        && given.stream()
                                .allMatch(r ->
                                        r instanceof String s && Role.parse(s).isPresent())) {
                    roles = given.stream().map(String::valueOf).distinct().toList();
                } else {
                    problems.add(new FieldProblem(field + ".roles", "must be a list of owner, admin, editor, viewer"));
                    return null;
                }
            }
            if (w.get("message") != null) {
                if (!(w.get("message") instanceof String text) || text.length() > 2000) {
                    problems.add(new FieldProblem(
                            field + ".message", "must be a text (a template) of at most 2,000 characters"));
                    return null;
                }
                message = template(problems, field + ".message", text);
                if (message == null) {
                    return null;
                }
            }
        } else if (w.get("roles") != null || w.get("message") != null) {
            problems.add(new FieldProblem(field + ".roles", "roles and message are for an approval"));
            return null;
        }
        if (w.get("duration") != null || w.get("until") != null) {
            problems.add(
                    new FieldProblem(field, "a callback wait ends with its callback or its timeout, not a duration"));
            return null;
        }
        Duration timeout = null;
        if (w.get("timeout") != null) {
            try {
                timeout = Duration.parse(String.valueOf(w.get("timeout")));
            } catch (DateTimeParseException e) {
                problems.add(new FieldProblem(field + ".timeout", "must be an ISO 8601 duration such as PT10M or P7D"));
                return null;
            }
            if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(Wait.MAX) > 0) {
                problems.add(new FieldProblem(field + ".timeout", "must be more than 0 and at most P366D"));
                return null;
            }
        }
        Object onTimeout = w.getOrDefault("on_timeout", "fail");
        if (!"fail".equals(onTimeout) && !"continue".equals(onTimeout)) {
            problems.add(new FieldProblem(field + ".on_timeout", "must be fail or continue"));
            return null;
        }
        return new Wait(null, null, true, timeout, "continue".equals(onTimeout), roles, message);
    }

    private static Integer integer(List<FieldProblem> problems, String field, Object raw, int min, int max) {
        if (raw == null) {
            return null;
        }
        if (raw instanceof Number n
                && n.doubleValue() == Math.rint(n.doubleValue())
                && n.longValue() >= min
                && n.longValue() <= max) {
            return n.intValue();
        }
        problems.add(new FieldProblem(
                field,
                "must be a whole number from " + min + " to " + max + (field.endsWith("timeout") ? " (seconds)" : "")));
        return null;
    }

    private static Expression optionalExpression(List<FieldProblem> problems, String field, Object raw) {
        if (raw == null) {
            return null;
        }
        if (!(raw instanceof String text) || text.isBlank()) {
            problems.add(new FieldProblem(field, "must be a JSONata expression (a non-empty string)"));
            return null;
        }
        if (text.length() > 65_536) {
            problems.add(new FieldProblem(field, "must be at most 65536 characters"));
            return null;
        }
        return compile(problems, field, text);
    }

    private static Expression compile(List<FieldProblem> problems, String field, String text) {
        try {
            return Expression.compile(field, text);
        } catch (ExpressionException e) {
            problems.add(new FieldProblem(field, e.reason()));
            return null;
        }
    }

    private static Template template(List<FieldProblem> problems, String field, String text) {
        try {
            return Template.compile(field, text);
        } catch (ExpressionException e) {
            problems.add(new FieldProblem(field, e.reason()));
            return null;
        }
    }

    /** The steps with every step after those it needs; a cycle is a 400 naming its steps. */
    private static List<Step> ordered(List<Step> steps, List<?> raw) {
        Map<String, Step> byKey = new LinkedHashMap<>();
        steps.forEach(s -> byKey.put(s.key(), s));
        List<Step> out = new ArrayList<>();
        Map<String, Integer> state = new HashMap<>(); // 1 visiting, 2 done
        for (Step step : steps) {
            visit(step, byKey, state, out, new ArrayList<>(), raw);
        }
        return out;
    }

    private static void visit(
            Step step,
            Map<String, Step> byKey,
            Map<String, Integer> state,
            List<Step> out,
            List<String> path,
            List<?> raw) {
        Integer s = state.get(step.key());
        if (s != null && s == 2) {
            return;
        }
        path.add(step.key());
        if (s != null) {
            List<String> cycle = path.subList(path.indexOf(step.key()), path.size());
            throw new DomainException.InvalidInput(List.of(new FieldProblem(
                    "steps[" + indexOf(raw, step.key()) + "].needs", "makes a cycle: " + String.join(" -> ", cycle))));
        }
        state.put(step.key(), 1);
        for (String need : step.needs()) {
            visit(byKey.get(need), byKey, state, out, path, raw);
        }
        state.put(step.key(), 2);
        path.remove(path.size() - 1);
        out.add(step);
    }
}
