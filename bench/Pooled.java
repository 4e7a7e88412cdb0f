import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Three KiKonect nodes on one PostgreSQL (Debian's, made here), directly and through pgbouncer in transaction mode
 * (prepareThreshold=0, migrations direct, as docs/operations.md says), in the order direct, pgbouncer, pgbouncer,
 * direct on the same database: each round starts the nodes, warms them up, sends a burst of webhooks (a fixed number
 * of them in flight, round robin over the nodes) to a receiver that answers at once, and measures end to end
 * deliveries per second (first webhook sent to last delivery); nothing accepted may be lost, and no node log may show
 * a prepared-statement error. Needs root (PostgreSQL and pgbouncer run as the user kikonect).
 */
public class Pooled {
  public static void main(String[] args) throws Exception {
    Map<String, String> opts = BenchSupport.options(args, "webhooks", "20000", "in-flight", "192", "jar", "target/kikonect.jar", "heap", "192m", "pool", "20");
    int webhooks = Integer.parseInt(opts.get("webhooks"));
    int inFlight = Integer.parseInt(opts.get("in-flight"));
    String jar = opts.get("jar");
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();

    Map<Integer, Long> delivered = new ConcurrentHashMap<>();
    AtomicInteger deliveries = new AtomicInteger();
    HttpServer sink = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
    System.setProperty("sun.net.httpserver.maxIdleConnections", "10000");
    sink.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    sink.createContext("/", exchange -> {
      var seq = BenchSupport.json(exchange.getRequestBody().readAllBytes()).path("seq");
      if (seq.isNumber()) {
        delivered.putIfAbsent(seq.asInt(), System.nanoTime());
        deliveries.incrementAndGet();
      }
      exchange.sendResponseHeaders(200, -1);
      exchange.close();
    });
    sink.start();
    String sinkUrl = "http://127.0.0.1:" + sink.getAddress().getPort() + "/sink";

    Path dir = Files.createTempDirectory("kikonect-pooled-");
    Chaos.Replicated db = new Chaos.Replicated(dir, "none");
    Runtime.getRuntime().addShutdownHook(new Thread(db::stop));
    int bouncerPort = BenchSupport.freePort();
    Path ini = dir.resolve("pgbouncer.ini");
    Files.writeString(ini, """
        [databases]
        kikonect = host=127.0.0.1 port=%d dbname=kikonect user=postgres
        [pgbouncer]
        listen_addr = 127.0.0.1
        listen_port = %d
        unix_socket_dir =
        auth_type = trust
        auth_file = %s
        pool_mode = transaction
        max_client_conn = 500
        default_pool_size = %s
        logfile = %s
        """.formatted(db.primaryPort, bouncerPort, dir.resolve("users.txt"), opts.get("pool"), dir.resolve("pgbouncer.log")));
    Files.writeString(dir.resolve("users.txt"), "\"postgres\" \"\"\n");
    Chaos.Replicated.run("chown", "kikonect", ini.toString(), dir.resolve("users.txt").toString());
    Process bouncer = new ProcessBuilder("setpriv", "--reuid=kikonect", "--regid=kikonect", "--init-groups", "pgbouncer", ini.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("pgbouncer.out").toFile()).start();
    Runtime.getRuntime().addShutdownHook(new Thread(bouncer::destroy));

    String direct = "jdbc:postgresql://127.0.0.1:" + db.primaryPort + "/kikonect";
    String pooled = "jdbc:postgresql://127.0.0.1:" + bouncerPort + "/kikonect?prepareThreshold=0";
    String version = new String(new ProcessBuilder("pgbouncer", "--version").start().getInputStream().readAllBytes()).lines().findFirst().orElse("pgbouncer");
    System.out.printf("PostgreSQL on %d, %s on %d (transaction mode, %s server connections); %d webhooks, %d in flight, per round%n",
        db.primaryPort, version, bouncerPort, opts.get("pool"), webhooks, inFlight);

    Map<String, List<Double>> rates = new LinkedHashMap<>();
    List<String> insane = new ArrayList<>();
    int seqBase = 0;
    // "unprepared": direct, but with prepareThreshold=0 as through pgbouncer: every statement parsed and planned each
    // time. It tells pgbouncer's own cost from that of giving up server-side prepared statements.
    for (String round : List.of("direct", "unprepared", "pgbouncer", "pgbouncer", "unprepared", "direct")) {
      String url = switch (round) {
        case "direct" -> direct;
        case "unprepared" -> direct + "?prepareThreshold=0";
        default -> pooled;
      };
      Process[] nodes = new Process[3];
      int[] ports = new int[3];
      Path[] logs = new Path[3];
      for (int i = 0; i < 3; i++) {
        ports[i] = BenchSupport.freePort();
        logs[i] = dir.resolve(round + "-" + seqBase + "-node" + i + ".log");
        nodes[i] = BenchSupport.startKiKonect(jar, opts.get("heap"), logs[i],
            List.of("--server.port=" + ports[i], "--spring.datasource.url=" + url, "--spring.datasource.username=postgres",
                "--spring.flyway.url=" + direct, "--spring.flyway.user=postgres",
                "--kikonect.secrets.master-key=" + Chaos.MASTER_KEY, "--kikonect.delivery.allowed-cidrs=127.0.0.1/32",
                "--kikonect.hooks.rate-limit=0", "--kikonect.quotas.runs-per-minute=0"));
      }
      for (int i = 0; i < 3; i++) {
        BenchSupport.waitForHealth(http, "http://127.0.0.1:" + ports[i], nodes[i], logs[i], Duration.ofSeconds(120));
      }
      String hook = BenchSupport.webhookWorkflow(http, "http://127.0.0.1:" + ports[0], sinkUrl);
      burst(http, ports, hook, seqBase, webhooks / 4, inFlight, delivered); // warm-up, not counted
      seqBase += webhooks / 4;
      long[] window = new long[2];
      Set<Integer> accepted = burst(http, ports, hook, seqBase, webhooks, inFlight, delivered, window);
      long lost = accepted.stream().filter(k -> !delivered.containsKey(k)).count();
      long last = accepted.stream().filter(delivered::containsKey).mapToLong(delivered::get).max().orElse(window[0]);
      double rate = accepted.size() / ((last - window[0]) / 1e9);
      rates.computeIfAbsent(round, k -> new ArrayList<>()).add(rate);
      System.out.printf("  %-9s %,d accepted of %,d, %d lost: %,.0f deliveries/s end to end%n", round, accepted.size(), webhooks, lost, rate);
      if (lost > 0) insane.add(round + ": " + lost + " lost");
      if (accepted.size() < webhooks) insane.add(round + ": " + (webhooks - accepted.size()) + " not answered 202");
      seqBase += webhooks;
      for (Process p : nodes) {
        p.destroy();
      }
      for (int i = 0; i < 3; i++) {
        nodes[i].waitFor();
        String log = Files.readString(logs[i]);
        if (log.matches("(?s).*(prepared statement \"S_|S_\\d+\" does not exist|unsupported pkt).*")) {
          insane.add(round + ": prepared-statement errors in node " + i + "'s log");
        }
      }
    }
    double directMean = rates.get("direct").stream().mapToDouble(Double::doubleValue).average().orElse(0);
    double pooledMean = rates.get("pgbouncer").stream().mapToDouble(Double::doubleValue).average().orElse(0);
    double unpreparedMean = rates.get("unprepared").stream().mapToDouble(Double::doubleValue).average().orElse(0);
    String report = "# KiKonect through pgbouncer " + LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME) + "\n\n"
        + BenchSupport.machine() + "\n\nSettings: 3 nodes (-Xmx" + opts.get("heap") + ") on one PostgreSQL " + db.bin.replaceAll(".*/postgresql/(\\d+)/bin", "$1")
        + " (Debian's, on this machine), directly or through " + version + " in transaction mode (" + opts.get("pool") + " server connections, prepareThreshold=0),"
        + " rounds direct, unprepared (direct with prepareThreshold=0), pgbouncer, pgbouncer, unprepared, direct on the same database; each round: " + webhooks / 4 + " webhooks to warm up, then " + webhooks
        + " with " + inFlight + " in flight round robin over the nodes, a receiver answering at once; end to end = accepted / (first sent to last delivered)\n\n"
        + "| connection | rounds (deliveries/s) | mean |\n|---|---|---|\n"
        + "| direct | " + rates.get("direct").stream().map(r -> String.format("%,.0f", r)).toList() + " | " + String.format("%,.0f", directMean) + " |\n"
        + "| direct, prepareThreshold=0 | " + rates.get("unprepared").stream().map(r -> String.format("%,.0f", r)).toList() + " | " + String.format("%,.0f", unpreparedMean) + " |\n"
        + "| pgbouncer | " + rates.get("pgbouncer").stream().map(r -> String.format("%,.0f", r)).toList() + " | " + String.format("%,.0f", pooledMean) + " |\n"
        + "\npgbouncer / direct: " + String.format("%.0f %%", 100 * pooledMean / directMean)
        + "; direct with prepareThreshold=0 / direct: " + String.format("%.0f %%", 100 * unpreparedMean / directMean)
        + "; pgbouncer / direct with prepareThreshold=0: " + String.format("%.0f %%", 100 * pooledMean / unpreparedMean) + "\n";
    System.out.println();
    System.out.println(report);
    Path out = Path.of("bench", "results", "pgbouncer-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + ".md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, report);
    System.out.println("Written to " + out + "; logs in " + dir);
    bouncer.destroy();
    db.stop();
    sink.stop(0);
    BenchSupport.verdict("bench/pgbouncer", insane);
  }

  static Set<Integer> burst(HttpClient http, int[] ports, String hook, int from, int count, int inFlight, Map<Integer, Long> delivered) throws Exception {
    return burst(http, ports, hook, from, count, inFlight, delivered, new long[2]);
  }

  /** Sends {@code count} webhooks, {@code inFlight} at a time; returns those answered 202 once they are all delivered (or 60 s). */
  static Set<Integer> burst(HttpClient http, int[] ports, String hook, int from, int count, int inFlight, Map<Integer, Long> delivered, long[] window)
      throws Exception {
    Set<Integer> accepted = ConcurrentHashMap.newKeySet();
    Semaphore slots = new Semaphore(inFlight);
    List<Thread> threads = new ArrayList<>();
    window[0] = System.nanoTime();
    for (int i = 0; i < count; i++) {
      slots.acquire();
      int seq = from + i;
      String url = "http://127.0.0.1:" + ports[i % ports.length] + hook;
      threads.add(Thread.ofVirtual().start(() -> {
        try {
          HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString("{\"seq\":" + seq + "}")).build(), HttpResponse.BodyHandlers.discarding());
          if (r.statusCode() == 202) {
            accepted.add(seq);
          }
        } catch (IOException | InterruptedException e) {
          // not accepted: not owed
        } finally {
          slots.release();
        }
      }));
    }
    for (Thread t : threads) {
      t.join();
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline && !delivered.keySet().containsAll(accepted)) {
      Thread.sleep(50);
    }
    return accepted;
  }
}
