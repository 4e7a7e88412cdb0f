package dev.kikonect.steps;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * A string with {@code {{ expression }}} parts, for step URLs and header values: the text between the parts is kept
 * as written, each part is replaced by its expression's result (a string as it is, a number or boolean as JSON writes
 * it, an object or array as JSON). A part whose result is undefined fails: a URL with a hole in it is a mistake, not
 * an empty string. Positions in errors count from the start of the whole template.
 */
final class Template {

    private record Part(String text, Expression expression, int offset) {}

    private final String field;
    private final List<Part> parts;

    private Template(String field, List<Part> parts) {
        this.field = field;
        this.parts = parts;
    }

    String field() {
        return field;
    }

    static Template compile(String field, String template) {
        List<Part> parts = new ArrayList<>();
        int at = 0;
        while (at < template.length()) {
            int open = template.indexOf("{{", at);
            if (open < 0) {
                parts.add(new Part(template.substring(at), null, at));
                break;
            }
            int close = template.indexOf("}}", open + 2);
            if (close < 0) {
                throw new ExpressionException(field, "'{{' without its '}}'", open);
            }
            if (open > at) {
                parts.add(new Part(template.substring(at, open), null, at));
            }
            String inner = template.substring(open + 2, close);
            if (inner.isBlank()) {
                throw new ExpressionException(field, "empty '{{ }}'", open);
            }
            int offset = open + 2;
            try {
                parts.add(new Part(null, Expression.compile(field, inner), offset));
            } catch (ExpressionException e) {
                throw e.at(field, e.position() < 0 ? offset : offset + e.position());
            }
            at = close + 2;
        }
        return new Template(field, parts);
    }

    /** The texts of its expressions. */
    Stream<String> sources() {
        return parts.stream()
                .filter(p -> p.expression() != null)
                .map(p -> p.expression().source());
    }

    /** Whether the template has no {@code {{ }}} part: the same text every time. */
    boolean isStatic() {
        return parts.stream().allMatch(p -> p.expression() == null);
    }

    String render(Map<String, Object> context, Function<Object, String> toJson) {
        StringBuilder out = new StringBuilder();
        for (Part part : parts) {
            if (part.expression() == null) {
                out.append(part.text());
                continue;
            }
            Object value;
            try {
                value = part.expression().evaluate(context);
            } catch (ExpressionException e) {
                throw e.at(e.field(), e.position() < 0 ? part.offset() : part.offset() + e.position());
            }
            if (value == null) {
                throw new ExpressionException(
                        part.expression().field(),
                        "'" + part.expression().source().strip() + "' is undefined",
                        part.offset());
            }
            try {
                out.append(value instanceof String s ? s : toJson.apply(value));
            } catch (BoundedJson.TooLarge e) {
                throw new ExpressionException(
                        part.expression().field(), "the value is larger than 1 MiB", part.offset());
            }
            if (out.length() > StepRequests.MAX_BODY_BYTES) {
                throw new ExpressionException(
                        part.expression().field(), "the text is larger than 1 MiB", part.offset());
            }
        }
        return out.toString();
    }
}
