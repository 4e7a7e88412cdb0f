package dev.kikonect.workflow;

import dev.kikonect.common.Fields;
import dev.kikonect.common.SecureTokens;
import dev.kikonect.execution.Signatures;
import dev.kikonect.scheduling.Schedule;
import dev.kikonect.steps.HookAnswers;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Validates a trigger_config for its trigger_type and returns it normalised (defaults filled in, secrets added). */
final class TriggerConfigs {

    static final long MAX_INTERVAL_MINUTES = 525_600;
    /** The most workflows one error workflow watches by id. */
    static final int MAX_WATCHED = 100;

    private static boolean isId(Object raw) {
        return raw instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && n.longValue() > 0;
    }

    private TriggerConfigs() {}

    /** A webhook token: 24 random bytes, URL-safe (192 bits). */
    static String newToken() {
        return SecureTokens.random("", 24);
    }

    /**
     * @param current the stored config when updating (keeps server-generated parts such as the webhook token), or
     *     null when creating
     */
    static Map<String, Object> validate(
            TriggerType type,
            Map<String, Object> config,
            Map<String, Object> current,
            Fields fields,
            Duration minCronInterval) {
        Map<String, Object> given = config == null ? Map.of() : config;
        Fields f = fields.nested("trigger_config", given);
        if (Fields.containsNul(given)) {
            f.problem("payload", "must not contain NUL characters (\\u0000) anywhere");
            return Map.of();
        }
        Map<String, Object> normalized = new LinkedHashMap<>();
        switch (type) {
            case MANUAL -> rejectUnknown(given, Set.of(), f);
            case WEBHOOK -> {
                rejectUnknown(given, Set.of("verify", "secret", "header_name", "methods", "respond"), f);
                normalized.put(
                        "token", current != null && current.get("token") != null ? current.get("token") : newToken());
                verification(given, normalized, f);
                methods(given, normalized, f);
                respond(given, normalized, f);
            }
            case INTERVAL -> {
                rejectUnknown(given, Set.of("interval_minutes", "payload"), f);
                Long minutes = f.integer("interval_minutes", true, 1, MAX_INTERVAL_MINUTES);
                normalized.put("interval_minutes", minutes);
                if (given.containsKey("payload")) {
                    normalized.put("payload", given.get("payload"));
                }
            }
            case RUN_FAILED -> {
                // Which workflows' failures start this one: "all" of its workspace, or a list of their ids (checked
                // against the workspace, and for loops, by WorkflowService).
                rejectUnknown(given, Set.of("workflows"), f);
                Object watched = given.get("workflows");
                if ("all".equals(watched)) {
                    normalized.put("workflows", "all");
                } else if (watched instanceof List<?> ids
                        && !ids.isEmpty()
                        && ids.size() <= MAX_WATCHED
                        && ids.stream().allMatch(TriggerConfigs::isId)) {
                    normalized.put(
                            "workflows",
                            ids.stream()
                                    .map(id -> ((Number) id).longValue())
                                    .distinct()
                                    .toList());
                } else {
                    f.problem("workflows", "must be \"all\" or a list of 1 to " + MAX_WATCHED + " workflow ids");
                }
            }
            case CRON -> {
                rejectUnknown(given, Set.of("expression", "timezone", "payload"), f);
                String expression = f.string("expression", true, 1, 200);
                String timezone = f.string("timezone", false, 1, 100);
                ZoneId zone = ZoneId.of("UTC");
                if (timezone != null) {
                    if (ZoneId.getAvailableZoneIds().contains(timezone)) {
                        zone = ZoneId.of(timezone);
                    } else {
                        f.problem("timezone", "must be an IANA time zone such as Europe/Berlin or America/New_York");
                    }
                }
                if (expression != null) {
                    try {
                        Duration gap = Schedule.cron(expression, zone).shortestGap(Instant.now(), 120);
                        if (gap.compareTo(minCronInterval) < 0) {
                            f.problem(
                                    "expression",
                                    "fires " + gap.toSeconds() + " s apart; the shortest allowed interval is "
                                            + minCronInterval.toSeconds()
                                            + " s (quota kikonect.quotas.min-cron-interval)");
                        }
                    } catch (IllegalArgumentException e) {
                        f.problem("expression", e.getMessage());
                    }
                }
                normalized.put("expression", expression);
                normalized.put("timezone", zone.getId());
                if (given.containsKey("payload")) {
                    normalized.put("payload", given.get("payload"));
                }
            }
        }
        return normalized;
    }

    static final Set<String> VERIFY_MODES = Set.of("none", "standard_webhooks", "github", "stripe", "header");

    /** The optional check of incoming webhook signatures: see {@code trigger.HookVerifier}. */
    private static void verification(Map<String, Object> given, Map<String, Object> normalized, Fields f) {
        String mode = f.string("verify", false, 1, 40);
        if (mode == null || mode.equals("none")) {
            if (given.containsKey("secret") || given.containsKey("header_name")) {
                f.problem("verify", "must be standard_webhooks, github, stripe or header when a secret is given");
            }
            return;
        }
        if (!VERIFY_MODES.contains(mode)) {
            f.problem("verify", "must be one of none, standard_webhooks, github, stripe, header");
            return;
        }
        normalized.put("verify", mode);
        String secret = f.string("secret", !mode.equals("standard_webhooks"), 8, 256);
        if (mode.equals("standard_webhooks")) {
            if (secret == null) {
                secret = Signatures.newSecret();
            } else if (!secret.startsWith("whsec_") || !isBase64(secret.substring(6))) {
                f.problem("secret", "must be whsec_ followed by base64, as Standard Webhooks secrets are");
            }
        }
        if (mode.equals("header")) {
            String header = f.string("header_name", true, 1, 100);
            if (header != null && !header.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
                f.problem("header_name", "must be an HTTP header name");
            }
            normalized.put("header_name", header);
        } else if (given.containsKey("header_name")) {
            f.problem("header_name", "is only for verify: header");
        }
        normalized.put("secret", secret);
    }

