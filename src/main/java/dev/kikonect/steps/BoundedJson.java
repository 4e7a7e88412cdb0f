package dev.kikonect.steps;

import java.io.Writer;
import java.util.function.Function;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * JSON text written with a ceiling: the writing stops as soon as the text passes {@code maxChars}, so a value an
 * expression built cheaply from references (a thousand copies of a 1 MiB payload cost the engine a thousand pointers)
 * is refused before its text is made, instead of filling the heap with it. Every expression's value that becomes text
 * (a body, a template's part, a loop's items, a workflow's output) is written this way.
 */
public final class BoundedJson {

    /** The text would pass the ceiling; {@code maxChars} says which. */
    public static final class TooLarge extends RuntimeException {
        private final long maxChars;

        TooLarge(long maxChars) {
            super("larger than " + maxChars + " characters as JSON", null, false, false);
            this.maxChars = maxChars;
        }

        public long maxChars() {
            return maxChars;
        }
    }

    private BoundedJson() {}

    /** {@code value} as JSON text of at most {@code maxChars} characters. @throws TooLarge past it */
    public static String write(JsonMapper json, Object value, long maxChars) {
        Capped out = new Capped(maxChars);
        try {
            json.writeValue(out, value);
        } catch (JacksonException e) {
            if (out.full) {
                throw new TooLarge(maxChars); // Jackson wraps what its writer throws
            }
            throw e;
        }
        return out.text.toString();
    }

    /** A writer of {@link #write} with one ceiling. */
    public static Function<Object, String> writer(JsonMapper json, long maxChars) {
        return value -> write(json, value, maxChars);
    }

    /** "1 MiB", "256 KiB", or bytes: a ceiling as people read it. */
    public static String size(long bytes) {
        if (bytes >= 1 << 20 && bytes % (1 << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        if (bytes >= 1 << 10 && bytes % (1 << 10) == 0) {
            return (bytes >> 10) + " KiB";
        }
        return bytes + " bytes";
    }

    private static final class Capped extends Writer {
        private final StringBuilder text = new StringBuilder();
        private final long maxChars;
        private boolean full;

        Capped(long maxChars) {
            this.maxChars = maxChars;
        }

        private void room(int more) {
            if (text.length() + (long) more > maxChars) {
                full = true;
                throw new TooLarge(maxChars);
            }
        }

        @Override
        public void write(char[] chars, int off, int len) {
            room(len);
            text.append(chars, off, len);
        }

        @Override
        public void write(String s, int off, int len) {
            room(len);
            text.append(s, off, off + len);
        }

        @Override
        public void write(int c) {
            room(1);
            text.append((char) c);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }
}
