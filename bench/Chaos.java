import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Chaos run: three KiKonect nodes on one PostgreSQL under steady webhook load; every few seconds one node is killed
 * with SIGKILL and restarted. A sink records every delivery. At the end: accepted webhooks, delivered, lost (must be
 * 0), duplicates (at-least-once: only deliveries in flight at a kill, repeating the same webhook-id) and the longest
 * recovery (accepted -> delivered) time. Defaults: lease 30 s, sweep 10 s, as shipped.
 *
 * <p>The database runs in a fourth KiKonect process with no roles (it serves nothing, it only hosts the embedded
 * PostgreSQL), so that killing nodes never kills the database. Use --db-url=jdbc:postgresql://... for an external one.
 */
public class Chaos {
  /** One master key for every node of the run (they share one database): fresh for each run. */
  static final String MASTER_KEY = newMasterKey();

  static String newMasterKey() {
    byte[] key = new byte[32];
    new java.security.SecureRandom().nextBytes(key);
    return java.util.Base64.getEncoder().encodeToString(key);
  }



  record Delivery(String webhookId, long at) {}

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = BenchSupport.options(args, "duration", "120", "rate", "100", "kill-every", "5", "jar", "target/kikonect.jar", "heap", "192m", "db-url", "", "sink-delay-ms", "200",
        "tiny", "false", "kill-db", "false", "pause-db", "false");
    // --kill-db: instead of killing nodes, SIGKILL the embedded database's postmaster once, a third into the run (its
    // host node's watch starts it again). --pause-db: SIGSTOP every postgres process for 15 s instead. Either way:
    // nothing accepted may be lost, no request may be held longer than 5 s, and the nodes serve again by themselves.
    boolean killDb = Boolean.parseBoolean(opts.get("kill-db"));
    boolean pauseDb = Boolean.parseBoolean(opts.get("pause-db"));
    if ((killDb || pauseDb) && !opts.get("db-url").isEmpty()) {
      throw new IllegalArgumentException("--kill-db and --pause-db act on the embedded database; leave out --db-url");
    }
    // --tiny (bin/test): 11 s, a kill every 5 s, 5 s leases so the drain is short; exits 1 when anything was lost.
    boolean tiny = Boolean.parseBoolean(opts.get("tiny"));
    if (tiny) {
      opts.put("duration", "11");
      opts.put("rate", "50");
    }
    int seconds = Integer.parseInt(opts.get("duration"));
    int rate = Integer.parseInt(opts.get("rate"));
    int killEvery = Integer.parseInt(opts.get("kill-every"));
    String jar = opts.get("jar");
    String heap = opts.get("heap");
    long sinkDelay = Long.parseLong(opts.get("sink-delay-ms"));
    Path work = Files.createTempDirectory("kikonect-chaos-");
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();

