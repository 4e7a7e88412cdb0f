import java.net.InetAddress;
import java.net.Proxy;
import java.net.URI;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;

/**
 * Which HTTP client library delivers fastest under KiKonect's constraints (README, "Outbound HTTP"): throughput and
 * latency of OkHttp, Apache HttpClient 5 and Jetty's client, each behind the same address check, posting 1 KiB bodies
 * from N virtual threads to the lean local receiver. Run with bench/client-choice [threads] [seconds] [clients].
 */
public class ClientChoice {
  interface Client extends AutoCloseable { int post(String url, byte[] body, Duration timeout) throws Exception; }

  
  static List<InetAddress> resolve(String host) throws java.net.UnknownHostException {
    InetAddress[] all = InetAddress.getAllByName(host);
    for (InetAddress a : all) if (!a.isLoopbackAddress()) throw new java.net.UnknownHostException("refused"); // stands in for the guard
    return List.of(all);
  }

  static Client apache() {
    var cm = org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder.create()
        .setDnsResolver(new org.apache.hc.client5.http.SystemDefaultDnsResolver() {
          @Override public InetAddress[] resolve(String host) throws java.net.UnknownHostException { return ClientChoice.resolve(host).toArray(new InetAddress[0]); }
        })
        .setMaxConnTotal(2048).setMaxConnPerRoute(2048)
        .setDefaultConnectionConfig(org.apache.hc.client5.http.config.ConnectionConfig.custom()
            .setConnectTimeout(org.apache.hc.core5.util.Timeout.ofSeconds(5))
            .setValidateAfterInactivity(org.apache.hc.core5.util.TimeValue.ofSeconds(2)).build())
        .build();
    var client = org.apache.hc.client5.http.impl.classic.HttpClients.custom().setConnectionManager(cm)
        .disableRedirectHandling().disableAutomaticRetries().disableCookieManagement().disableAuthCaching().build();
    ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor();
    return new Client() {
      public int post(String url, byte[] body, Duration t) throws Exception {
        var req = new org.apache.hc.client5.http.classic.methods.HttpPost(url);
        req.setEntity(new org.apache.hc.core5.http.io.entity.ByteArrayEntity(body, org.apache.hc.core5.http.ContentType.APPLICATION_JSON));
        req.setConfig(org.apache.hc.client5.http.config.RequestConfig.custom().setResponseTimeout(org.apache.hc.core5.util.Timeout.of(t)).build());
        ScheduledFuture<?> cancel = watchdog.schedule(req::cancel, t.toMillis(), TimeUnit.MILLISECONDS);
        try (var resp = client.executeOpen(null, req, null)) {
          byte[] prefix = resp.getEntity() == null ? new byte[0] : resp.getEntity().getContent().readNBytes(4097);
          if (prefix.length > 4096) req.cancel();
          return resp.getCode();
        } finally { cancel.cancel(false); }
      }
      public void close() throws Exception { client.close(); watchdog.shutdown(); }
    };
  }

  static Client okhttp() {
    var ok = new okhttp3.OkHttpClient.Builder()
        .dns(ClientChoice::resolve).proxy(Proxy.NO_PROXY)
        .followRedirects(false).followSslRedirects(false).retryOnConnectionFailure(false)
        .connectionPool(new okhttp3.ConnectionPool(2048, 30, TimeUnit.SECONDS))
        .connectTimeout(Duration.ofSeconds(5)).readTimeout(Duration.ZERO).writeTimeout(Duration.ZERO)
        .build();
    okhttp3.MediaType json = okhttp3.MediaType.get("application/json");
    return new Client() {
      public int post(String url, byte[] body, Duration t) throws Exception {
        okhttp3.Call call = ok.newCall(new okhttp3.Request.Builder().url(url).post(okhttp3.RequestBody.create(body, json)).build());
        call.timeout().timeout(t.toMillis(), TimeUnit.MILLISECONDS);
        try (okhttp3.Response r = call.execute()) {
          okio.BufferedSource src = r.body().source();
          boolean more = src.request(4097);
          if (more) call.cancel();
          return r.code();
        }
      }
      public void close() { ok.dispatcher().executorService().shutdown(); ok.connectionPool().evictAll(); }
    };
  }

