package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.FileInputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The delivery HTTP client against real local HTTP and HTTPS servers. */
class PinnedHttpClientTest {

  private static SSLContext serverTls;
  private static SSLSocketFactory clientTls;

  private final List<Map.Entry<String, String>> headers = List.of(Map.entry("Content-Type", "application/json"));
  private final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
  private final CountDownLatch release = new CountDownLatch(1);
  private HttpServer server;

  /** A throwaway certificate for "localhost" (and no IP), made with the JDK's keytool. */
  @BeforeAll
  static void certificate() throws Exception {
    Path store = Files.createTempDirectory(Path.of("target"), "tls-").resolve("localhost.p12");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    Process p =
        new ProcessBuilder(
                keytool, "-genkeypair", "-alias", "localhost", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost", "-validity", "2",
                "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", "changeit")
            .redirectErrorStream(true)
            .start();
    assertThat(p.waitFor()).as(new String(p.getInputStream().readAllBytes())).isZero();
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (FileInputStream in = new FileInputStream(store.toFile())) {
      keys.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, "changeit".toCharArray());
    serverTls = SSLContext.getInstance("TLS");
    serverTls.init(kmf.getKeyManagers(), null, null);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(keys);
    SSLContext client = SSLContext.getInstance("TLS");
    client.init(null, tmf.getTrustManagers(), null);
    clientTls = client.getSocketFactory();
  }

  @AfterEach
  void stop() {
    release.countDown();
    if (server != null) {
      server.stop(0);
    }
  }

  private PinnedHttpClient client(boolean allowPrivate) {
    return new PinnedHttpClient(new AddressGuard(allowPrivate, List.of()), clientTls, Duration.ofSeconds(2));
  }

  private String start(HttpServer s, String responseBody, boolean chunked) {
    server = s;
    if (s instanceof HttpsServer https) {
      https.setHttpsConfigurator(new HttpsConfigurator(serverTls));
    }
    s.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    s.createContext(
        "/",
        exchange -> {
          clientPorts.add(exchange.getRemoteAddress().getPort());
          byte[] in = exchange.getRequestBody().readAllBytes();
          if (exchange.getRequestURI().getPath().equals("/hang")) {
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return;
          }
          byte[] out = (responseBody.isEmpty() ? new String(in, StandardCharsets.UTF_8) : responseBody).getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("X-Echo", exchange.getRequestHeaders().getFirst("Host"));
          exchange.sendResponseHeaders(201, chunked ? 0 : out.length);
          exchange.getResponseBody().write(out);
          exchange.close();
        });
    s.start();
    return String.valueOf(s.getAddress().getPort());
  }

  @Test
  void posts_over_https_with_the_host_name_for_sni_and_certificate_checks() throws Exception {
    String port = start(HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 50), "", false);

    try (PinnedHttpClient client = client(true)) {
      PinnedHttpClient.Response response =
          client.post(URI.create("https://localhost:" + port + "/in?x=1"), headers, "{\"a\":1}".getBytes(), Duration.ofSeconds(5));

      assertThat(response.status()).isEqualTo(201);
      assertThat(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
      assertThat(response.header("X-Echo")).hasValue("localhost:" + port);
    }
  }

  @Test
  void a_certificate_for_another_name_is_rejected() throws Exception {
    String port = start(HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 50), "", false);

    try (PinnedHttpClient client = client(true)) {
      assertThatThrownBy(() -> client.post(URI.create("https://127.0.0.1:" + port + "/"), headers, new byte[0], Duration.ofSeconds(5)))
          .isInstanceOf(SSLHandshakeException.class);
    }
  }

  @Test
  void chunked_responses_are_read_and_the_connection_is_kept_alive() throws Exception {
    String port = start(HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50), "chunk-body", true);

    try (PinnedHttpClient client = client(true)) {
      for (int i = 0; i < 3; i++) {
        PinnedHttpClient.Response response =
            client.post(URI.create("http://127.0.0.1:" + port + "/"), headers, "{}".getBytes(), Duration.ofSeconds(5));
        assertThat(response.status()).isEqualTo(201);
        assertThat(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo("chunk-body");
      }
    }
    assertThat(clientPorts).hasSize(1);
  }

  @Test
  void only_the_first_four_kibibytes_of_a_response_are_kept() throws Exception {
    String port = start(HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50), "x".repeat(100_000), false);

    try (PinnedHttpClient client = client(true)) {
      PinnedHttpClient.Response response =
          client.post(URI.create("http://127.0.0.1:" + port + "/"), headers, "{}".getBytes(), Duration.ofSeconds(5));

      assertThat(response.body()).hasSize(4096);
      assertThat(response.bodyTruncated()).isTrue();
    }
  }

  @Test
  void a_refused_address_is_never_connected_to() throws Exception {
    String port = start(HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50), "", false);

    try (PinnedHttpClient client = client(false)) {
      assertThatThrownBy(() -> client.post(URI.create("http://127.0.0.1:" + port + "/"), headers, new byte[0], Duration.ofSeconds(5)))
          .isInstanceOf(PinnedHttpClient.RefusedAddressException.class)
          .hasMessageContaining("loopback");
      assertThatThrownBy(() -> client.post(URI.create("http://localhost:" + port + "/"), headers, new byte[0], Duration.ofSeconds(5)))
          .isInstanceOf(PinnedHttpClient.RefusedAddressException.class);
    }
    assertThat(clientPorts).isEmpty();
  }

  @Test
  void a_server_that_never_answers_times_out_at_the_deadline() throws Exception {
    String port = start(HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50), "", false);

    try (PinnedHttpClient client = client(true)) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> client.post(URI.create("http://127.0.0.1:" + port + "/hang"), headers, new byte[0], Duration.ofMillis(500)))
          .isInstanceOf(SocketTimeoutException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(450), Duration.ofSeconds(3));
    }
  }
}
