package dev.kikonect.common;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads fields out of a parsed JSON object and collects every problem before failing, so that a 400 names all bad
 * fields at once instead of the first one.
 */
public final class Fields {

    private final Map<String, Object> body;
    private final String prefix;
    private final List<FieldProblem> problems;

    private Fields(Map<String, Object> body, String prefix, List<FieldProblem> problems) {
        this.body = body == null ? Map.of() : body;
        this.prefix = prefix;
        this.problems = problems;
    }

    public static Fields of(Map<String, Object> body) {
        return new Fields(body, "", new ArrayList<>());
    }

    /** The fields of a nested object, reporting problems as {@code name.field} into the same list. */
    @SuppressWarnings("unchecked")
    public Fields nested(String name, Map<String, Object> value) {
        return new Fields(value, prefix + name + ".", problems);
    }

    public boolean has(String field) {
        return body.containsKey(field) && body.get(field) != null;
    }

    public Object raw(String field) {
        return body.get(field);
    }

    /** A required or optional string, trimmed, between {@code min} and {@code max} characters. */
    public String string(String field, boolean required, int min, int max) {
        Object value = body.get(field);
        if (value == null) {
            if (required) {
                problem(field, "is required");
            }
            return null;
        }
        if (!(value instanceof String s)) {
            problem(field, "must be a string");
            return null;
        }
        if (s.indexOf('\u0000') >= 0) {
            problem(field, "must not contain NUL characters");
            return null;
        }
        String trimmed = s.strip();
        if (trimmed.isEmpty() && required) {
            problem(field, "must not be blank");
            return null;
        }
        if (trimmed.length() < min) {
            problem(field, "must be at least " + min + " characters");
            return null;
        }
        if (trimmed.length() > max) {
            problem(field, "must be at most " + max + " characters");
            return null;
        }
        return trimmed;
    }

    /** A whole number within bounds; JSON numbers with a fraction and strings are refused. */
    public Long integer(String field, boolean required, long min, long max) {
        Object value = body.get(field);
        if (value == null) {
            if (required) {
                problem(field, "is required");
            }
            return null;
        }
        if (!(value instanceof Integer || value instanceof Long || value instanceof BigInteger)) {
            problem(field, "must be a whole number");
            return null;
        }
        BigInteger big = new BigInteger(value.toString());
        if (big.compareTo(BigInteger.valueOf(min)) < 0 || big.compareTo(BigInteger.valueOf(max)) > 0) {
            problem(field, "must be between " + min + " and " + max);
            return null;
        }
        return big.longValue();
    }

    public Boolean bool(String field) {
        Object value = body.get(field);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Boolean b)) {
            problem(field, "must be true or false");
            return null;
        }
        return b;
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> object(String field, boolean required) {
        Object value = body.get(field);
        if (value == null) {
            if (required) {
                problem(field, "is required");
            }
            return null;
        }
        if (!(value instanceof Map<?, ?> map)) {
            problem(field, "must be a JSON object");
            return null;
        }
        return (Map<String, Object>) map;
    }

    /** Whether a parsed JSON value holds a NUL character in any string or key (PostgreSQL text cannot store one). */
    public static boolean containsNul(Object value) {
        if (value instanceof String s) {
            return s.indexOf('\u0000') >= 0;
        }
        if (value instanceof Map<?, ?> map) {
            return map.entrySet().stream().anyMatch(e -> containsNul(e.getKey()) || containsNul(e.getValue()));
        }
        if (value instanceof List<?> list) {
            return list.stream().anyMatch(Fields::containsNul);
        }
        return false;
    }

    public void problem(String field, String reason) {
        problems.add(new FieldProblem(prefix + field, reason));
    }

    public boolean valid() {
        return problems.isEmpty();
    }

    public List<FieldProblem> problems() {
        return List.copyOf(problems);
    }

    /** Throws a 400 naming every problem found so far. */
    public void throwIfInvalid() {
        if (!problems.isEmpty()) {
            throw new DomainException.InvalidInput(problems);
        }
    }
}