    // The sink: every delivery of every seq, with its webhook-id.
    Map<Integer, List<Delivery>> received = new ConcurrentHashMap<>();
    HttpServer sink = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
    sink.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    sink.createContext(
        "/",
        exchange -> {
          String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          var seq = BenchSupport.json(body).path("seq");
          if (seq.isNumber()) {
            received
                .computeIfAbsent(seq.asInt(), k -> new CopyOnWriteArrayList<>())
                .add(new Delivery(exchange.getRequestHeaders().getFirst("webhook-id"), System.nanoTime()));
          }
          try {
            Thread.sleep(sinkDelay); // a receiver that takes its time, so that kills catch deliveries in flight
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    sink.start();
    String sinkUrl = "http://127.0.0.1:" + sink.getAddress().getPort() + "/sink";

    String dbUrl = opts.get("db-url");
    Process dbHost = null;
    if (dbUrl.isEmpty()) {
      int dbPort = BenchSupport.freePort();
      int port = BenchSupport.freePort();
      Path log = work.resolve("db-host.log");
      dbHost =
          BenchSupport.startKiKonect(
              jar, "128m", log,
              List.of("--server.port=" + port, "--kikonect.roles=none", "--kikonect.data-dir=" + work.resolve("data"),
                  "--kikonect.embedded-db-port=" + dbPort));
      BenchSupport.waitForHealth(http, "http://127.0.0.1:" + port, dbHost, log, Duration.ofSeconds(120));
      dbUrl = "jdbc:postgresql://localhost:" + dbPort + "/postgres";
    }

    int nodes = 3;
    int[] ports = new int[nodes];
    Process[] procs = new Process[nodes];
    List<List<String>> nodeArgs = new ArrayList<>();
    for (int i = 0; i < nodes; i++) {
      ports[i] = BenchSupport.freePort();
      nodeArgs.add(
          List.of("--server.port=" + ports[i], "--spring.datasource.url=" + dbUrl, "--spring.datasource.username=postgres",
              "--kikonect.secrets.master-key=" + MASTER_KEY, "--kikonect.delivery.allowed-cidrs=127.0.0.1/32", "--kikonect.hooks.rate-limit=0", "--kikonect.quotas.runs-per-minute=0",
              "--kikonect.executor.lease-duration=" + (tiny ? "5s" : "30s"), "--kikonect.executor.sweep-interval=" + (tiny ? "1s" : "10s")));
      procs[i] = BenchSupport.startKiKonect(jar, heap, work.resolve("node" + i + ".log"), nodeArgs.get(i));
    }
    for (int i = 0; i < nodes; i++) {
      BenchSupport.waitForHealth(http, "http://127.0.0.1:" + ports[i], procs[i], work.resolve("node" + i + ".log"), Duration.ofSeconds(120));
    }
    String hookPath = BenchSupport.webhookWorkflow(http, "http://127.0.0.1:" + ports[0], sinkUrl);
    System.out.printf("3 nodes up; %d webhooks/s for %d s, one node killed (SIGKILL) and restarted every %d s...%n", rate, seconds, killEvery);

    Map<Integer, Long> acceptedAt = new ConcurrentHashMap<>();
    AtomicLong longestRequest = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    AtomicInteger seq = new AtomicInteger();
    long start = System.nanoTime();
    long end = start + Duration.ofSeconds(seconds).toNanos();
    long intervalNanos = 1_000_000_000L / rate;
    List<Thread> inFlight = new CopyOnWriteArrayList<>();
    Thread load =
        Thread.ofPlatform()
            .start(
                () -> {
                  long next = System.nanoTime();
                  while (next < end) {
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                      java.util.concurrent.locks.LockSupport.parkNanos(wait);
                    }
                    int n = seq.getAndIncrement();
                    int node = n % nodes;
                    Thread t =
                        Thread.ofVirtual()
                            .start(
                                () -> {
                                  long sent = System.nanoTime();
                                  try {
                                    HttpResponse<Void> r =
                                        http.send(
                                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports[node] + hookPath))
                                                .timeout(Duration.ofSeconds(10))
                                                .header("Content-Type", "application/json")
                                                .POST(HttpRequest.BodyPublishers.ofString("{\"seq\":" + n + "}"))
                                                .build(),
                                            HttpResponse.BodyHandlers.discarding());
                                    if (r.statusCode() == 202) {
                                      acceptedAt.put(n, System.nanoTime());
                                    } else {
                                      refused.incrementAndGet();
                                    }
                                  } catch (IOException | InterruptedException e) {
                                    refused.incrementAndGet(); // the node was down: never accepted, so never owed
                                  }
                                  longestRequest.accumulateAndGet(System.nanoTime() - sent, Math::max);
                                });
                    inFlight.add(t);
                    next += intervalNanos;
                  }
                });

    Random random = new Random(42);
    int kills = 0;
    String fault = "";
    long serveAgainNanos = -1;
    if (killDb || pauseDb) {
      Thread.sleep(seconds * 1000L / 3);
      Path pidFile = work.resolve("data/postgres/postmaster.pid");
      long postmaster = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
      long faultEnd;
      if (killDb) {
        signal("KILL", List.of(postmaster));
        fault = "postmaster SIGKILLed";
        faultEnd = System.nanoTime();
      } else {
        ProcessHandle pm = ProcessHandle.of(postmaster).orElseThrow();
        List<Long> all = java.util.stream.Stream.concat(java.util.stream.Stream.of(pm), pm.descendants()).map(ProcessHandle::pid).toList();
        signal("STOP", all);
        fault = "database paused (SIGSTOP) 15 s";
        Thread.sleep(15_000);
        signal("CONT", all);
        faultEnd = System.nanoTime();
      }
      System.out.printf("  %3.0f s: %s%n", (faultEnd - start) / 1e9, fault);
      // Serving again: the first webhook accepted after the database is back.
      long deadline = faultEnd + Duration.ofSeconds(60).toNanos();
      while (System.nanoTime() < deadline && serveAgainNanos < 0) {
        long firstAfter = acceptedAt.values().stream().filter(t -> t > faultEnd).mapToLong(Long::longValue).min().orElse(-1);
        if (firstAfter > 0) {
          serveAgainNanos = firstAfter - faultEnd;
        }
        Thread.sleep(100);
      }
    }
    while (!(killDb || pauseDb) && System.nanoTime() + Duration.ofSeconds(killEvery).toNanos() < end) {
      Thread.sleep(killEvery * 1000L);
      int victim = random.nextInt(nodes);
      procs[victim].destroyForcibly().waitFor();
      kills++;
      Path log = work.resolve("node" + victim + "-" + kills + ".log");
      procs[victim] = BenchSupport.startKiKonect(jar, heap, log, nodeArgs.get(victim));
      System.out.printf("  %3.0f s: killed node %d (SIGKILL), restarting%n", (System.nanoTime() - start) / 1e9, victim);
    }
    load.join();
    for (Thread t : inFlight) {
      t.join();
    }
    System.out.println("Load over; waiting for every accepted webhook to be delivered (lease 30 s + sweep 10 s)...");
    long drainDeadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
    while (System.nanoTime() < drainDeadline && !received.keySet().containsAll(acceptedAt.keySet())) {
      Thread.sleep(200);
    }
    Thread.sleep(2000); // late duplicates, if any, arrive now

