package dev.kikonect.steps;

import com.dashjoin.jsonata.Jsonata;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.kikonect.common.DomainException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * A workflow's {@code filter}: checked when the workflow is saved, evaluated for each webhook and manual run (compiled
 * once per expression text; the compiled filters kept are budgeted in bytes: 16 MiB, counting a compiled expression
 * as 16 bytes per character of its text, the least used evicted first). A filter that is not true (false, undefined, an error) keeps the run
 * from being delivered; an error says why.
 */
@Component
public class Filters {

    /** The outcome for one run: pass, or not, with the error when the expression failed. */
    public record Verdict(boolean passes, String error) {}

    private final Cache<String, Expression> compiled = Caffeine.newBuilder()
            .maximumWeight(16L * 1024 * 1024)
            .weigher((String text, Expression e) -> 64 + 16 * text.length())
            .build();
    private final JsonMapper json;

    public Filters(JsonMapper json) {
        this.json = json;
    }

    /** Why {@code filter} cannot be saved (its parser's message and position), if it cannot. */
    public Optional<String> problem(String filter) {
        try {
            Expression.compile("filter", filter);
            return Optional.empty();
        } catch (ExpressionException e) {
            return Optional.of(e.reason());
        }
    }

    /**
     * Evaluates {@code filter} for a run of workflow {@code workflowId}: the context is the payload (the JSON text that
     * will be delivered), the incoming request's headers (names lower-cased) and query, the run's trigger and the workflow.
     */
    public Verdict evaluate(
            String filter,
            String payloadJson,
            Map<String, String> headers,
            Map<String, String> query,
            String trigger,
            long workflowId,
            String name) {
        byte[] bytes = payloadJson.getBytes(StandardCharsets.UTF_8);
        long parsed = ParsedSize.estimate(bytes);
        if (parsed > ExpressionSandbox.shared().maxContextBytes()) {
            return new Verdict(
                    false,
                    "filter: the payload is too large for expressions: parsed, it would take about " + (parsed >> 20)
                            + " MiB; at most " + (ExpressionSandbox.shared().maxContextBytes() >> 20) + " MiB");
        }
        Map<String, Object> context = new LinkedHashMap<>();
        context.put("payload", null); // parsed in the sandbox, below
        Map<String, String> lower = new LinkedHashMap<>();
        headers.forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), v));
        context.put("headers", lower);
        context.put("query", query);
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("trigger", trigger);
        context.put("run", run);
        Map<String, Object> workflow = new LinkedHashMap<>();
        workflow.put("id", workflowId);
        workflow.put("name", name);
        context.put("workflow", workflow);
        try {
            Expression expression = compiled.get(filter, f -> Expression.compile("filter", f));
            // Parsed and evaluated in one task of the sandbox: its threads and its budget bound what a payload costs
            // too.
            return ExpressionSandbox.shared().call("filter", () -> {
                try {
                    context.put(
                            "payload",
                            ExpressionSandbox.shared().parse("payload", () -> json.readValue(bytes, Object.class)));
                } catch (JacksonException e) {
                    return new Verdict(false, "filter: the payload is not JSON");
                }
                return new Verdict(Jsonata.boolize(DryRun.plain(expression.evaluate(context))), null);
            });
        } catch (ExpressionException e) {
            if (e.busy()) {
                throw busy();
            }
            return new Verdict(false, "filter: " + e.reason());
        }
    }

    /** The sandbox had no room: nothing was decided or stored; the sender may try again (a 503 with Retry-After). */
    static DomainException.Unavailable busy() {
        return new DomainException.Unavailable(
                "expressions-busy",
                "This node's expression sandbox is busy; nothing was stored, retry.",
                Duration.ofSeconds(2));
    }
}
