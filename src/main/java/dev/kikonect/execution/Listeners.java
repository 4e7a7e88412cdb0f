package dev.kikonect.execution;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Where a delivery to {@code listen://<name>} goes instead of the network: a listener ({@code kikonect listen}) of the
 * workspace takes it, forwards it to its local server and hands back the answer. Implemented by {@code listen/}.
 */
public interface Listeners {

    /** What the listener's local server answered. */
    record Answer(int status, List<Map.Entry<String, String>> headers, byte[] body) {}

    /** Thrown when no listener answered within the timeout (none connected, or it dropped the delivery). */
    final class NoAnswer extends IOException {
        public NoAnswer(String message) {
            super(message);
        }
    }

    /** Sends the request to the workspace's listener {@code name} and waits for its answer at most {@code timeout}. */
    Answer exchange(
            long workspaceId,
            String name,
            String method,
            List<Map.Entry<String, String>> headers,
            byte[] body,
            Duration timeout)
            throws NoAnswer, InterruptedException;

    /** A listener name: lower-case letters, digits and dashes, 1 to 40. */
    static boolean validName(String name) {
        return name != null && name.matches("[a-z0-9][a-z0-9-]{0,39}");
    }
}
