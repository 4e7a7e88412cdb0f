package dev.kikonect.notify;

import dev.kikonect.auth.Caller;
import dev.kikonect.auth.Scope;
import dev.kikonect.auth.Scoped;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.Fields;
import dev.kikonect.workflow.WorkflowService;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/**
 * Browser notifications for failed runs: the VAPID public key a browser subscribes with, and the caller's own
 * subscriptions in the workspace (which workflows each one hears about). Anyone who may read runs may subscribe
 * (a viewer too): a notification says what the runs page already shows.
 */
@RestController
class PushController {

    static final int MAX_WORKFLOWS = 100;

    private final PushSubscriptions subscriptions;
    private final VapidKeyPair keys;
    private final WorkflowService workflows;
    private final Clock clock;

    PushController(PushSubscriptions subscriptions, VapidKeyPair keys, WorkflowService workflows, Clock clock) {
        this.subscriptions = subscriptions;
        this.keys = keys;
        this.workflows = workflows;
        this.clock = clock;
    }

    @GetMapping("/push/key")
    Map<String, String> key() {
        return Map.of("public_key", keys.applicationServerKey());
    }

    @GetMapping("/push/subscriptions")
    Map<String, List<PushSubscriptions.Subscription>> list(Caller caller) {
        return Map.of("items", subscriptions.list(caller.userId(), caller.workspaceId()));
    }

    /**
     * Subscribes this browser (the body is what {@code PushSubscription.toJSON()} gives, plus {@code workflow_ids}), or
     * changes the workflows of its existing subscription: one per browser, keyed by its endpoint.
     */
    @PutMapping("/push/subscriptions")
    @Scoped(Scope.READ)
    PushSubscriptions.Subscription subscribe(Caller caller, @RequestBody Map<String, Object> body) {
        Fields fields = Fields.of(body);
        String endpoint = fields.string("endpoint", true, 1, 2000);
        if (endpoint != null) {
            endpointProblem(endpoint).ifPresent(reason -> fields.problem("endpoint", reason));
        }
        Map<String, Object> keyFields = fields.object("keys", true);
        String p256dh = null;
        String auth = null;
        if (keyFields != null) {
            Fields k = fields.nested("keys", keyFields);
            p256dh = k.string("p256dh", true, 1, 200);
            auth = k.string("auth", true, 1, 100);
            if (p256dh != null && !decodesTo(p256dh, 65, (byte) 0x04)) {
                k.problem("p256dh", "must be the browser's P-256 public key: 65 bytes, uncompressed, base64url");
            }
            if (auth != null && !decodesTo(auth, 16, null)) {
                k.problem("auth", "must be the browser's 16-byte authentication secret, base64url");
            }
        }
        List<Long> workflowIds = workflowIds(fields, fields.raw("workflow_ids"));
        boolean approvals = Boolean.TRUE.equals(fields.bool("approvals")); // also approvals waiting for its user
        fields.throwIfInvalid();
        for (long id : workflowIds) {
            workflows.owned(caller.workspaceId(), id); // 404 for a workflow that is not the workspace's
        }
        long id = subscriptions
                .upsert(
                        caller.userId(),
                        caller.workspaceId(),
                        endpoint,
                        p256dh,
                        auth,
                        workflowIds,
                        approvals,
                        clock.instant())
                .orElseThrow(() -> new DomainException.QuotaExceeded(
                        "push-subscriptions-per-user",
                        "You have " + PushSubscriptions.MAX_PER_USER
                                + " browsers subscribed in this workspace; remove one first"));
        return subscriptions.find(caller.userId(), caller.workspaceId(), id).orElseThrow();
    }

    @DeleteMapping("/push/subscriptions/{id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    @Scoped(Scope.READ)
    void unsubscribe(Caller caller, @PathVariable long id) {
        if (!subscriptions.delete(caller.userId(), caller.workspaceId(), id)) {
            throw new DomainException.NotFound("Push subscription " + id);
        }
    }

    private static List<Long> workflowIds(Fields fields, Object raw) {
        if (raw == null) {
            fields.problem(
                    "workflow_ids",
                    "is required (the workflows whose failed runs this browser hears about; may be empty)");
            return List.of();
        }
        if (!(raw instanceof List<?> list)) {
            fields.problem("workflow_ids", "must be an array of workflow ids");
            return List.of();
        }
        if (list.size() > MAX_WORKFLOWS) {
            fields.problem("workflow_ids", "must name at most " + MAX_WORKFLOWS + " workflows");
            return List.of();
        }
        Set<Long> ids = new LinkedHashSet<>();
        for (int i = 0; i < list.size(); i++) {
            Object v = list.get(i);
            if (v instanceof Integer || v instanceof Long) {
                long id = ((Number) v).longValue();
                if (id > 0) {
                    ids.add(id);
                    continue;
                }
            }
            fields.problem("workflow_ids[" + i + "]", "must be a workflow id (a positive integer)");
        }
        return new ArrayList<>(ids);
    }

    /** Why a push endpoint cannot be one: it must be an absolute http(s) URL without credentials (https in practice). */
    static Optional<String> endpointProblem(String endpoint) {
        try {
            URI uri = new URI(endpoint);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("https") || scheme.equals("http")) || uri.getHost() == null) {
                return Optional.of("must be the push service's absolute https URL, as the browser gave it");
            }
            if (uri.getUserInfo() != null) {
                return Optional.of("must not contain credentials");
            }
            return Optional.empty();
        } catch (URISyntaxException e) {
            return Optional.of("is not a valid URL: " + e.getReason());
        }
    }

    private static boolean decodesTo(String base64url, int length, Byte first) {
        try {
            byte[] bytes = Base64.getUrlDecoder()
                    .decode(base64url.replace('+', '-').replace('/', '_').replace("=", ""));
            return bytes.length == length && (first == null || bytes[0] == first);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