    /** The HTTP methods a webhook takes: POST (the default), and GET (with HEAD) for senders that verify with a GET. */
    private static void methods(Map<String, Object> given, Map<String, Object> normalized, Fields f) {
        if (!given.containsKey("methods")) {
            return;
        }
        if (!(given.get("methods") instanceof List<?> list)
                || list.isEmpty()
                || !list.stream().allMatch(m -> "POST".equals(m) || "GET".equals(m))) {
            f.problem("methods", "must be a list of POST and GET (HEAD comes with GET)");
            return;
        }
        normalized.put(
                "methods",
                list.contains("POST") && list.contains("GET") ? List.of("POST", "GET") : List.of(list.get(0)));
    }

    /** How long a caller may be held for a step's answer at most, and by default. */
    static final Duration MAX_HOLD = Duration.ofSeconds(60);

    static final Duration DEFAULT_HOLD = Duration.ofSeconds(10);

    /**
     * The answer to the webhook's caller: {@code {mode: "immediate", status, headers, body}} answers from the request
     * alone; {@code {mode: "step", step, timeout, status?, headers?, body?}} holds the request until that step has
     * finished ({@code trigger.HeldResponses}) and answers with its response, or with {@code body} over {@code steps}
     * ({@code steps.HookAnswers}). That the step is one of the workflow's is checked with the steps
     * ({@code WorkflowService}).
     */
    @SuppressWarnings("unchecked")
    private static void respond(Map<String, Object> given, Map<String, Object> normalized, Fields f) {
        if (!given.containsKey("respond") || given.get("respond") == null) {
            return;
        }
        if (!(given.get("respond") instanceof Map<?, ?> raw)) {
            f.problem("respond", "must be an object {mode, status, headers, body}");
            return;
        }
        Map<String, Object> respond = (Map<String, Object>) raw;
        Fields r = f.nested("respond", respond);
        String mode = r.string("mode", true, 1, 20);
        boolean step = "step".equals(mode);
        if (mode != null && !mode.equals("immediate") && !step) {
            r.problem("mode", "must be immediate (an answer from the request alone) or step (the answer of a step)");
        }
        rejectUnknown(
                respond,
                step
                        ? Set.of("mode", "step", "timeout", "status", "headers", "body")
                        : Set.of("mode", "status", "headers", "body"),
                r);
        String stepKey = step ? r.string("step", true, 1, 100) : null;
        Duration hold = step ? holdTimeout(respond.get("timeout"), r) : null;
        Long status = r.integer("status", false, 200, 599);
        String body = r.string("body", !step, 1, 10_000);
        if (body != null) {
            HookAnswers.bodyProblem(body).ifPresent(why -> r.problem("body", why));
        }
        Map<String, Object> headers = r.object("headers", false);
        Map<String, String> kept = new LinkedHashMap<>();
        if (headers != null) {
            if (headers.size() > HookAnswers.MAX_HEADERS) {
                r.problem("headers", "at most " + HookAnswers.MAX_HEADERS + " headers");
            }
            headers.forEach((name, value) -> {
                String lower = name.toLowerCase(Locale.ROOT);
                if (!name.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")) {
                    r.problem("headers." + name, "must be an HTTP header name");
                } else if (HookAnswers.RESERVED_HEADERS.contains(lower)) {
                    r.problem("headers." + name, "is set by the server, not by an answer");
                } else if (!(value instanceof String text) || text.length() > 1000) {
                    r.problem("headers." + name, "must be a text (a template) of at most 1,000 characters");
                } else {
                    HookAnswers.templateProblem(text).ifPresent(why -> r.problem("headers." + name, why));
                    kept.put(name, text);
                }
            });
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("mode", step ? "step" : "immediate");
        if (step) {
            out.put("step", stepKey);
            out.put("timeout", hold == null ? null : holdText(hold));
            out.put("status", status == null ? null : status.intValue()); // null: the step's own status
        } else {
            out.put("status", status == null ? 200 : status.intValue());
        }
        out.put("headers", kept);
        out.put("body", body);
        normalized.put("respond", out);
    }

    /** A hold's timeout: "10s", "500ms", "1m" or an ISO 8601 duration ("PT10S"), from 100 ms to {@link #MAX_HOLD}. */
    private static Duration holdTimeout(Object raw, Fields r) {
        if (raw == null) {
            return DEFAULT_HOLD;
        }
        Duration d = raw instanceof String text ? HookAnswers.parseHold(text.trim()) : null;
        if (d == null || d.compareTo(Duration.ofMillis(100)) < 0 || d.compareTo(MAX_HOLD) > 0) {
            r.problem("timeout", "must be a duration from 100ms to 60s, such as \"10s\", \"500ms\" or \"PT10S\"");
            return null;
        }
        return d;
    }

    private static String holdText(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    private static boolean isBase64(String s) {
        try {
            return Base64.getDecoder().decode(s).length >= 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static void rejectUnknown(Map<String, Object> given, Set<String> allowed, Fields f) {
        for (String key : given.keySet()) {
            if (!allowed.contains(key)) {
                f.problem(
                        key,
                        allowed.isEmpty()
                                ? "is not a setting of this trigger type"
                                : "is unknown; allowed: " + String.join(", ", allowed));
            }
        }
    }
}
