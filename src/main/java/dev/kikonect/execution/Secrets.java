package dev.kikonect.execution;

import java.util.List;
import java.util.function.UnaryOperator;

/** Removing secrets from text a receiver may have echoed them into (error messages, response headers and bodies). */
final class Secrets {

    /** What a cut text may end with after the cut (Printable's ellipsis, the 4 KiB note of a response body). */
    private static final List<String> CUT_MARKS = List.of("\n[truncated to 4 KiB]", "…");

    private Secrets() {}

    /**
     * Replaces every whole secret (of at least 4 characters) by {@code [redacted]}, and a secret's beginning that a cut
     * left at the very end of the text (a 24-character secret split by the 4 KiB cut of a response showed 21 of its
     * characters): the text is cut before it reaches here, so its tail is checked against every secret's prefixes.
     */
    static UnaryOperator<String> scrubber(List<String> secrets) {
        return text -> {
            if (text == null) {
                return null;
            }
            for (String secret : secrets) {
                if (secret.length() >= 4) {
                    text = text.replace(secret, "[redacted]");
                }
            }
            String mark = CUT_MARKS.stream().filter(text::endsWith).findFirst().orElse("");
            String body = text.substring(0, text.length() - mark.length());
            for (String secret : secrets) {
                for (int k = Math.min(secret.length() - 1, body.length()); k >= 3; k--) {
                    if (body.endsWith(secret.substring(0, k))) {
                        body = body.substring(0, body.length() - k) + "[redacted]";
                        break;
                    }
                }
            }
            return body + mark;
        };
    }
}
