package dev.kikonect.steps;

import com.dashjoin.jsonata.Functions;
import com.dashjoin.jsonata.JException;
import com.dashjoin.jsonata.Jsonata;
import com.dashjoin.jsonata.Utils;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The built-ins that loop or allocate inside one call, written again (or guarded, then handed to the engine's) so
 * that they charge the evaluation's {@link ExpressionBudget} before they work: {@code $string}, {@code $pad}, {@code
 * $join}, {@code $sort}, the regular-expression functions ({@code $match}, {@code $contains}, {@code $replace},
 * {@code $split}: the matcher reads the text through the budget), and the picture functions ({@code $toMillis},
 * {@code $fromMillis}, {@code $now}, {@code $formatNumber}, {@code $formatInteger}: short pictures only). {@code $eval}
 * is not available: an expression may not compile another.
 *
 * <p>They are registered in each compiled expression's own frame, where they hide the engine's functions of the same
 * name (the engine's are in the frame above it).
 */
final class SafeFunctions {

    /** Pictures of the date and number functions are short; a width modifier in one ({@code [Y,2-4]}) at most two digits. */
    static final int MAX_PICTURE = 128;

    private static final Pattern WIDE = Pattern.compile(",[^\\]]*\\d{3,}");

    private SafeFunctions() {}

    /** Made once: a function holds no state of an evaluation (the budget is the thread's), as the engine's own. */
    private static final Map<String, Jsonata.JFunction> ALL = all();

    /** Registers the replacements in a freshly compiled expression, before anyone evaluates it. */
    static void register(Jsonata compiled) {
        ALL.forEach(compiled::registerFunction);
    }

    private static Map<String, Jsonata.JFunction> all() {
        Map<String, Jsonata.JFunction> frame = new LinkedHashMap<>();
        frame.put("string", fn("<x-b?:s>", args -> {
            Object value = arg(args, 0);
            return value == null ? null : string(budget(), value, Boolean.TRUE.equals(arg(args, 1)));
        }));
        frame.put(
                "pad",
                fn("<s-ns?:s>", args -> pad((String) arg(args, 0), (Number) arg(args, 1), (String) arg(args, 2))));
        frame.put("join", fn("<a<s>s?:s>", args -> join(list(arg(args, 0)), (String) arg(args, 1))));
        frame.put("sort", fn("<af?:a>", args -> {
            List<Object> items = list(arg(args, 0));
            if (items != null && items.size() > 1) {
                budget().work((long) (items.size() * (1 + Math.log(items.size()) / Math.log(2))));
            }
            return sorted(items, arg(args, 1));
        }));
        frame.put("contains", fn("<s-(sf):b>", args -> contains((String) arg(args, 0), arg(args, 1))));
        frame.put(
                "match",
                fn("<s-f<s:o>n?:a<o>>", args -> match((String) arg(args, 0), arg(args, 1), (Number) arg(args, 2))));
        frame.put(
                "replace",
                fn(
                        "<s-(sf)(sf)n?:s>",
                        args -> replace((String) arg(args, 0), arg(args, 1), arg(args, 2), (Number) arg(args, 3))));
        frame.put(
                "split",
                fn("<s-(sf)n?:a<s>>", args -> split((String) arg(args, 0), arg(args, 1), (Number) arg(args, 2))));
        frame.put("eval", fn("<sx?:x>", args -> {
            throw new JException("$eval is not available in KiKonect: an expression cannot compile another", -1);
        }));
        frame.put("toMillis", fn("<s-s?:n>", args -> {
            String text = (String) arg(args, 0);
            String picture = picture((String) arg(args, 1));
            if (text != null && text.length() > 256) {
                throw new JException("$toMillis takes a timestamp of at most 256 characters", -1);
            }
            try {
                return Functions.dateTimeToMillis(text, picture);
            } catch (ParseException e) {
                throw new JException(String.valueOf(e.getMessage()), -1);
            }
        }));
        frame.put(
                "fromMillis",
                fn(
                        "<n-s?s?:s>",
                        args -> Functions.dateTimeFromMillis(
                                (Number) arg(args, 0), picture((String) arg(args, 1)), (String) arg(args, 2))));
        frame.put("now", fn("<s?s?:s>", args -> Functions.now(picture((String) arg(args, 0)), (String) arg(args, 1))));
        frame.put(
                "formatNumber",
                fn(
                        "<n-so?:s>",
                        args -> Functions.formatNumber(
                                (Number) arg(args, 0), picture((String) arg(args, 1)), (Map<?, ?>) arg(args, 2))));
        frame.put(
                "formatInteger",
                fn("<n-s:s>", args -> Functions.formatInteger((Number) arg(args, 0), picture((String) arg(args, 1)))));
        return Map.copyOf(frame);
    }

    private interface Body {
        Object apply(List<?> args) throws Throwable;
    }

    private static Jsonata.JFunction fn(String signature, Body body) {
        return new Jsonata.JFunction((input, args) -> body.apply(args), signature);
    }

    private static Object arg(List<?> args, int i) {
        return args != null && i < args.size() ? args.get(i) : null;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object value) {
        if (value == null) {
            return null;
        }
        return value instanceof List<?> l ? (List<Object>) l : List.of(value);
    }

    private static ExpressionBudget budget() {
        ExpressionBudget budget = ExpressionBudget.current();
        if (budget == null) {
            throw new IllegalStateException("a sandboxed function ran outside an evaluation");
        }
        return budget;
    }

    private static String picture(String picture) {
        if (picture != null
                && (picture.length() > MAX_PICTURE || WIDE.matcher(picture).find())) {
            throw new JException(
                    "a picture has at most " + MAX_PICTURE + " characters and width modifiers of at most two digits",
                    -1);
        }
        return picture;
    }

    /**
     * The engine's string form of {@code value}, after a walk that counts what it would write (every item a step of
     * work) and refuses it when it would not fit the allocation left: a list holding one long string a thousand times
     * is a thousand times that string.
     */
    static String string(ExpressionBudget budget, Object value, boolean pretty) {
        if (value instanceof String s) {
            return s;
        }
        long limit = budget.limits().allocatedBytes() / 2;
        long size = size(budget, value, 0, limit);
        budget.reserveChars(pretty ? size * 2 : size);
        return Functions.string(value, pretty);
    }

    private static long size(ExpressionBudget budget, Object value, long sofar, long limit) {
        budget.work(1);
        long size = sofar;
        if (value instanceof String s) {
            size += s.length() + 2;
        } else if (value instanceof Map<?, ?> map) {
            size += 2;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                size = size(
                        budget, e.getValue(), size + String.valueOf(e.getKey()).length() + 4, limit);
            }
        } else if (value instanceof List<?> list) {
            size += 2;
            for (Object item : list) {
                size = size(budget, item, size + 1, limit);
            }
        } else {
            size += 24;
        }
        if (size > limit) {
            budget.reserveChars(size); // throws: over what the whole evaluation may allocate
        }
        return size;
    }

    static String pad(String text, Number width, String with) {
        if (text == null) {
            return null;
        }
        if (width == null) {
            throw new JException("$pad needs a width", -1);
        }
        String padding = with == null || with.isEmpty() ? " " : with;
        long wanted = Math.abs(width.longValue());
        int have = text.codePointCount(0, text.length());
        if (wanted <= have) {
            return text;
        }
        long missing = wanted - have;
        ExpressionBudget budget = budget();
        budget.reserveChars(text.length() + missing * 2);
        budget.work(missing / 64);
        int[] points = padding.codePoints().toArray();
        StringBuilder pad = new StringBuilder((int) Math.min(Integer.MAX_VALUE - 8, missing));
        for (long i = 0; i < missing; i++) {
            pad.appendCodePoint(points[(int) (i % points.length)]);
        }
        return width.longValue() < 0 ? pad.append(text).toString() : text + pad;
    }

    static String join(List<Object> items, String separator) {
        if (items == null) {
            return null;
        }
        String sep = separator == null ? "" : separator;
        ExpressionBudget budget = budget();
        long length = 0;
        for (Object item : items) {
            if (!(item instanceof String s)) {
                throw new JException("T0412", -1, item);
            }
            length += s.length() + sep.length();
        }
        budget.work(items.size());
        budget.reserveChars(length);
        StringBuilder out = new StringBuilder((int) Math.min(Integer.MAX_VALUE - 8, length));
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                out.append(sep);
            }
            out.append((String) items.get(i));
        }
        return out.toString();
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    private static Object sorted(List<Object> items, Object comparator) throws Throwable {
        return Functions.sort((List) items, comparator);
    }

    static Boolean contains(String text, Object token) {
        if (text == null) {
            return null;
        }
        if (token instanceof String s) {
            return text.contains(s);
        }
        return pattern(token).matcher(budget().chars(text)).find();
    }

    static List<Object> match(String text, Object regex, Number limit) {
        if (text == null) {
            return null;
        }
        if (limit != null && limit.longValue() < 0) {
            throw new JException("D3040", -1, limit);
        }
        ExpressionBudget budget = budget();
        long max = limit == null ? Long.MAX_VALUE : limit.longValue();
        List<Object> result = Utils.createSequence();
        Matcher m = pattern(regex).matcher(budget.chars(text));
        while (result.size() < max && m.find()) {
            budget.work(1);
            result.add(matchObject(m));
            if (m.end() == m.start() && m.end() >= text.length()) {
                break;
            }
        }
        return result;
    }

    private static Map<String, Object> matchObject(Matcher m) {
        Map<String, Object> match = new LinkedHashMap<>();
        match.put("match", m.group());
        match.put("index", m.start());
        List<Object> groups = new ArrayList<>();
        for (int g = 1; g <= m.groupCount(); g++) {
            groups.add(m.group(g) == null ? "" : m.group(g));
        }
        match.put("groups", groups);
        return match;
    }

    static String replace(String text, Object pattern, Object replacement, Number limit) throws Throwable {
        if (text == null) {
            return null;
        }
        if (pattern instanceof String s && s.isEmpty()) {
            throw new JException("D3010", -1, pattern);
        }
        if (limit != null && limit.longValue() < 0) {
            throw new JException("D3011", -1, limit);
        }
        if (!(replacement instanceof String) && !Functions.isLambda(replacement) && !Utils.isFunction(replacement)) {
            throw new JException("D3012", -1, replacement);
        }
        ExpressionBudget budget = budget();
        long max = limit == null ? Long.MAX_VALUE : limit.longValue();
        Pattern regex = pattern instanceof String s ? Pattern.compile(Pattern.quote(s)) : pattern(pattern);
        Matcher m = regex.matcher(budget.chars(text));
        StringBuilder out = new StringBuilder();
        int at = 0;
        long done = 0;
        while (done < max && m.find()) {
            if (m.end() == m.start()) {
                throw new JException("D1004", -1, pattern);
            }
            budget.work(1);
            out.append(text, at, m.start());
            if (replacement instanceof String r) {
                substitute(out, r, m);
            } else {
                Object value = Functions.funcApply(replacement, List.of(matchObject(m)));
                if (!(value instanceof String s)) {
                    throw new JException("D3012", -1, value);
                }
                out.append(s);
            }
            budget.reserveChars(out.length() + (long) text.length() - m.end());
            at = m.end();
            done++;
        }
        out.append(text, at, text.length());
        return out.toString();
    }

    /** JSONata's replacement text: {@code $0} the match, {@code $1}.. its groups, {@code $$} a dollar sign. */
    private static void substitute(StringBuilder out, String replacement, Matcher m) {
        for (int i = 0; i < replacement.length(); i++) {
            char c = replacement.charAt(i);
            if (c != '$' || i + 1 >= replacement.length()) {
                out.append(c);
                continue;
            }
            char next = replacement.charAt(i + 1);
            if (next == '$') {
                out.append('$');
                i++;
            } else if (Character.isDigit(next)) {
                int end = i + 1;
                while (end < replacement.length() && Character.isDigit(replacement.charAt(end))) {
                    end++;
                }
                // The longest run of digits that names a group (JSONata's rule); none: the '$' and digits vanish.
                int group = -1;
                int used = i + 1;
                for (int stop = end; stop > i + 1; stop--) {
                    String digits = replacement.substring(i + 1, stop);
                    if (digits.length() <= 3 && Integer.parseInt(digits) <= m.groupCount()) {
                        group = Integer.parseInt(digits);
                        used = stop;
                        break;
                    }
                }
                if (group >= 0) {
                    String value = m.group(group);
                    out.append(value == null ? "" : value);
                    i = used - 1;
                } else {
                    i = end - 1;
                }
            } else {
                out.append(c);
            }
        }
    }

    static List<Object> split(String text, Object separator, Number limit) {
        if (text == null) {
            return null;
        }
        if (limit != null && limit.longValue() < 0) {
            throw new JException("D3020", -1, text);
        }
        ExpressionBudget budget = budget();
        long max = limit == null ? Long.MAX_VALUE : limit.longValue();
        List<Object> parts = new ArrayList<>();
        if (max == 0) {
            return parts;
        }
        if (separator instanceof String sep) {
            if (sep.isEmpty()) {
                for (int i = 0; i < text.length() && parts.size() < max; i++) {
                    budget.work(1);
                    parts.add(String.valueOf(text.charAt(i)));
                }
                return parts;
            }
            int at = 0;
            int next;
            while (parts.size() < max && (next = text.indexOf(sep, at)) >= 0) {
                budget.work(1);
                parts.add(text.substring(at, next));
                at = next + sep.length();
            }
            if (parts.size() < max) {
                parts.add(text.substring(at));
            }
            return parts;
        }
        Matcher m = pattern(separator).matcher(budget.chars(text));
        int at = 0;
        while (parts.size() < max && m.find()) {
            budget.work(1);
            if (m.end() == 0 && m.start() == 0) {
                continue; // a zero-length match at the very start splits nothing off
            }
            parts.add(text.substring(at, m.start()));
            at = m.end();
        }
        if (parts.size() < max) {
            parts.add(text.substring(at));
        }
        return parts;
    }

    private static Pattern pattern(Object value) {
        if (value instanceof Pattern p) {
            return p;
        }
        throw new JException("T0410", -1, value);
    }
}
