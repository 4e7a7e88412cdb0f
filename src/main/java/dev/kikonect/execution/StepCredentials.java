package dev.kikonect.execution;

import java.util.List;
import java.util.Map;

/**
 * What a step's {@code credential} adds to its request, applied after every expression (credentials are never in an
 * expression's context, a dry run or the attempt log). Implemented by the credentials feature.
 */
public interface StepCredentials {

    /**
     * Headers and query parameters to add. {@code stamp} is non-null for a fetched token (OAuth2): after a 401, {@code
     * apply(..., stamp)} fetches a new one, once however many deliveries were refused with the same token.
     */
    record Applied(List<Map.Entry<String, String>> headers, List<Map.Entry<String, String>> query, Object stamp) {}

    /** The credential could not be applied: {@code retryable} when trying again later may work (a token endpoint down). */
    final class Failure extends Exception {
        private final boolean retryable;

        public Failure(String message, boolean retryable) {
            super(message, null, false, false);
            this.retryable = retryable;
        }

        public boolean retryable() {
            return retryable;
        }
    }

    /**
     * What credential {@code name} of workspace {@code workspaceId} adds to a request to {@code host}. {@code refused}: the
     * stamp of a token the target answered 401 to (null otherwise); that token is not used again.
     *
     * @throws Failure also when {@code host} is not one of the credential's {@code allowed_hosts} (nothing is sent then)
     */
    Applied apply(long workspaceId, String name, String host, Object refused) throws Failure;
}
