package dev.kikonect.steps;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
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
    @SuppressWarnings("unchecked")
    public Optional<Answer> answer(
            Map<String, Object> respond,
            String payloadJson,
            Map<String, String> headers,
            Map<String, String> query,
            Long runId,
            long workflowId,
            String workflowName) {
        byte[] bytes = payloadJson.getBytes(StandardCharsets.UTF_8);
        long parsed = ParsedSize.estimate(bytes);
        if (parsed > ExpressionSandbox.shared().maxContextBytes()) {
            throw ExpressionException.overBudget("payload", "the payload is too large for expressions");
        }
        Map<String, Object> context = new LinkedHashMap<>();
        Map<String, String> lower = new LinkedHashMap<>();
        headers.forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), v));
        context.put("headers", lower);
        context.put("query", query);
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("id", runId);
        run.put("trigger", "webhook");
        context.put("run", run);
        context.put("workflow", Map.of("id", workflowId, "name", workflowName));
        Expression body = bodies.get((String) respond.get("body"), b -> Expression.compile("respond.body", b));
        Map<String, Template> headerTemplates = new LinkedHashMap<>();
        ((Map<String, String>) respond.getOrDefault("headers", Map.of()))
                .forEach((name, value) -> headerTemplates.put(
                        name, templates.get(value, v -> Template.compile("respond.headers." + name, v))));
        int status = respond.get("status") instanceof Number n ? n.intValue() : 200;
        return ExpressionSandbox.shared().call("respond", () -> {
            try {
                context.put(
                        "payload",
                        ExpressionSandbox.shared().parse("payload", () -> json.readValue(bytes, Object.class)));
            } catch (JacksonException e) {
                context.put("payload", null); // not JSON (a form, text): the answer may still use headers and query
            }
            Object raw = body.evaluate(context);
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
            List<Map.Entry<String, String>> rendered = new ArrayList<>();
            Function<Object, String> toJson = StepRequests.toJson(json);
            for (Map.Entry<String, Template> h : headerTemplates.entrySet()) {
                String v = h.getValue().render(context, toJson);
                if (v.indexOf('\r') >= 0 || v.indexOf('\n') >= 0) {
                    throw new ExpressionException(
                            "respond.headers." + h.getKey(),
                            "the value has a line break, which a header cannot carry",
                            -1);
                }
                rendered.add(Map.entry(h.getKey(), v));
            }
            return Optional.of(new Answer(status, rendered, text, contentType));
        });
    }
}
