package dev.kikonect.trigger;

import dev.kikonect.common.SecureTokens;
import jakarta.servlet.http.HttpServletRequest;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks that an incoming webhook really comes from its sender, over the raw body bytes and in constant time:
 * Standard Webhooks ({@code webhook-signature}, 5-minute tolerance), GitHub ({@code X-Hub-Signature-256}), Stripe
 * ({@code Stripe-Signature}, 5-minute tolerance) or a shared secret in a named header.
 */
final class HookVerifier {

    static final Duration TOLERANCE = Duration.ofMinutes(5);

    private HookVerifier() {}

    /** Whether the workflow verifies signed deliveries that are remembered ({@link #deliveryKey}) against replays. */
    static boolean remembersDeliveries(Map<String, Object> config) {
        return switch ((String) config.getOrDefault("verify", "none")) {
            case "standard_webhooks", "stripe", "github" -> true;
            default -> false;
        };
    }

    /**
     * What identifies this signed delivery by what its signature covers, so that a replay of it (the same signed
     * request sent again, whatever unsigned header text was changed) gets the run it created instead of a new one: the
     * {@code webhook-id} for Standard Webhooks (signed with the body), the timestamp and the body for Stripe (what its
     * v1 signature covers: adding a {@code v0=}, a space or reordering the header changes nothing), the body for GitHub
     * (GitHub signs the body only, and sends no timestamp: its unsigned {@code X-GitHub-Delivery} could be changed at
     * will). Remembered as long as Idempotency-Keys are. Only meaningful once {@link #check} passed.
     */
    static Optional<String> deliveryKey(Map<String, Object> config, HttpServletRequest request, byte[] body) {
        String mode = (String) config.getOrDefault("verify", "none");
        String signed = switch (mode) {
            case "standard_webhooks" -> request.getHeader("webhook-id");
            case "stripe" -> stripeTimestamp(request.getHeader("Stripe-Signature")) + "." + bodyHash(body);
            case "github" -> bodyHash(body);
            default -> null;
        };
        if (signed == null || signed.isBlank()) {
            return Optional.empty();
        }
        // Keys live beside Idempotency-Keys (255 characters at most): hashed, and in a namespace of their own.
        return Optional.of("signed:" + mode + ":" + HexFormat.of().formatHex(SecureTokens.sha256(signed)));
    }

    private static String bodyHash(byte[] body) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String stripeTimestamp(String header) {
        if (header != null) {
            for (String part : header.split(",")) {
                String[] kv = part.strip().split("=", 2);
                if (kv.length == 2 && kv[0].equals("t")) {
                    return kv[1].strip();
                }
            }
        }
        return "";
    }

    /** Why the request fails verification, or empty when it passes (or the workflow does not verify). */
    static Optional<String> check(Map<String, Object> config, HttpServletRequest request, byte[] body, Instant now) {
        String mode = (String) config.getOrDefault("verify", "none");
        String secret = (String) config.get("secret");
        return switch (mode) {
            case "standard_webhooks" -> standardWebhooks(secret, request, body, now);
            case "github" -> {
                String delivery = request.getHeader("X-GitHub-Delivery");
                yield delivery == null || delivery.isBlank()
                        ? Optional.of("X-GitHub-Delivery header is missing")
                        : github(secret, request.getHeader("X-Hub-Signature-256"), body);
            }
            case "stripe" -> stripe(secret, request.getHeader("Stripe-Signature"), body, now);
            case "header" -> {
                String given = request.getHeader((String) config.get("header_name"));
                yield given != null
                                && equal(
                                        given.getBytes(StandardCharsets.UTF_8), secret.getBytes(StandardCharsets.UTF_8))
                        ? Optional.empty()
                        : Optional.of("the " + config.get("header_name") + " header is missing or wrong");
            }
            default -> Optional.empty();
        };
    }

    private static Optional<String> standardWebhooks(
            String secret, HttpServletRequest request, byte[] body, Instant now) {
        String id = request.getHeader("webhook-id");
        String timestamp = request.getHeader("webhook-timestamp");
        String signatures = request.getHeader("webhook-signature");
        if (id == null || timestamp == null || signatures == null) {
            return Optional.of("webhook-id, webhook-timestamp and webhook-signature headers are required");
        }
        Optional<String> stale = checkTimestamp(timestamp, now);
        if (stale.isPresent()) {
            return stale;
        }
        byte[] key = Base64.getDecoder().decode(secret.substring("whsec_".length()));
        byte[] expected = Base64.getEncoder()
                .encode(hmac(key, (id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8), body));
        for (String candidate : signatures.split(" ")) {
            if (candidate.startsWith("v1,")
                    && equal(candidate.substring(3).getBytes(StandardCharsets.US_ASCII), expected)) {
                return Optional.empty();
            }
        }
        return Optional.of("no valid v1 signature in webhook-signature");
    }

    private static Optional<String> github(String secret, String header, byte[] body) {
        if (header == null || !header.startsWith("sha256=")) {
            return Optional.of("X-Hub-Signature-256 header is missing");
        }
        byte[] expected = ("sha256="
                        + HexFormat.of().formatHex(hmac(secret.getBytes(StandardCharsets.UTF_8), new byte[0], body)))
                .getBytes(StandardCharsets.US_ASCII);
        return equal(header.getBytes(StandardCharsets.US_ASCII), expected)
                ? Optional.empty()
                : Optional.of("X-Hub-Signature-256 does not match");
    }

    private static Optional<String> stripe(String secret, String header, byte[] body, Instant now) {
        if (header == null) {
            return Optional.of("Stripe-Signature header is missing");
        }
        String timestamp = null;
        List<String> signatures = new ArrayList<>();
        for (String part : header.split(",")) {
            String[] kv = part.strip().split("=", 2);
            if (kv.length == 2 && kv[0].equals("t")) {
                timestamp = kv[1];
            } else if (kv.length == 2 && kv[0].equals("v1")) {
                signatures.add(kv[1]);
            }
        }
        if (timestamp == null || signatures.isEmpty()) {
            return Optional.of("Stripe-Signature needs t= and v1=");
        }
        Optional<String> stale = checkTimestamp(timestamp, now);
        if (stale.isPresent()) {
            return stale;
        }
        byte[] expected = HexFormat.of()
                .formatHex(hmac(
                        secret.getBytes(StandardCharsets.UTF_8),
                        (timestamp + ".").getBytes(StandardCharsets.UTF_8),
                        body))
                .getBytes(StandardCharsets.US_ASCII);
        for (String candidate : signatures) {
            if (equal(candidate.getBytes(StandardCharsets.US_ASCII), expected)) {
                return Optional.empty();
            }
        }
        return Optional.of("no matching v1 signature in Stripe-Signature");
    }

    private static Optional<String> checkTimestamp(String timestamp, Instant now) {
        long seconds;
        try {
            seconds = Long.parseLong(timestamp.strip());
        } catch (NumberFormatException e) {
            return Optional.of("the timestamp is not a number");
        }
        // Compared, not subtracted: now - seconds overflows for timestamps near Long.MIN_VALUE and would pass.
        long tolerance = TOLERANCE.toSeconds();
        if (seconds < now.getEpochSecond() - tolerance || seconds > now.getEpochSecond() + tolerance) {
            return Optional.of("the timestamp is more than 5 minutes away from now (replayed or clock skew)");
        }
        return Optional.empty();
    }

    private static byte[] hmac(byte[] key, byte[] prefix, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(prefix);
            return mac.doFinal(body);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Constant-time comparison. */
    private static boolean equal(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }
}