  static Client jetty() throws Exception {
    var connector = new org.eclipse.jetty.io.ClientConnector();
    var jc = new org.eclipse.jetty.client.HttpClient(new org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP(connector));
    jc.setFollowRedirects(false);
    jc.setMaxConnectionsPerDestination(2048);
    jc.setConnectTimeout(5000);
    jc.setExecutor(new org.eclipse.jetty.util.thread.QueuedThreadPool(64));
    jc.setSocketAddressResolver(new org.eclipse.jetty.util.SocketAddressResolver.Sync() {
      @Override public void resolve(String host, int port, Map<String,Object> ctx, org.eclipse.jetty.util.Promise<List<java.net.InetSocketAddress>> promise) {
        try { promise.succeeded(ClientChoice.resolve(host).stream().map(a -> new java.net.InetSocketAddress(a, port)).toList()); }
        catch (Exception e) { promise.failed(e); }
      }
    });
    jc.start();
    return new Client() {
      public int post(String url, byte[] body, Duration t) throws Exception {
        var listener = new org.eclipse.jetty.client.InputStreamResponseListener();
        jc.newRequest(url).method("POST").body(new org.eclipse.jetty.client.BytesRequestContent("application/json", body))
            .timeout(t.toMillis(), TimeUnit.MILLISECONDS).send(listener);
        var resp = listener.get(t.toMillis(), TimeUnit.MILLISECONDS);
        try (var in = listener.getInputStream()) {
          byte[] prefix = in.readNBytes(4097);
          if (prefix.length > 4096) resp.abort(new Exception("enough"));
        }
        return resp.getStatus();
      }
      public void close() throws Exception { jc.stop(); }
    };
  }

  public static void main(String[] args) throws Exception {
    int concurrency = Integer.parseInt(args.length > 0 ? args[0] : "256");
    int seconds = Integer.parseInt(args.length > 1 ? args[1] : "10");
    List<String> which = args.length > 2 ? List.of(args[2].split(",")) : List.of("okhttp", "apache", "jetty");
    byte[] body = ("{\"data\":\"" + "x".repeat(1000) + "\"}").getBytes();
    try (LeanHttp.Sink sink = new LeanHttp.Sink(r -> {})) {
      String url = "http://127.0.0.1:" + sink.port() + "/in";
      for (int round = 0; round < 2; round++) {
        for (String name : which) {
          Client c = switch (name) { case "apache" -> apache(); case "okhttp" -> okhttp(); default -> jetty(); };
          run(c, url, body, concurrency, 3, null); // warm-up
          long[] lat = new long[5_000_000]; AtomicInteger n = new AtomicInteger(); AtomicInteger errors = new AtomicInteger();
          double rate = run(c, url, body, concurrency, seconds, (ns) -> { int i = n.getAndIncrement(); if (i < lat.length) lat[i] = ns; }, errors);
          long[] l = Arrays.copyOf(lat, Math.min(n.get(), lat.length)); Arrays.sort(l);
          System.out.printf("round %d %-7s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d%n", round, name, rate,
              l[l.length / 2] / 1e6, l[(int) (l.length * 0.99)] / 1e6, errors.get());
          c.close();
        }
      }
    }
  }

  static double run(Client c, String url, byte[] body, int concurrency, int seconds, java.util.function.LongConsumer rec) throws Exception {
    return run(c, url, body, concurrency, seconds, rec, new AtomicInteger());
  }

  static double run(Client c, String url, byte[] body, int concurrency, int seconds, java.util.function.LongConsumer rec, AtomicInteger errors) throws Exception {
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    LongAdder done = new LongAdder();
    try (var ex = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < concurrency; i++) {
        ex.submit(() -> {
          while (System.nanoTime() < end) {
            long s = System.nanoTime();
            try { if (c.post(url, body, Duration.ofSeconds(10)) == 200) { done.increment(); if (rec != null) rec.accept(System.nanoTime() - s); } else errors.incrementAndGet(); }
            catch (Exception e) { if (errors.incrementAndGet() < 3) e.printStackTrace(); }
          }
          return null;
        });
      }
    }
    return done.sum() / (double) seconds;
  }
}
