package dev.kikonect.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/** Each verify mode with signatures computed here, independently of the server's code. */
class VerifiedSendersTest extends ApiTest {

    @Autowired
    JdbcClient jdbc;

    private static final String BODY = "{\"event\":\"paid\",\"amount\":100}";

    private record Hook(Api.User user, long workflowId, String url, JsonNode config) {}

    private Hook hook(Map<String, Object> config) {
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(user, "webhook", "https://example.com/in", config);
        return new Hook(user, wf.path("id").asLong(), wf.path("webhook_url").asString(), wf.path("trigger_config"));
    }

    private int send(Hook hook, Map<String, String> headers, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(hook.url()))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        HttpResponse<String> response =
                HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 401) {
            assertThat(response.headers().firstValue("Content-Type"))
                    .hasValueSatisfying(t -> assertThat(t).contains("problem+json"));
        }
        return response.statusCode();
    }

    private int runs(Hook hook) {
        return api.get("/workflows/" + hook.workflowId() + "/runs", hook.user().token())
                .json()
                .path("items")
                .size();
    }

    private static byte[] hmac(byte[] key, String content) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(content.getBytes(StandardCharsets.UTF_8));
    }

    private long now() {
        return clock.instant().getEpochSecond();
    }

    @Test
    void standard_webhooks_accepts_a_correct_signature_and_rejects_wrong_old_and_modified() throws Exception {
        Hook hook = hook(Map.of("verify", "standard_webhooks"));
        String secret = hook.config().path("secret").asString();
        assertThat(secret).startsWith("whsec_");
        byte[] key = Base64.getDecoder().decode(secret.substring(6));
        long ts = now();
        String good = "v1," + Base64.getEncoder().encodeToString(hmac(key, "msg_1." + ts + "." + BODY));
        long old = ts - 600;
        String oldSig = "v1," + Base64.getEncoder().encodeToString(hmac(key, "msg_1." + old + "." + BODY));

        assertThat(send(
                        hook,
                        Map.of(
                                "webhook-id",
                                "msg_1",
                                "webhook-timestamp",
                                "" + ts,
                                "webhook-signature",
                                "v1,bogus " + good),
                        BODY))
                .isEqualTo(202);
        assertThat(send(
                        hook,
                        Map.of("webhook-id", "msg_1", "webhook-timestamp", "" + ts, "webhook-signature", "v1,AAAA"),
                        BODY))
                .isEqualTo(401);
        assertThat(send(
                        hook,
                        Map.of("webhook-id", "msg_1", "webhook-timestamp", "" + old, "webhook-signature", oldSig),
                        BODY))
                .isEqualTo(401);
        assertThat(send(
                        hook,
                        Map.of("webhook-id", "msg_1", "webhook-timestamp", "" + ts, "webhook-signature", good),
                        BODY.replace("100", "1000")))
                .isEqualTo(401);
        assertThat(send(hook, Map.of(), BODY)).isEqualTo(401);
        assertThat(runs(hook)).isEqualTo(1);
    }

    @Test
    void github_accepts_a_correct_signature_and_rejects_wrong_and_modified() throws Exception {
        Hook hook = hook(Map.of("verify", "github", "secret", "gh-secret-123"));
        String good =
                "sha256=" + HexFormat.of().formatHex(hmac("gh-secret-123".getBytes(StandardCharsets.UTF_8), BODY));

        assertThat(send(hook, Map.of("X-Hub-Signature-256", good, "X-GitHub-Delivery", "d-1"), BODY))
                .isEqualTo(202);
        assertThat(send(
                        hook,
                        Map.of("X-Hub-Signature-256", "sha256=" + "0".repeat(64), "X-GitHub-Delivery", "d-2"),
                        BODY))
                .isEqualTo(401);
        assertThat(send(hook, Map.of("X-Hub-Signature-256", good, "X-GitHub-Delivery", "d-3"), BODY + " "))
                .isEqualTo(401);
        assertThat(send(hook, Map.of("X-GitHub-Delivery", "d-4"), BODY)).isEqualTo(401);
        assertThat(send(hook, Map.of("X-Hub-Signature-256", good), BODY))
                .as("no delivery id")
                .isEqualTo(401);
        assertThat(runs(hook)).isEqualTo(1);
    }

    @Test
    void stripe_accepts_a_correct_signature_and_rejects_wrong_old_and_modified() throws Exception {
        Hook hook = hook(Map.of("verify", "stripe", "secret", "whsec_stripe_test_secret"));
        byte[] key = "whsec_stripe_test_secret".getBytes(StandardCharsets.UTF_8);
        long ts = now();
        String good = "t=" + ts + ",v1=" + HexFormat.of().formatHex(hmac(key, ts + "." + BODY));
        long old = ts - 600;
        String oldHeader = "t=" + old + ",v1=" + HexFormat.of().formatHex(hmac(key, old + "." + BODY));

        assertThat(send(hook, Map.of("Stripe-Signature", good), BODY)).isEqualTo(202);
        assertThat(send(hook, Map.of("Stripe-Signature", "t=" + ts + ",v1=" + "0".repeat(64)), BODY))
                .isEqualTo(401);
        assertThat(send(hook, Map.of("Stripe-Signature", oldHeader), BODY)).isEqualTo(401);
        assertThat(send(hook, Map.of("Stripe-Signature", good), BODY.replace("paid", "refunded")))
                .isEqualTo(401);
        assertThat(runs(hook)).isEqualTo(1);
    }

    @Test
    void header_mode_requires_the_named_header_to_equal_the_secret() throws Exception {
        Hook hook = hook(Map.of("verify", "header", "header_name", "X-Hook-Token", "secret", "s3cr3t-value"));

        assertThat(send(hook, Map.of("X-Hook-Token", "s3cr3t-value"), BODY)).isEqualTo(202);
        assertThat(send(hook, Map.of("X-Hook-Token", "s3cr3t-valuf"), BODY)).isEqualTo(401);
        assertThat(send(hook, Map.of(), BODY)).isEqualTo(401);
        assertThat(runs(hook)).isEqualTo(1);
    }

    @Test
    void a_hook_this_node_remembers_is_checked_against_the_workflow_as_another_node_just_changed_it() throws Exception {
        Hook hook = hook(Map.of("verify", "header", "header_name", "X-Hook-Token", "secret", "first-secret"));
        assertThat(send(hook, Map.of("X-Hook-Token", "first-secret"), BODY)).isEqualTo(202); // now remembered

        // Changed behind this node's back, as another node would: the new secret counts at once, the old one no more.
        jdbc.sql(
                        "UPDATE workflows SET trigger_config = jsonb_set(trigger_config, '{secret}', '\"second-secret\"') WHERE id = :id")
                .param("id", hook.workflowId())
                .update();
        assertThat(send(hook, Map.of("X-Hook-Token", "first-secret"), BODY)).isEqualTo(401);
        assertThat(send(hook, Map.of("X-Hook-Token", "second-secret"), BODY)).isEqualTo(202);

        jdbc.sql("UPDATE workflows SET enabled = false WHERE id = :id")
                .param("id", hook.workflowId())
                .update();
        assertThat(send(hook, Map.of("X-Hook-Token", "second-secret"), BODY)).isEqualTo(409);
        jdbc.sql("UPDATE workflows SET enabled = true WHERE id = :id")
                .param("id", hook.workflowId())
                .update();
        assertThat(send(hook, Map.of("X-Hook-Token", "second-secret"), BODY)).isEqualTo(202);

        jdbc.sql(
                        "UPDATE workflows SET trigger_config = jsonb_set(trigger_config, '{token}', '\"moved-elsewhere\"') WHERE id = :id")
                .param("id", hook.workflowId())
                .update();
        assertThat(send(hook, Map.of("X-Hook-Token", "second-secret"), BODY)).isEqualTo(404);

        assertThat(runs(hook)).isEqualTo(3);
    }

    @Test
    void a_bad_verify_config_is_400_naming_the_field() {
        Api.User user = api.newUser();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", "x");
        body.put("trigger_type", "webhook");
        body.put("action_url", "https://example.com/in");
        body.put("trigger_config", Map.of("verify", "github"));
        Api.Response missingSecret = api.post("/workflows", user.token(), body);
        body.put("trigger_config", Map.of("verify", "magic"));
        Api.Response unknown = api.post("/workflows", user.token(), body);

        assertThat(missingSecret.status()).isEqualTo(400);
        assertThat(missingSecret.json().path("errors").get(0).path("field").asString())
                .isEqualTo("trigger_config.secret");
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.json().path("errors").get(0).path("field").asString())
                .isEqualTo("trigger_config.verify");
    }

    @Test
    void a_hook_token_is_rate_limited_with_429_and_retry_after() throws Exception {
        Hook hook = hook(Map.of());
        List<Integer> statuses = new ArrayList<>();
        String retryAfter = null;
        HttpClient client = HttpClient.newHttpClient();
        for (int i = 0; i < 400; i++) {
            HttpResponse<String> r = client.send(
                    HttpRequest.newBuilder(URI.create(hook.url()))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            statuses.add(r.statusCode());
            if (r.statusCode() == 429) {
                retryAfter = r.headers().firstValue("Retry-After").orElse(null);
                assertThat(r.headers().firstValue("Content-Type"))
                        .hasValueSatisfying(t -> assertThat(t).contains("problem+json"));
                break;
            }
        }
        assertThat(statuses).contains(429);
        assertThat(statuses.subList(0, 100)).containsOnly(202);
        assertThat(retryAfter).isNotNull();
        assertThat(Integer.parseInt(retryAfter)).isPositive();
    }

    @Test
    void a_replayed_signed_delivery_gets_the_run_it_created_instead_of_a_second_one() throws Exception {
        Hook standard = hook(Map.of("verify", "standard_webhooks"));
        byte[] key = Base64.getDecoder()
                .decode(standard.config().path("secret").asString().substring(6));
        long ts = now();
        Map<String, String> signed = Map.of(
                "webhook-id",
                "msg_replayed",
                "webhook-timestamp",
                "" + ts,
                "webhook-signature",
                "v1," + Base64.getEncoder().encodeToString(hmac(key, "msg_replayed." + ts + "." + BODY)));
        Hook stripe = hook(Map.of("verify", "stripe", "secret", "whsec_stripe_test_secret"));
        String stripeHeader = "t=" + ts + ",v1="
                + HexFormat.of()
                        .formatHex(hmac("whsec_stripe_test_secret".getBytes(StandardCharsets.UTF_8), ts + "." + BODY));

        assertThat(send(standard, signed, BODY)).isEqualTo(202);
        assertThat(send(standard, signed, BODY)).as("the same request again").isEqualTo(200);
        assertThat(send(stripe, Map.of("Stripe-Signature", stripeHeader), BODY)).isEqualTo(202);
        assertThat(send(stripe, Map.of("Stripe-Signature", stripeHeader), BODY)).isEqualTo(200);

        assertThat(runs(standard)).isEqualTo(1);
        assertThat(runs(stripe)).isEqualTo(1);
    }

    @Test
    void a_replay_with_unsigned_header_text_changed_still_gets_the_first_run() throws Exception {
        long ts = now();
        Hook stripe = hook(Map.of("verify", "stripe", "secret", "whsec_stripe_test_secret"));
        String v1 = HexFormat.of()
                .formatHex(hmac("whsec_stripe_test_secret".getBytes(StandardCharsets.UTF_8), ts + "." + BODY));
        assertThat(send(stripe, Map.of("Stripe-Signature", "t=" + ts + ",v1=" + v1), BODY))
                .isEqualTo(202);
        assertThat(send(stripe, Map.of("Stripe-Signature", "t=" + ts + ",v1=" + v1 + ",v0=x"), BODY))
                .as("v0 added")
                .isEqualTo(200);
        assertThat(send(stripe, Map.of("Stripe-Signature", "t=" + ts + ", v1=" + v1), BODY))
                .as("a space")
                .isEqualTo(200);
        assertThat(send(stripe, Map.of("Stripe-Signature", "v1=" + v1 + ",t=" + ts), BODY))
                .as("v1 first")
                .isEqualTo(200);
        assertThat(runs(stripe)).isEqualTo(1);

        Hook github = hook(Map.of("verify", "github", "secret", "gh-secret-123"));
        String good =
                "sha256=" + HexFormat.of().formatHex(hmac("gh-secret-123".getBytes(StandardCharsets.UTF_8), BODY));
        assertThat(send(github, Map.of("X-Hub-Signature-256", good, "X-GitHub-Delivery", "a"), BODY))
                .isEqualTo(202);
        assertThat(send(github, Map.of("X-Hub-Signature-256", good, "X-GitHub-Delivery", "b"), BODY))
                .as("a new delivery id")
                .isEqualTo(200);
        assertThat(runs(github)).isEqualTo(1);
    }
}
