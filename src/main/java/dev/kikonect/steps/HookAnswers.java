package dev.kikonect.steps;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * A webhook workflow's answer to its caller ({@code trigger_config.respond}, mode {@code immediate}): a status, headers
 * (templates) and a body (a JSONata expression) over what the request brought (payload, headers, query) and the run it
 * started, evaluated in the {@link ExpressionSandbox} under its budget like every expression. This is how handshakes
 * are answered (Slack's url_verification, Meta's hub.challenge): a body that gives no value leaves the usual 202.
 */
@Component
public class HookAnswers {

    /** An answer: its status, headers and body (text or JSON, as {@code contentType} says). */
    public record Answer(int status, List<Map.Entry<String, String>> headers, byte[] body, String contentType) {}

    /** Headers an answer may not set: the server's own framing, and cookies (an answer is not a session). */
    public static final Set<String> RESERVED_HEADERS = Set.of(
            "content-length",
            "transfer-encoding",
            "connection",
            "keep-alive",
            "upgrade",
            "trailer",
            "te",
            "set-cookie",
            "date",
            "server");

    public static final int MAX_HEADERS = 20;

    /** A hold's timeout as {@code respond.timeout} gives it: "10s", "500ms", "1m" or ISO 8601 ("PT10S"); null if not. */
    public static Duration parseHold(String text) {
        Matcher m = HOLD.matcher(text);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                default -> Duration.ofMinutes(n);
            };
        }
        try {
            return Duration.parse(text);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static final Pattern HOLD = Pattern.compile("(\\d{1,6})(ms|s|m)");

    private final Cache<String, Expression> bodies = Caffeine.newBuilder()
            .maximumWeight(4L * 1024 * 1024)
            .weigher((String text, Expression e) -> 64 + 16 * text.length())
            .build();
    private final Cache<String, Template> templates = Caffeine.newBuilder()
            .maximumWeight(4L * 1024 * 1024)
            .weigher((String text, Template t) -> 64 + 16 * text.length())
            .build();
    private final JsonMapper json;

    public HookAnswers(JsonMapper json) {
        this.json = json;
    }

    /** Why {@code body} cannot be an answer's body expression, if it cannot. */
    public static Optional<String> bodyProblem(String body) {
        try {
            Expression.compile("body", body);
            return Optional.empty();
        } catch (ExpressionException e) {
            return Optional.of(e.reason());
        }
    }

    /** Why {@code value} cannot be an answer header's template, if it cannot. */
    public static Optional<String> templateProblem(String value) {
        try {
            Template.compile("headers", value);
            return Optional.empty();
        } catch (ExpressionException e) {
            return Optional.of(e.reason());
        }
    }

    /**
     * The answer of {@code respond} ({status, headers, body}, as validated at save) to a request that brought {@code
     * payloadJson}, {@code headers} and {@code query} and started run {@code runId} (null: none); empty when its body
     * gives no value.
     *
     * @throws ExpressionException when an expression fails; of kind BUSY when the sandbox had no room
     */
    public Optional<Answer> answer(Map<String, Object> respond, Call call) {
        return answer(respond, call, null);
    }

    /**
     * What an answer is made from: the request ({@code payloadJson}, {@code headers}, {@code query}), the run it
     * started ({@code runId}, null: none) and its workflow.
     */
    public record Call(
            String payloadJson,
            Map<String, String> headers,
            Map<String, String> query,
            Long runId,
            long workflowId,
            String workflowName) {}

    /** A step of a run as an answer reads it once the answering step has ended: its status, kept response, error. */
    public record StepEnd(String status, Integer responseStatus, String headersJson, String body, String error) {}

    /** The headers of a step's response that its answer passes on (the rest are the receiver's business). */
    static final Set<String> PASSED_HEADERS = Set.of(
            "content-type",
            "content-language",
            "content-disposition",
            "cache-control",
            "expires",
            "location",
            "etag",
            "last-modified");

    /**
     * The answer of {@code respond} ({mode: step, step, status?, headers?, body?}) once its step has ended, with the
     * run's steps as they are then ({@code steps}, by key, in order): {@code body} over them (and the request) when it
     * gives one, else the step's own response (its status unless {@code status} is set, the headers of {@link
     * #PASSED_HEADERS}, its body); a step that failed without a response answers 502 with its error, one that did not
     * run 204.
     *
     * @throws ExpressionException when an expression fails; of kind BUSY when the sandbox had no room
     */
    public Answer answerStep(Map<String, Object> respond, Call call, Map<String, StepEnd> steps) {
        return answer(respond, call, steps).orElseThrow();
    }

    @SuppressWarnings("unchecked")
    private Optional<Answer> answer(Map<String, Object> respond, Call call, Map<String, StepEnd> steps) {
        byte[] bytes = call.payloadJson().getBytes(StandardCharsets.UTF_8);
        long parsed = ParsedSize.estimate(bytes);
        if (parsed > ExpressionSandbox.shared().maxContextBytes()) {
            throw ExpressionException.overBudget("payload", "the payload is too large for expressions");
        }
        Map<String, Object> context = new LinkedHashMap<>();
        Map<String, String> lower = new LinkedHashMap<>();
        call.headers().forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), v));
        context.put("headers", lower);
        context.put("query", call.query());
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("id", call.runId());
        run.put("trigger", "webhook");
        context.put("run", run);
        context.put("workflow", Map.of("id", call.workflowId(), "name", call.workflowName()));
        StepEnd answering = null;
        if (steps != null) {
            Map<String, Object> views = new LinkedHashMap<>();
            steps.forEach((key, end) -> views.put(key, view(end)));
            context.put("steps", views);
            answering = steps.get((String) respond.get("step"));
        }
        StepEnd own = answering;
        Expression body = respond.get("body") == null
                ? null
                : bodies.get((String) respond.get("body"), b -> Expression.compile("respond.body", b));
        Map<String, Template> headerTemplates = new LinkedHashMap<>();
        ((Map<String, String>) respond.getOrDefault("headers", Map.of()))
                .forEach((name, value) -> headerTemplates.put(
                        name, templates.get(value, v -> Template.compile("respond.headers." + name, v))));
        Integer given = respond.get("status") instanceof Number n ? n.intValue() : null;
        int status = given != null ? given : 200;
        return ExpressionSandbox.shared().call("respond", () -> {
            try {
                context.put(
                        "payload",
                        ExpressionSandbox.shared().parse("payload", () -> json.readValue(bytes, Object.class)));
            } catch (JacksonException e) {
                context.put("payload", null); // not JSON (a form, text): the answer may still use headers and query
            }
            Object raw = body == null ? null : body.evaluate(context);
            if (raw == null && steps != null) {
                return Optional.of(ofStep(own, given, render(headerTemplates, context)));
            }
            if (raw == null) {
                return Optional.<Answer>empty(); // undefined: no answer of its own, the usual 202
            }
            Object value = DryRun.plain(raw);
            String contentType;
            byte[] text;
            if (value instanceof String s) {
                contentType = "text/plain; charset=utf-8";
                text = s.getBytes(StandardCharsets.UTF_8);
            } else {
                contentType = "application/json";
                try {
                    text = BoundedJson.write(json, value, StepRequests.MAX_BODY_BYTES + 1L)
                            .getBytes(StandardCharsets.UTF_8);
                } catch (BoundedJson.TooLarge e) {
                    throw new ExpressionException("respond.body", "the answer is larger than 1 MiB", -1);
                }
            }
            if (text.length > StepRequests.MAX_BODY_BYTES) {
                throw new ExpressionException("respond.body", "the answer is larger than 1 MiB", -1);
            }
            return Optional.of(new Answer(status, render(headerTemplates, context), text, contentType));
        });
    }

    private List<Map.Entry<String, String>> render(Map<String, Template> headerTemplates, Map<String, Object> context) {
        List<Map.Entry<String, String>> rendered = new ArrayList<>();
        Function<Object, String> toJson = StepRequests.toJson(json);
        for (Map.Entry<String, Template> h : headerTemplates.entrySet()) {
            String v = h.getValue().render(context, toJson);
            if (v.indexOf('\r') >= 0 || v.indexOf('\n') >= 0) {
                throw new ExpressionException(
                        "respond.headers." + h.getKey(), "the value has a line break, which a header cannot carry", -1);
            }
            rendered.add(Map.entry(h.getKey(), v));
        }
        return rendered;
    }

    /** A step as {@code steps.<key>} reads it in an answer's body: {status, response: {status, headers, body}, error}. */
    private Map<String, Object> view(StepEnd end) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("status", end.status());
        if (end.responseStatus() != null) {
            Map<String, Object> response = new LinkedHashMap<>();
            response.put("status", end.responseStatus());
            response.put(
                    "headers", end.headersJson() == null ? Map.of() : json.readValue(end.headersJson(), Map.class));
            response.put("body", parsed(end.body()));
            view.put("response", response);
        }
        if (end.error() != null) {
            view.put("error", end.error());
        }
        return view;
    }

    private Object parsed(String body) {
        if (body == null || body.isEmpty()) {
            return body;
        }
        try {
            return json.readValue(body, Object.class);
        } catch (JacksonException e) {
            return body;
        }
    }

    /** The step's own answer: see {@link #answerStep}; {@code headers} (the workflow's) are added after the step's. */
    @SuppressWarnings("unchecked")
    private Answer ofStep(StepEnd end, Integer status, List<Map.Entry<String, String>> headers) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        if (end == null || end.responseStatus() == null) {
            if (end != null && "failed".equals(end.status())) {
                Map<String, Object> problem = new LinkedHashMap<>();
                problem.put("type", "about:blank");
                problem.put("title", "The answering step failed");
                problem.put("status", 502);
                problem.put("detail", end.error());
                out.addAll(headers);
                return new Answer(
                        status != null ? status : 502,
                        out,
                        json.writeValueAsBytes(problem),
                        "application/problem+json");
            }
            out.addAll(headers);
            return new Answer(status != null ? status : 204, out, new byte[0], "text/plain; charset=utf-8");
        }
        Map<String, Object> given = end.headersJson() == null ? Map.of() : json.readValue(end.headersJson(), Map.class);
        String contentType = null;
        for (Map.Entry<String, Object> h : given.entrySet()) {
            String name = h.getKey().toLowerCase(Locale.ROOT);
            String value = h.getValue() instanceof List<?> l && !l.isEmpty()
                    ? String.valueOf(l.get(0))
                    : String.valueOf(h.getValue());
            if (name.equals("content-type")) {
                contentType = value;
            } else if (PASSED_HEADERS.contains(name)
                    && headers.stream().noneMatch(x -> x.getKey().equalsIgnoreCase(name))) {
                out.add(Map.entry(h.getKey(), value));
            }
        }
        out.addAll(headers);
        byte[] body = end.body() == null ? new byte[0] : end.body().getBytes(StandardCharsets.UTF_8);
        return new Answer(
                status != null ? status : end.responseStatus(),
                out,
                body,
                contentType != null ? contentType : "application/octet-stream");
    }
}
