package dev.kikonect.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;

/** Signature checks on raw bytes, one sender format at a time. */
class HookVerifierTest {

    private static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");
    private static final byte[] BODY = "{\"id\":1, \"note\":\"spaces kept\"}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    private static final String WHSEC = "whsec_" + Base64.getEncoder().encodeToString(KEY);

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static MockHttpServletRequest request(Map<String, String> headers) {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/hooks/x");
        headers.forEach(request::addHeader);
        return request;
    }

    private static Map<String, String> standard(long timestamp, byte[] body) {
        String signature = Base64.getEncoder()
                .encodeToString(hmac(KEY, "msg_1." + timestamp + "." + new String(body, StandardCharsets.UTF_8)));
        return Map.of(
                "webhook-id",
                "msg_1",
                "webhook-timestamp",
                Long.toString(timestamp),
                "webhook-signature",
                "v1,bogus v1," + signature);
    }

    private static final Map<String, Object> STANDARD = Map.of("verify", "standard_webhooks", "secret", WHSEC);

    @Test
    void a_standard_webhooks_signature_over_the_exact_bytes_passes_and_any_other_byte_fails() {
        long ts = NOW.getEpochSecond();
        assertThat(HookVerifier.check(STANDARD, request(standard(ts, BODY)), BODY, NOW))
                .isEmpty();

        byte[] reformatted = "{\"id\":1,\"note\":\"spaces kept\"}".getBytes(StandardCharsets.UTF_8);
        assertThat(HookVerifier.check(STANDARD, request(standard(ts, BODY)), reformatted, NOW))
                .hasValue("no valid v1 signature in webhook-signature");
    }

    @Test
    void a_standard_webhooks_request_outside_five_minutes_is_refused() {
        long stale = NOW.minusSeconds(301).getEpochSecond();
        assertThat(HookVerifier.check(STANDARD, request(standard(stale, BODY)), BODY, NOW))
                .hasValueSatisfying(r -> assertThat(r).contains("5 minutes"));
    }

    @Test
    void a_timestamp_so_far_away_that_the_difference_overflows_is_refused() {
        long ancient = NOW.getEpochSecond() - Long.MAX_VALUE - 1; // now - 2^63: wraps around in a naive subtraction
        assertThat(HookVerifier.check(STANDARD, request(standard(ancient, BODY)), BODY, NOW))
                .isPresent();
        assertThat(HookVerifier.check(STANDARD, request(standard(Long.MAX_VALUE, BODY)), BODY, NOW))
                .isPresent();
    }

    @Test
    void missing_standard_webhooks_headers_are_named() {
        assertThat(HookVerifier.check(STANDARD, request(Map.of()), BODY, NOW))
                .hasValue("webhook-id, webhook-timestamp and webhook-signature headers are required");
    }

    @Test
    void a_github_signature_passes_and_a_wrong_one_fails() {
        Map<String, Object> config = Map.of("verify", "github", "secret", "gh-secret");
        String good = "sha256="
                + HexFormat.of()
                        .formatHex(hmac(
                                "gh-secret".getBytes(StandardCharsets.UTF_8),
                                new String(BODY, StandardCharsets.UTF_8)));

        assertThat(HookVerifier.check(
                        config, request(Map.of("X-Hub-Signature-256", good, "X-GitHub-Delivery", "d")), BODY, NOW))
                .isEmpty();
        assertThat(HookVerifier.check(
                        config,
                        request(Map.of("X-Hub-Signature-256", good.replace('a', 'b'), "X-GitHub-Delivery", "d")),
                        BODY,
                        NOW))
                .isPresent();
        assertThat(HookVerifier.check(config, request(Map.of("X-GitHub-Delivery", "d")), BODY, NOW))
                .hasValue("X-Hub-Signature-256 header is missing");
        assertThat(HookVerifier.check(config, request(Map.of("X-Hub-Signature-256", good)), BODY, NOW))
                .hasValue("X-GitHub-Delivery header is missing");
    }

    @Test
    void a_stripe_signature_passes_with_its_timestamp_and_fails_when_stale() {
        Map<String, Object> config = Map.of("verify", "stripe", "secret", "whsec_stripe");
        long ts = NOW.getEpochSecond();
        String v1 = HexFormat.of()
                .formatHex(hmac(
                        "whsec_stripe".getBytes(StandardCharsets.UTF_8),
                        ts + "." + new String(BODY, StandardCharsets.UTF_8)));

        assertThat(HookVerifier.check(config, request(Map.of("Stripe-Signature", "t=" + ts + ",v1=" + v1)), BODY, NOW))
                .isEmpty();
        assertThat(HookVerifier.check(
                        config,
                        request(Map.of("Stripe-Signature", "t=" + ts + ",v1=" + v1)),
                        BODY,
                        NOW.plusSeconds(301)))
                .isPresent();
        assertThat(HookVerifier.check(config, request(Map.of("Stripe-Signature", "t=" + ts)), BODY, NOW))
                .hasValue("Stripe-Signature needs t= and v1=");
    }

    @Test
    void a_shared_header_must_match_exactly() {
        Map<String, Object> config = Map.of("verify", "header", "header_name", "X-Token", "secret", "s3cret");

        assertThat(HookVerifier.check(config, request(Map.of("X-Token", "s3cret")), BODY, NOW))
                .isEmpty();
        assertThat(HookVerifier.check(config, request(Map.of("X-Token", "s3cre")), BODY, NOW))
                .isPresent();
        assertThat(HookVerifier.check(config, request(Map.of()), BODY, NOW))
                .hasValue("the X-Token header is missing or wrong");
    }

    @Test
    void a_workflow_without_verification_accepts_anything() {
        assertThat(HookVerifier.check(Map.of(), request(Map.of()), BODY, NOW)).isEmpty();
    }
}