    int accepted = acceptedAt.size();
    Set<Integer> delivered = received.keySet();
    long lost = acceptedAt.keySet().stream().filter(k -> !delivered.contains(k)).count();
    long duplicates = received.values().stream().mapToLong(l -> l.size() - 1).sum();
    long duplicatesWithOtherId =
        received.values().stream().filter(l -> l.stream().map(Delivery::webhookId).distinct().count() > 1).count();
    long longest =
        acceptedAt.entrySet().stream()
            .filter(e -> received.containsKey(e.getKey()))
            .mapToLong(e -> received.get(e.getKey()).get(0).at() - e.getValue())
            .max()
            .orElse(0);

    for (Process p : procs) {
      p.destroy();
    }
    if (dbHost != null) {
      for (Process p : procs) {
        p.waitFor();
      }
      dbHost.destroy();
      dbHost.waitFor();
    }
    sink.stop(0);

    Map<String, String> rows = new LinkedHashMap<>();
    rows.put("duration / faults", seconds + " s / " + (fault.isEmpty() ? kills + " node SIGKILLs" : fault));
    rows.put("webhooks sent / accepted (202) / refused (node down)", seq.get() + " / " + accepted + " / " + refused.get());
    rows.put("delivered (distinct)", Integer.toString((int) acceptedAt.keySet().stream().filter(delivered::contains).count()));
    rows.put("lost", Long.toString(lost));
    rows.put("duplicate deliveries (same webhook-id)", duplicates + " (" + duplicatesWithOtherId + " with a different webhook-id)");
    rows.put("longest accepted -> delivered", String.format("%.1f s", longest / 1e9));
    rows.put("longest request (sent -> answered or failed)", String.format("%.1f s", longestRequest.get() / 1e9));
    if (!fault.isEmpty()) {
      rows.put(killDb ? "first 202 after the kill (restart included)" : "first 202 after the database was back", serveAgainNanos < 0 ? "none within 60 s" : String.format("%.1f s", serveAgainNanos / 1e9));
    }
    StringBuilder table = new StringBuilder("| figure | value |\n|---|---|\n");
    rows.forEach((k, v) -> table.append("| ").append(k).append(" | ").append(v).append(" |\n"));
    String report =
        "# KiKonect chaos run " + LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME) + "\n\n"
            + BenchSupport.machine() + "\n\nSettings: 3 nodes (-Xmx" + heap + ") on one PostgreSQL (" + (opts.get("db-url").isEmpty() ? "embedded, in a 4th process" : "external")
            + "), " + rate + " webhooks/s open loop round-robin over the nodes, "
            + (fault.isEmpty() ? "one node SIGKILLed and restarted every " + killEvery + " s" : "one database fault a third into the run (" + fault + ")")
            + ", receiver answering after " + sinkDelay + " ms, default lease 30 s and sweep 10 s\n\n" + table;
    System.out.println();
    System.out.println(report);
    if (tiny || !fault.isEmpty()) {
      List<String> insane = new ArrayList<>();
      if (accepted == 0) insane.add("nothing accepted");
      if (kills == 0 && fault.isEmpty()) insane.add("no node was killed");
      if (!fault.isEmpty() && longestRequest.get() > 5_000_000_000L) insane.add("a request was held " + longestRequest.get() / 1_000_000 + " ms");
      if (!fault.isEmpty() && (serveAgainNanos < 0 || serveAgainNanos > 10_000_000_000L)) insane.add("not serving within 10 s of the database");
      if (lost > 0) insane.add(lost + " accepted webhooks lost");
      if (duplicatesWithOtherId > 0) insane.add(duplicatesWithOtherId + " duplicates with another webhook-id");
      if (!fault.isEmpty()) {
        System.out.println(insane.isEmpty() ? "bench/chaos: figures sane" : "bench/chaos: FIGURES NOT SANE: " + String.join("; ", insane));
      } else {
        BenchSupport.deleteRecursively(work);
        BenchSupport.verdict("bench/chaos", insane);
      }
    }
    Path results = Path.of("bench", "results");
    Files.createDirectories(results);
    Path out = results.resolve("chaos-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + ".md");
    Files.writeString(out, report);
    System.out.println("Written to " + out + "; node logs in " + work);
    System.exit(lost == 0 && duplicatesWithOtherId == 0 ? 0 : 1);
  }

  static void signal(String signal, List<Long> pids) throws Exception {
    List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
    pids.forEach(p -> command.add(Long.toString(p)));
    new ProcessBuilder(command).inheritIO().start().waitFor();
  }
}
