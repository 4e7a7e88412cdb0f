import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * KiKonect's end-to-end benchmark: starts KiKonect (the built jar, embedded PostgreSQL, durable commits) and a
 * local action sink, drives webhooks at it closed-loop, and measures ingest (202s per second), deliveries per
 * second and hook-accepted to sink-received latency. Run through bench/run, which builds the jar and picks the JDK.
 */
public class Bench {
  // helpers live in BenchSupport.java (same directory; the source launcher compiles both)


  public static void main(String[] args) throws Exception {
    Map<String, String> opts =
        BenchSupport.options(args, "duration", "20", "concurrency", "32", "jar", "target/kikonect.jar", "heap", "256m", "tiny", "false");
    // --tiny (bin/test): 3 s, then exits 1 unless every accepted webhook was delivered once.
    boolean tiny = Boolean.parseBoolean(opts.get("tiny"));
    if (tiny) {
      opts.put("duration", "3");
    }
    int seconds = Integer.parseInt(opts.get("duration"));
    int concurrency = Integer.parseInt(opts.get("concurrency"));

    // The sink: records when each delivery (by payload seq) arrived.
    ConcurrentHashMap<Integer, Long> receivedAt = new ConcurrentHashMap<>();
    AtomicInteger duplicates = new AtomicInteger();
    HttpServer sink = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
    sink.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    sink.createContext(
        "/",
        exchange -> {
          String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          long now = System.nanoTime();
          var seq = BenchSupport.json(body).path("seq");
          if (seq.isNumber() && receivedAt.putIfAbsent(seq.asInt(), now) != null) {
            duplicates.incrementAndGet();
          }
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    sink.start();
    String sinkUrl = "http://127.0.0.1:" + sink.getAddress().getPort() + "/sink";

    int port = BenchSupport.freePort();
    Path dataDir = Files.createTempDirectory("kikonect-bench-");
    Path appLog = Files.createTempFile("kikonect-bench-", ".log");
    Process app =
        BenchSupport.startKiKonect(
            opts.get("jar"),
            opts.get("heap"),
            appLog,
            List.of("--server.port=" + port, "--kikonect.data-dir=" + dataDir, "--kikonect.delivery.allowed-cidrs=127.0.0.1/32", "--kikonect.hooks.rate-limit=0", "--kikonect.quotas.runs-per-minute=0"));
    String base = "http://127.0.0.1:" + port;
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    BenchSupport.waitForHealth(http, base, app, appLog, Duration.ofSeconds(120));
    String hook = base + BenchSupport.webhookWorkflow(http, base, sinkUrl);

    // Warm-up: a few seconds of load that is not measured.
    runLoad(http, hook, concurrency, Duration.ofSeconds(Math.min(5, seconds)), new AtomicInteger(1_000_000_000), new ConcurrentHashMap<>());
    awaitDrain(() -> receivedAt.size(), -1, Duration.ofSeconds(30));
    receivedAt.clear();

    System.out.printf("Measuring %d s of closed-loop webhooks with %d concurrent senders...%n", seconds, concurrency);
    ConcurrentHashMap<Integer, Long> acceptedAt = new ConcurrentHashMap<>();
    AtomicInteger seq = new AtomicInteger();
    long start = System.nanoTime();
    LoadResult load = runLoad(http, hook, concurrency, Duration.ofSeconds(seconds), seq, acceptedAt);
    long loadEnd = System.nanoTime();
    int accepted = acceptedAt.size();
    awaitDrain(receivedAt::size, accepted, Duration.ofSeconds(120));
    long lastReceived = receivedAt.values().stream().mapToLong(Long::longValue).max().orElse(loadEnd);

    double ingestPerSec = accepted / ((loadEnd - start) / 1e9);
    double deliveredPerSec = receivedAt.size() / ((lastReceived - start) / 1e9);
    long[] latencies =
        acceptedAt.entrySet().stream()
            .filter(e -> receivedAt.containsKey(e.getKey()))
            .mapToLong(e -> Math.max(0, receivedAt.get(e.getKey()) - e.getValue()))
            .sorted()
            .toArray();
    long rss = BenchSupport.rssKb(app.pid());
    app.destroy();
    app.waitFor();
    sink.stop(0);
    BenchSupport.deleteRecursively(dataDir);

    String machine = BenchSupport.machine();
    Map<String, String> rows = new LinkedHashMap<>();
    rows.put("webhook ingest (202/s, executor running)", String.format("%.0f", ingestPerSec));
    rows.put("end-to-end deliveries/s", String.format("%.0f", deliveredPerSec));
    rows.put("accepted / delivered / lost / duplicate", accepted + " / " + receivedAt.size() + " / " + (accepted - receivedAt.size()) + " / " + duplicates.get());
    rows.put("non-202 answers", Long.toString(load.errors.get()));
    rows.put("latency accepted->received p50 (ms)", BenchSupport.ms(BenchSupport.percentile(latencies, 50)));
    rows.put("latency accepted->received p95 (ms)", BenchSupport.ms(BenchSupport.percentile(latencies, 95)));
    rows.put("latency accepted->received p99 (ms)", BenchSupport.ms(BenchSupport.percentile(latencies, 99)));
    rows.put("latency accepted->received max (ms)", BenchSupport.ms(latencies.length == 0 ? 0 : latencies[latencies.length - 1]));
    rows.put("KiKonect RSS after run (MB)", Long.toString(rss / 1024));

    StringBuilder table = new StringBuilder();
    table.append("| figure | value |\n|---|---|\n");
    rows.forEach((k, v) -> table.append("| ").append(k).append(" | ").append(v).append(" |\n"));
    String settings =
        String.format(
            "closed loop, %d concurrent senders, %d s measured after a %d s warm-up; KiKonect -Xmx%s, embedded PostgreSQL "
                + "(fsync on, synchronous_commit on); load generator, sink, KiKonect and PostgreSQL on the same machine",
            concurrency, seconds, Math.min(5, seconds), opts.get("heap"));
    String report =
        "# KiKonect benchmark " + LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME) + "\n\n"
            + machine + "\n\nSettings: " + settings + "\n\n" + table;
    System.out.println();
    System.out.println(report);
    if (tiny) {
      List<String> insane = new ArrayList<>();
      if (accepted == 0) insane.add("nothing accepted");
      if (receivedAt.size() < accepted) insane.add((accepted - receivedAt.size()) + " accepted webhooks not delivered");
      if (duplicates.get() > 0) insane.add(duplicates.get() + " duplicate deliveries");
      if (load.errors.get() > 0) insane.add(load.errors.get() + " non-202 answers");
      BenchSupport.verdict("bench/run", insane);
    }
    Path results = Path.of("bench", "results");
    Files.createDirectories(results);
    Path out = results.resolve("e2e-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + ".md");
    Files.writeString(out, report);
    System.out.println("Written to " + out);
    System.exit(0);
  }

  record LoadResult(AtomicLong errors) {}

  static LoadResult runLoad(
      HttpClient http, String hook, int concurrency, Duration duration, AtomicInteger seq, Map<Integer, Long> acceptedAt)
      throws InterruptedException {
    long deadline = System.nanoTime() + duration.toNanos();
    AtomicLong errors = new AtomicLong();
    List<Thread> senders = new ArrayList<>();
    for (int i = 0; i < concurrency; i++) {
      senders.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    while (System.nanoTime() < deadline) {
                      int n = seq.getAndIncrement();
                      String body = "{\"seq\":" + n + ",\"event\":\"order.created\",\"amount\":4200,\"currency\":\"EUR\"}";
                      try {
                        HttpResponse<Void> response =
                            http.send(
                                HttpRequest.newBuilder(URI.create(hook))
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString(body))
                                    .build(),
                                HttpResponse.BodyHandlers.discarding());
                        if (response.statusCode() == 202) {
                          acceptedAt.put(n, System.nanoTime());
                        } else {
                          errors.incrementAndGet();
                        }
                      } catch (IOException | InterruptedException e) {
                        errors.incrementAndGet();
                      }
                    }
                  }));
    }
    for (Thread t : senders) {
      t.join();
    }
    return new LoadResult(errors);
  }

  interface Count {
    int get();
  }

  static void awaitDrain(Count received, int expected, Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    int last = -1;
    long stableSince = System.nanoTime();
    while (System.nanoTime() < deadline) {
      int now = received.get();
      if (expected >= 0 && now >= expected) {
        return;
      }
      if (now != last) {
        last = now;
        stableSince = System.nanoTime();
      } else if (expected < 0 && System.nanoTime() - stableSince > 1_000_000_000L) {
        return;
      }
      Thread.sleep(5);
    }
  }








}
