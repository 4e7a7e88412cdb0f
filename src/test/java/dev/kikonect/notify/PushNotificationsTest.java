package dev.kikonect.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Browser notifications for failed runs, against a local push endpoint that plays the browser's push service and the
 * browser: it checks the VAPID signature (RFC 8292) and decrypts the message with the browser's keys (RFC 8291), as a
 * real browser would.
 */
class PushNotificationsTest extends ApiTest {

    /** A browser: its P-256 key pair and authentication secret, and the push service endpoint that reaches it. */
    static final class Browser {
        final KeyPair keys;
        final byte[] auth = new byte[16];

        Browser() throws Exception {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            keys = generator.generateKeyPair();
            new SecureRandom().nextBytes(auth);
        }

        byte[] publicKey() {
            return uncompressed((ECPublicKey) keys.getPublic());
        }

        /** RFC 8291 (aes128gcm, RFC 8188, one record): the message as the browser reads it. */
        byte[] decrypt(byte[] body) throws Exception {
            ByteBuffer in = ByteBuffer.wrap(body);
            byte[] salt = new byte[16];
            in.get(salt);
            in.getInt(); // record size
            byte[] senderKey = new byte[in.get() & 0xff];
            in.get(senderKey);
            byte[] ciphertext = new byte[in.remaining()];
            in.get(ciphertext);
            KeyAgreement ecdh = KeyAgreement.getInstance("ECDH");
            ecdh.init(keys.getPrivate());
            ecdh.doPhase(point(senderKey, (ECPublicKey) keys.getPublic()), true);
            byte[] shared = ecdh.generateSecret();
            byte[] prkKey = hmac(auth, shared);
            byte[] keyInfo = concat(
                    "WebPush: info\0".getBytes(StandardCharsets.US_ASCII), publicKey(), senderKey, new byte[] {1});
            byte[] ikm = hmac(prkKey, keyInfo);
            byte[] prk = hmac(salt, ikm);
            byte[] cek = Arrays.copyOf(
                    hmac(prk, concat("Content-Encoding: aes128gcm\0".getBytes(StandardCharsets.US_ASCII), new byte[] {1
                    })),
                    16);
            byte[] nonce = Arrays.copyOf(
                    hmac(prk, concat("Content-Encoding: nonce\0".getBytes(StandardCharsets.US_ASCII), new byte[] {1})),
                    12);
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(cek, "AES"), new GCMParameterSpec(128, nonce));
            byte[] padded = gcm.doFinal(ciphertext);
            int end = padded.length - 1;
            while (padded[end] == 0) {
                end--;
            }
            assertThat(padded[end]).as("the last record's delimiter").isEqualTo((byte) 2);
            return Arrays.copyOf(padded, end);
        }
    }

    /** The push service: takes what KiKonect pushes, answers {@code status}. */
    static final class PushService implements AutoCloseable {
        record Received(String path, String authorization, String encoding, String ttl, String urgency, byte[] body) {}

        final HttpServer server;
        final List<Received> received = new CopyOnWriteArrayList<>();
        final AtomicInteger status = new AtomicInteger(201);

        PushService() throws Exception {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/", exchange -> {
                byte[] body = exchange.getRequestBody().readAllBytes();
                if (!exchange.getRequestURI().getPath().startsWith("/push/")) {
                    // not a push (a stray delivery of another test to a port the OS reused): not counted
                    exchange.sendResponseHeaders(404, -1);
                    exchange.close();
                    return;
                }
                var h = exchange.getRequestHeaders();
                received.add(new Received(
                        exchange.getRequestURI().getPath(),
                        h.getFirst("Authorization"),
                        h.getFirst("Content-Encoding"),
                        h.getFirst("TTL"),
                        h.getFirst("Urgency"),
                        body));
                exchange.sendResponseHeaders(status.get(), -1);
                exchange.close();
            });
            server.start();
        }

        String endpoint(String name) {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/push/" + name;
        }

        String origin() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    private Api.User user;
    private PushService pushService;
    private Sink failing;

    @BeforeEach
    void setUp() throws Exception {
        user = api.newUser();
        pushService = new PushService();
        failing = new Sink().replyWith(r -> Sink.Reply.status(500));
    }

    @AfterEach
    void tearDown() {
        pushService.close();
        failing.close();
    }

    private JsonNode failingWorkflow() {
        return api.createWorkflow(user, "manual", failing.url(), Map.of(), Map.of("max_attempts", 1));
    }

    private Api.Response subscribe(Browser browser, String endpoint, List<Long> workflowIds) {
        return api.send(
                "PUT",
                "/push/subscriptions",
                user.token(),
                "application/json",
                Api.JSON.writeValueAsString(Map.of(
                        "endpoint", endpoint,
                        "keys", Map.of("p256dh", b64(browser.publicKey()), "auth", b64(browser.auth)),
                        "workflow_ids", workflowIds)));
    }

    private static Api.Response subscribeIn(
            Api teamApi, Api.User member, Browser browser, String endpoint, boolean approvals) {
        return teamApi.send(
                "PUT",
                "/push/subscriptions",
                member.token(),
                "application/json",
                Api.JSON.writeValueAsString(Map.of(
                        "endpoint",
                        endpoint,
                        "keys",
                        Map.of("p256dh", b64(browser.publicKey()), "auth", b64(browser.auth)),
                        "workflow_ids",
                        List.of(),
                        "approvals",
                        approvals)));
    }

    @Test
    void an_approval_that_begins_to_wait_reaches_the_browsers_of_the_members_who_may_decide_it_and_asked()
            throws Exception {
        Api.User owner = api.newUser();
        long team = api.newTeam(owner, "Refunds");
        Api.User admin = api.newMember(owner, team, "admin");
        Api.User editor = api.newMember(owner, team, "editor");
        Api teamApi = api.in(team);
        Browser adminBrowser = new Browser();
        // Subscribed first, so that a push to them (wrongly) would come before the admin's: they sort by id.
        assertThat(subscribeIn(teamApi, editor, new Browser(), pushService.endpoint("editor"), true)
                        .status())
                .isEqualTo(200);
        assertThat(subscribeIn(teamApi, owner, new Browser(), pushService.endpoint("owner-not-asking"), false)
                        .status())
                .isEqualTo(200);
        Api.Response subscribed = subscribeIn(teamApi, admin, adminBrowser, pushService.endpoint("admin"), true);
        assertThat(subscribed.status()).as(subscribed.body()).isEqualTo(200);
        assertThat(subscribed.json().path("approvals").asBoolean()).isTrue();
        Map<String, Object> workflow = new HashMap<>();
        workflow.put("name", "refunds");
        workflow.put("trigger_type", "manual");
        workflow.put(
                "steps",
                List.of(Map.of(
                        "key",
                        "refund_ok",
                        "wait",
                        Map.of(
                                "for",
                                "approval",
                                "roles",
                                List.of("admin"),
                                "message",
                                "Refund {{ payload.amount }}?"))));
        long id = teamApi.post("/workflows", owner.token(), workflow)
                .json()
                .path("id")
                .asLong();
        long runId = teamApi.post("/workflows/" + id + "/trigger", owner.token(), Map.of("amount", 750))
                .json()
                .path("id")
                .asLong();

        eventually().until(() -> !pushService.received.isEmpty());

        assertThat(pushService.received)
                .extracting(PushService.Received::path)
                .as("the admin's browser only: the editor may not decide, the owner did not ask")
                .containsExactly("/push/admin");
        JsonNode message = Api.JSON.readTree(
                adminBrowser.decrypt(pushService.received.get(0).body()));
        assertThat(message.path("title").asString()).isEqualTo("Approval needed: refunds");
        assertThat(message.path("body").asString()).isEqualTo("Refund 750?");
        assertThat(message.path("url").asString()).endsWith("/app/#/approvals");
        assertThat(message.path("run_id").asLong()).isEqualTo(runId);
        assertThat(teamApi.post("/runs/" + runId + "/steps/refund_ok/approve", admin.token(), Map.of())
                        .status())
                .isEqualTo(200);
    }

    private long failedRun(JsonNode workflow) {
        Api.Response accepted =
                api.post("/workflows/" + workflow.path("id").asLong() + "/trigger", user.token(), Map.of("order", 42));
        long runId = accepted.json().path("id").asLong();
        assertThat(awaitFinished(user, runId).path("status").asString()).isEqualTo("failed");
        return runId;
    }

    @Test
    void a_failed_run_reaches_the_subscribed_browser_encrypted_for_it_and_signed_with_the_installations_vapid_key()
            throws Exception {
        Browser browser = new Browser();
        JsonNode watched = failingWorkflow();
        JsonNode other = failingWorkflow();
        Api.Response subscribed = subscribe(
                browser,
                pushService.endpoint("browser-1"),
                List.of(watched.path("id").asLong()));
        assertThat(subscribed.status()).as(subscribed.body()).isEqualTo(200);
        assertThat(subscribed.json().path("push_service").asString()).isEqualTo(pushService.origin());
        assertThat(subscribed.body())
                .as("the endpoint is a capability: not shown back")
                .doesNotContain("browser-1");

        long unwatchedRun = failedRun(other);
        long runId = failedRun(watched);

        eventually().until(() -> !pushService.received.isEmpty());
        PushService.Received push = pushService.received.get(0);
        assertThat(push.path()).isEqualTo("/push/browser-1");
        assertThat(push.encoding()).isEqualTo("aes128gcm");
        assertThat(push.ttl()).isEqualTo("86400");
        assertThat(push.urgency()).isEqualTo("high");
        JsonNode message = Api.JSON.readTree(browser.decrypt(push.body()));
        assertThat(message.path("title").asString()).isEqualTo("Run failed: manual workflow");
        assertThat(message.path("body").asString()).isEqualTo("HTTP 500");
        assertThat(message.path("run_id").asLong()).isEqualTo(runId);
        assertThat(message.path("url").asString()).endsWith("/app/#/runs/" + runId);

        // VAPID: "vapid t=<JWT signed ES256>, k=<the public key GET /push/key gives>", audience the push service's
        // origin.
        String publicKey =
                api.get("/push/key", user.token()).json().path("public_key").asString();
        assertThat(push.authorization()).startsWith("vapid t=").endsWith(", k=" + publicKey);
        String jwt = push.authorization()
                .substring("vapid t=".length(), push.authorization().indexOf(','));
        String[] parts = jwt.split("\\.");
        Signature es256 = Signature.getInstance("SHA256withECDSAinP1363Format");
        es256.initVerify(point(Base64.getUrlDecoder().decode(publicKey), (ECPublicKey) browser.keys.getPublic()));
        es256.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
        assertThat(es256.verify(Base64.getUrlDecoder().decode(parts[2])))
                .as("the VAPID signature verifies")
                .isTrue();
        JsonNode claims = Api.JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
        assertThat(claims.path("aud").asString()).isEqualTo(pushService.origin());
        assertThat(Instant.ofEpochSecond(claims.path("exp").asLong()))
                .isAfter(Instant.now())
                .isBefore(Instant.now().plusSeconds(24 * 3600 + 60));
        assertThat(claims.path("sub").asString()).startsWith("mailto:");

        assertThat(pushService.received)
                .as("only the watched workflow's failure, once")
                .hasSize(1);
        assertThat(unwatchedRun).isNotEqualTo(runId);
        JsonNode listed = api.get("/push/subscriptions", user.token())
                .json()
                .path("items")
                .get(0);
        assertThat(listed.path("last_sent_at").isNull()).isFalse();
        assertThat(listed.path("last_error").isNull()).isTrue();
    }

    @Test
    void
            a_browser_the_push_service_calls_gone_is_forgotten_and_the_same_browser_subscribing_again_replaces_its_workflows()
                    throws Exception {
        Browser browser = new Browser();
        JsonNode first = failingWorkflow();
        JsonNode second = failingWorkflow();
        assertThat(subscribe(
                                browser,
                                pushService.endpoint("b"),
                                List.of(first.path("id").asLong()))
                        .status())
                .isEqualTo(200);
        JsonNode again = subscribe(
                        browser,
                        pushService.endpoint("b"),
                        List.of(second.path("id").asLong(), first.path("id").asLong()))
                .json();
        JsonNode items = api.get("/push/subscriptions", user.token()).json().path("items");
        assertThat(items).hasSize(1);
        assertThat(items.get(0).path("id").asLong()).isEqualTo(again.path("id").asLong());
        assertThat(items.get(0).path("workflow_ids").toString())
                .isEqualTo("[" + second.path("id").asLong() + ","
                        + first.path("id").asLong() + "]");

        pushService.status.set(410);
        failedRun(second);
        eventually()
                .until(() -> api.get("/push/subscriptions", user.token())
                        .json()
                        .path("items")
                        .isEmpty());
        assertThat(pushService.received).hasSize(1);
    }

    @Test
    void a_member_who_leaves_hears_nothing_more_and_nobody_else_sees_or_removes_a_subscription() throws Exception {
        JsonNode workflow = failingWorkflow();
        JsonNode created = subscribe(
                        new Browser(),
                        pushService.endpoint("mine"),
                        List.of(workflow.path("id").asLong()))
                .json();
        Api.User stranger = api.newUser();
        assertThat(api.get("/push/subscriptions", stranger.token()).json().path("items"))
                .isEmpty();
        assertThat(api.send(
                                "DELETE",
                                "/push/subscriptions/" + created.path("id").asLong(),
                                stranger.token(),
                                null,
                                null)
                        .status())
                .isEqualTo(404);
        Api.Response foreign = api.send(
                "PUT",
                "/push/subscriptions",
                stranger.token(),
                "application/json",
                Api.JSON.writeValueAsString(Map.of(
                        "endpoint", pushService.endpoint("theirs"),
                        "keys", Map.of("p256dh", b64(new Browser().publicKey()), "auth", b64(new byte[16])),
                        "workflow_ids", List.of(workflow.path("id").asLong()))));
        assertThat(foreign.status()).as("another workspace's workflow").isEqualTo(404);
        assertThat(api.send(
                                "DELETE",
                                "/push/subscriptions/" + created.path("id").asLong(),
                                user.token(),
                                null,
                                null)
                        .status())
                .isEqualTo(204);
        failedRun(workflow);
        assertThat(api.get("/push/subscriptions", user.token()).json().path("items"))
                .isEmpty();
        assertThat(pushService.received).isEmpty();
    }

    @Test
    void bad_subscriptions_are_400s_naming_the_field() throws Exception {
        Browser browser = new Browser();
        long id = failingWorkflow().path("id").asLong();
        Map<String, Object> good = Map.of(
                "endpoint",
                pushService.endpoint("x"),
                "keys",
                Map.of("p256dh", b64(browser.publicKey()), "auth", b64(browser.auth)),
                "workflow_ids",
                List.of(id));
        assertField(with(good, "endpoint", "ftp://push.example.com/x"), "endpoint");
        assertField(with(good, "keys", Map.of("p256dh", b64(new byte[65]), "auth", b64(browser.auth))), "keys.p256dh");
        assertField(with(good, "keys", Map.of("p256dh", b64(browser.publicKey()), "auth", "short")), "keys.auth");
        assertField(with(good, "keys", "not an object"), "keys");
        assertField(with(good, "workflow_ids", List.of("one")), "workflow_ids[0]");
        assertField(with(good, "workflow_ids", null), "workflow_ids");
    }

    private void assertField(Map<String, Object> body, String field) {
        Api.Response r = api.send(
                "PUT", "/push/subscriptions", user.token(), "application/json", Api.JSON.writeValueAsString(body));
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.json().path("errors").toString()).as(r.body()).contains("\"" + field + "\"");
    }

    private static Map<String, Object> with(Map<String, Object> base, String key, Object value) {
        Map<String, Object> copy = new HashMap<>(base);
        copy.put(key, value);
        return copy;
    }

    static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static byte[] uncompressed(ECPublicKey key) {
        byte[] out = new byte[65];
        out[0] = 4;
        byte[] x = key.getW().getAffineX().toByteArray();
        byte[] y = key.getW().getAffineY().toByteArray();
        System.arraycopy(x, Math.max(0, x.length - 32), out, 1 + 32 - Math.min(32, x.length), Math.min(32, x.length));
        System.arraycopy(y, Math.max(0, y.length - 32), out, 33 + 32 - Math.min(32, y.length), Math.min(32, y.length));
        return out;
    }

    /** An uncompressed P-256 point as a public key (the curve's parameters taken from {@code like}). */
    static ECPublicKey point(byte[] uncompressed, ECPublicKey like) throws Exception {
        BigInteger x = new BigInteger(1, Arrays.copyOfRange(uncompressed, 1, 33));
        BigInteger y = new BigInteger(1, Arrays.copyOfRange(uncompressed, 33, 65));
        return (ECPublicKey)
                KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(new ECPoint(x, y), like.getParams()));
    }

    static byte[] hmac(byte[] key, byte[] data) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
