package dev.kikonect.common;

/**
 * Text that came from outside (a receiver's bytes inside an exception message, say) made safe to log and show: control
 * characters, including line breaks and the ESC of terminal escape sequences, become {@code \\uXXXX}, so a
 * receiver cannot forge log lines or colour a terminal; at most {@code max} characters are kept.
 */
public final class Printable {

    private Printable() {}

    public static String of(String text, int max) {
        if (text == null) {
            return null;
        }
        StringBuilder out = new StringBuilder(Math.min(text.length(), max) + 16);
        for (int i = 0; i < text.length() && out.length() < max; i++) {
            char c = text.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        if (out.length() >= max && text.length() > max) {
            out.setLength(max);
            out.append('…');
        }
        return out.toString();
    }
}
