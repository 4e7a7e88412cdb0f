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

  /** Warm-up webhooks are numbered from here on; their deliveries are not counted. */
  static final int WARMUP_SEQ = 100_000_000;

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = BenchSupport.options(args, "duration", "120", "rate", "100", "kill-every", "5", "jar", "target/kikonect.jar", "heap", "192m", "db-url", "", "sink-delay-ms", "200",
        "tiny", "false", "kill-db", "false", "pause-db", "false", "failover", "", "standby", "sync", "fence-after", "5",
        "warmup", "0", "patroni", "false", "db-params", "");
    // --failover[=kill|stop]: the database is a PostgreSQL primary with a streaming standby (--standby=sync|async), made
    // here from Debian's binaries; a third into the run the primary is SIGKILLed (kill) or frozen with SIGSTOP (stop:
    // fenced with SIGKILL after --fence-after seconds, as a failover manager must, 0 = never) and the standby promoted.
    // The nodes have the multi-host URL and are never restarted. Defaults for it: 60 s at 200 webhooks/s.
    String failover = opts.get("failover").equals("true") ? "kill" : opts.get("failover");
    if (!failover.isEmpty()) {
      if (!List.of("kill", "stop").contains(failover) || !List.of("sync", "async").contains(opts.get("standby"))) {
        throw new IllegalArgumentException("--failover=kill|stop, --standby=sync|async");
      }
      List<String> given = List.of(args);
      if (given.stream().noneMatch(a -> a.startsWith("--duration"))) opts.put("duration", "60");
      if (given.stream().noneMatch(a -> a.startsWith("--rate"))) opts.put("rate", "200");
      // Three cold JVMs, two PostgreSQL servers and this program on two cores cannot take 200/s in their first seconds
      // (probes over 5 s, requests over 10 s): the measured minute starts after 20 s at half the rate, all delivered.
      if (given.stream().noneMatch(a -> a.startsWith("--warmup"))) opts.put("warmup", "20");
    }
    // --kill-db: instead of killing nodes, SIGKILL the embedded database's postmaster once, a third into the run (its
    // host node's watch starts it again). --pause-db: SIGSTOP every postgres process for 15 s instead. Either way:
    // nothing accepted may be lost, no request may be held longer than 5 s, and the nodes serve again by themselves.
    boolean killDb = Boolean.parseBoolean(opts.get("kill-db"));
    boolean pauseDb = Boolean.parseBoolean(opts.get("pause-db"));
    if ((killDb || pauseDb || !failover.isEmpty()) && !opts.get("db-url").isEmpty()) {
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
    Set<Integer> warmedUp = ConcurrentHashMap.newKeySet();
    // The JDK's server closes, right after answering, every keep-alive connection past its 200th idle one, without a
    // "Connection: close": with three nodes' pools that is a receiver that keeps breaking connections. A receiver in
    // front of a real service (nginx, a load balancer) keeps them; so does this one.
    System.setProperty("sun.net.httpserver.maxIdleConnections", "10000");
    HttpServer sink = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
    sink.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    sink.createContext(
        "/",
        exchange -> {
          String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          var seq = BenchSupport.json(body).path("seq");
          if (seq.isNumber() && seq.asInt() >= WARMUP_SEQ) {
            warmedUp.add(seq.asInt());
          } else if (seq.isNumber()) {
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
    Replicated replicated = null;
    boolean asyncStandby = !failover.isEmpty() && opts.get("standby").equals("async");
    boolean patroni = Boolean.parseBoolean(opts.get("patroni"));
    if (patroni && (failover.isEmpty() || asyncStandby)) {
      throw new IllegalArgumentException("--patroni goes with --failover (its synchronous_mode: no --standby=async)");
    }
    if (!failover.isEmpty()) {
      // Its own directory: the run's is private to root, and PostgreSQL runs as kikonect.
      replicated = new Replicated(Files.createTempDirectory("kikonect-failover-"), patroni ? "patroni" : opts.get("standby"));
      Runtime.getRuntime().addShutdownHook(new Thread(replicated::stop));
      dbUrl = replicated.url() + (opts.get("db-params").isEmpty() ? "" : "&" + opts.get("db-params"));
      System.out.printf("PostgreSQL %s primary on %d, %s standby on %d" + (patroni ? ", both run by Patroni with etcd" : "") + "%n", replicated.bin.replaceAll(".*/postgresql/(\\d+)/bin", "$1"),
          replicated.primaryPort, opts.get("standby"), replicated.standbyPort);
    } else if (dbUrl.isEmpty()) {
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
          List.of("--server.port=" + ports[i], "--spring.datasource.url=" + dbUrl, "--spring.datasource.username=" + (replicated != null ? replicated.user : "postgres"),
              "--spring.datasource.password=" + (replicated != null ? replicated.password : ""),
              "--kikonect.secrets.master-key=" + MASTER_KEY, "--kikonect.delivery.allowed-cidrs=127.0.0.1/32", "--kikonect.hooks.rate-limit=0", "--kikonect.quotas.runs-per-minute=0",
              "--kikonect.executor.lease-duration=" + (tiny ? "5s" : "30s"), "--kikonect.executor.sweep-interval=" + (tiny ? "1s" : "10s")));
      procs[i] = BenchSupport.startKiKonect(jar, heap, work.resolve("node" + i + ".log"), nodeArgs.get(i));
    }
    for (int i = 0; i < nodes; i++) {
      BenchSupport.waitForHealth(http, "http://127.0.0.1:" + ports[i], procs[i], work.resolve("node" + i + ".log"), Duration.ofSeconds(120));
    }
    String hookPath = BenchSupport.webhookWorkflow(http, "http://127.0.0.1:" + ports[0], sinkUrl);
    int warmup = Integer.parseInt(opts.get("warmup"));
    if (warmup > 0) { // numbered from WARMUP_SEQ on, left out of every figure below
      System.out.printf("3 nodes up; warming up: %d webhooks/s for %d s...%n", rate / 2, warmup);
      List<Thread> senders = new ArrayList<>();
      long next = System.nanoTime();
      int count = warmup * rate / 2;
      for (int i = 0; i < count; i++) {
        java.util.concurrent.locks.LockSupport.parkNanos(next - System.nanoTime());
        next += 2_000_000_000L / rate;
        String url = "http://127.0.0.1:" + ports[i % nodes] + hookPath;
        String body = "{\"seq\":" + (WARMUP_SEQ + i) + "}";
        senders.add(Thread.ofVirtual().start(() -> {
          try {
            http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding());
          } catch (IOException | InterruptedException e) {
            // warm-up only
          }
        }));
      }
      for (Thread t : senders) {
        t.join();
      }
      long settle = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < settle && warmedUp.size() < count) {
        Thread.sleep(200);
      }
    }
    System.out.printf("3 nodes up; %d webhooks/s for %d s, %s...%n", rate, seconds,
        replicated != null ? "the primary failed over a third in" : killDb || pauseDb ? "a database fault a third in" : "one node killed (SIGKILL) and restarted every " + killEvery + " s");

    Map<Integer, Long> acceptedAt = new ConcurrentHashMap<>();
    AtomicLong longestRequest = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    // Per second of the run: answers by status (or the exception's class), for the timeline around a fault.
    Map<Integer, Map<String, Integer>> bySecond = new ConcurrentHashMap<>();
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
                                  String answer;
                                  try {
                                    HttpResponse<String> r =
                                        http.send(
                                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports[node] + hookPath))
                                                .timeout(Duration.ofSeconds(10))
                                                .header("Content-Type", "application/json")
                                                .POST(HttpRequest.BodyPublishers.ofString("{\"seq\":" + n + "}"))
                                                .build(),
                                            HttpResponse.BodyHandlers.ofString());
                                    // a refusal is counted with its problem type (503 unavailable, 429 quota-exceeded...)
                                    answer = r.statusCode() == 202 ? "202" : r.statusCode() + " " + r.body().replaceAll("(?s).*\"type\"\\s*:\\s*\"[^\"]*?([^/\"]*)\".*|(?s).*", "$1");
                                    if (r.statusCode() == 202) {
                                      acceptedAt.put(n, System.nanoTime());
                                    } else {
                                      refused.incrementAndGet();
                                    }
                                  } catch (IOException | InterruptedException e) {
                                    answer = e.getClass().getSimpleName();
                                    refused.incrementAndGet(); // the node was down: never accepted, so never owed
                                  }
                                  bySecond.computeIfAbsent((int) ((sent - start) / 1_000_000_000L), k -> new ConcurrentHashMap<>())
                                      .merge(answer, 1, Integer::sum);
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
    long promotedAt = -1;
    List<Long> primary = List.of();
    if (replicated != null) {
      Thread.sleep(seconds * 1000L / 3);
      primary = replicated.primaryProcesses();
      long faultAt = System.nanoTime();
      if (failover.equals("kill")) {
        signal("KILL", primary);
        fault = "primary SIGKILLed, " + opts.get("standby") + " standby promoted";
      } else {
        signal("STOP", primary);
        int fenceAfter = Integer.parseInt(opts.get("fence-after"));
        if (fenceAfter > 0) {
          Thread.sleep(fenceAfter * 1000L);
          signal("KILL", primary);
          fault = "primary frozen (SIGSTOP), fenced (SIGKILL) " + fenceAfter + " s later, " + opts.get("standby") + " standby promoted";
        } else {
          fault = "primary frozen (SIGSTOP) and never fenced, " + opts.get("standby") + " standby promoted";
        }
      }
      if (patroni) {
        fault += " by Patroni";
      }
      replicated.promote();
      promotedAt = System.nanoTime();
      System.out.printf("  %3.0f s: %s (promoted %.1f s after the fault)%n", (faultAt - start) / 1e9, fault, (promotedAt - faultAt) / 1e9);
      serveAgainNanos = serveAgain(acceptedAt, promotedAt);
    }
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
      serveAgainNanos = serveAgain(acceptedAt, faultEnd); // the first webhook accepted after the database is back
    }
    while (!(killDb || pauseDb) && failover.isEmpty() && System.nanoTime() + Duration.ofSeconds(killEvery).toNanos() < end) {
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
      rows.put(!failover.isEmpty() ? "first 202 after the promotion" : killDb ? "first 202 after the kill (restart included)" : "first 202 after the database was back", serveAgainNanos < 0 ? "none within 60 s" : String.format("%.1f s", serveAgainNanos / 1e9));
    }
    StringBuilder table = new StringBuilder("| figure | value |\n|---|---|\n");
    rows.forEach((k, v) -> table.append("| ").append(k).append(" | ").append(v).append(" |\n"));
    if (!fault.isEmpty()) { // the answers second by second from 2 s before the fault to 10 s after it
      table.append("\nAnswers by the second the webhook was sent:\n\n| second | answers |\n|---|---|\n");
      int faultSecond = seconds / 3;
      for (int second = 0; second <= seconds; second++) {
        Map<String, Integer> answers = bySecond.getOrDefault(second, Map.of());
        boolean near = second >= faultSecond - 2 && second <= faultSecond + 10;
        if (near || answers.keySet().stream().anyMatch(a -> !a.equals("202"))) {
          table.append("| ").append(second).append(" | ").append(new java.util.TreeMap<>(answers)).append(" |\n");
        }
      }
    }
    if (replicated != null) { // what the promoted standby recorded
      table.append("\nOn the new primary after the run: runs by attempts ")
          .append(replicated.sql(replicated.standbyPort, "SELECT string_agg(attempts || ': ' || n, ', ' ORDER BY attempts) FROM (SELECT attempts, count(*) n FROM workflow_runs GROUP BY 1) t"))
          .append("; attempts that failed, by error: ")
          .append(replicated.sql(replicated.standbyPort, "SELECT coalesce(string_agg(e || ': ' || n, ', '), 'none') FROM (SELECT left(error, 60) e, count(*) n FROM attempts WHERE error IS NOT NULL GROUP BY 1) t"))
          .append("\n");
    }
    String report =
        "# KiKonect chaos run " + LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME) + "\n\n"
            + BenchSupport.machine() + "\n\nSettings: 3 nodes (-Xmx" + heap + ") on one PostgreSQL (" + (replicated != null ? "a primary and a " + opts.get("standby") + "hronous standby" + (patroni ? " run by Patroni (deploy/patroni/patroni.yml, ttl 10 s, synchronous_mode) with one etcd" : "") + ", the nodes on a multi-host URL with targetServerType=primary" : opts.get("db-url").isEmpty() ? "embedded, in a 4th process" : "external")
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
      long serveBar = failover.isEmpty() ? 10_000_000_000L : 5_000_000_000L;
      if (!fault.isEmpty() && (serveAgainNanos < 0 || serveAgainNanos > serveBar)) insane.add("not serving within " + serveBar / 1_000_000_000L + " s of the database");
      if (lost > 0 && !asyncStandby) insane.add(lost + " accepted webhooks lost");
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
    if (replicated != null) {
      List<Long> left = primary.stream().filter(p -> ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false)).toList();
      if (!left.isEmpty()) {
        signal("KILL", left); // a primary frozen and never fenced is still there
      }
      replicated.stop();
    }
    // An asynchronous standby may lose what the primary acknowledged: that run prints its loss and does not fail.
    System.exit((lost == 0 || asyncStandby) && duplicatesWithOtherId == 0 ? 0 : 1);
  }

  /** How long after {@code since} the first webhook was accepted (waiting up to 60 s for one), or -1. */
  static long serveAgain(Map<Integer, Long> acceptedAt, long since) throws InterruptedException {
    long deadline = since + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      long firstAfter = acceptedAt.values().stream().filter(t -> t > since).mapToLong(Long::longValue).min().orElse(-1);
      if (firstAfter > 0) {
        return firstAfter - since;
      }
      Thread.sleep(100);
    }
    return -1;
  }

  static void signal(String signal, List<Long> pids) throws Exception {
    List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
    pids.forEach(p -> command.add(Long.toString(p)));
    new ProcessBuilder(command).inheritIO().start().waitFor();
  }

  /**
   * A PostgreSQL primary and a streaming standby on loopback, made from Debian's server binaries (the newest under
   * /usr/lib/postgresql) as the unprivileged user kikonect, the way deploy/check-backup makes its cluster. Synchronous:
   * {@code synchronous_standby_names = '*'} with {@code synchronous_commit = on} on the primary, so that a commit (and
   * the 202 that waits for it) returns only once the standby has the WAL on disk; the standby carries neither, so once
   * promoted it commits alone. Asynchronous: the same without them.
   */
  static final class Replicated {
    final Path dir;
    final String bin;
    final int primaryPort;
    final int standbyPort;
    final boolean patroni;
    /** The role KiKonect's nodes log in as, and its password (Patroni's clusters ask for one). */
    final String user;
    final String password;
    private final String superuserPassword;
    private final List<Process> daemons = new ArrayList<>(); // etcd and the two Patroni members
    private Process leaderPatroni;

    /** {@code kind}: none (a primary alone), async, sync, or patroni (a primary and a synchronous standby by Patroni). */
    Replicated(Path dir, String kind) throws Exception {
      this.dir = dir;
      this.patroni = kind.equals("patroni");
      boolean synchronous = kind.equals("sync");
      this.bin = Files.list(Path.of("/usr/lib/postgresql")).map(p -> p.resolve("bin")).filter(Files::isDirectory)
          .max(java.util.Comparator.comparing(p -> Integer.parseInt(p.getParent().getFileName().toString())))
          .orElseThrow(() -> new IllegalStateException("--failover needs PostgreSQL server binaries under /usr/lib/postgresql"))
          .toString();
      this.primaryPort = BenchSupport.freePort();
      this.standbyPort = BenchSupport.freePort();
      run("chown", "kikonect", dir.toString());
      run("chmod", "755", dir.toString());
      if (patroni) {
        this.user = "kikonect";
        this.password = newMasterKey().replaceAll("[^A-Za-z0-9]", "");
        this.superuserPassword = newMasterKey().replaceAll("[^A-Za-z0-9]", "");
        startPatroni();
        return;
      }
      this.user = "postgres";
      this.password = "";
      this.superuserPassword = "";
      asKikonect(bin + "/initdb", "-D", dir.resolve("primary").toString(), "-U", "postgres", "--auth=trust");
      String common = "-k " + dir + " -c listen_addresses=127.0.0.1 -c max_wal_senders=5 -c wal_level=replica -c max_connections=200";
      asKikonect(bin + "/pg_ctl", "-D", dir.resolve("primary").toString(), "-o", "-p " + primaryPort + " " + common,
          "-l", dir.resolve("primary.log").toString(), "-w", "start");
      asKikonect(bin + "/psql", "-h", "127.0.0.1", "-p", "" + primaryPort, "-U", "postgres", "-q", "-c", "CREATE DATABASE kikonect");
      primarySql("ALTER SYSTEM SET autovacuum_naptime = '1s'"); // as docs/operations.md asks
      primarySql("SELECT pg_reload_conf()");
      if (kind.equals("none")) {
        return;
      }
      asKikonect(bin + "/pg_basebackup", "-h", "127.0.0.1", "-p", "" + primaryPort, "-U", "postgres", "-D",
          dir.resolve("standby").toString(), "-R", "-X", "stream", "--checkpoint=fast");
      asKikonect(bin + "/pg_ctl", "-D", dir.resolve("standby").toString(), "-o", "-p " + standbyPort + " " + common,
          "-l", dir.resolve("standby.log").toString(), "-w", "start");
      if (synchronous) { // only now: until a standby is attached, every commit would wait for one
        primarySql("ALTER SYSTEM SET synchronous_standby_names = '*'");
        primarySql("SELECT pg_reload_conf()");
      }
      awaitStandby(synchronous ? "sync" : "async");
    }

    /**
     * etcd (one member: enough to drive a failover here; three in production) and two Patroni members from
     * deploy/patroni/patroni.yml, "primary" first so that it bootstraps the cluster and leads, then "standby", which
     * clones it and becomes its synchronous standby (synchronous_mode).
     */
    private void startPatroni() throws Exception {
      int etcdClient = BenchSupport.freePort();
      int etcdPeer = BenchSupport.freePort();
      Files.createDirectories(dir.resolve("etcd"));
      run("chown", "kikonect", dir.resolve("etcd").toString());
      daemons.add(startAsKikonect(dir.resolve("etcd.log"), Map.of(), "etcd", "--name", "e1", "--data-dir", dir.resolve("etcd").toString(),
          "--listen-client-urls", "http://127.0.0.1:" + etcdClient, "--advertise-client-urls", "http://127.0.0.1:" + etcdClient,
          "--listen-peer-urls", "http://127.0.0.1:" + etcdPeer, "--initial-advertise-peer-urls", "http://127.0.0.1:" + etcdPeer,
          "--initial-cluster", "e1=http://127.0.0.1:" + etcdPeer));
      Path script = dir.resolve("post-bootstrap.sh");
      Files.copy(Path.of("deploy/patroni/post-bootstrap.sh"), script);
      run("chmod", "755", script.toString());
      String template = Files.readString(Path.of("deploy/patroni/patroni.yml"));
      for (String member : List.of("primary", "standby")) {
        Map<String, String> values = Map.ofEntries(
            Map.entry("NAME", member), Map.entry("HOST", "127.0.0.1"),
            Map.entry("PG_PORT", Integer.toString(member.equals("primary") ? primaryPort : standbyPort)),
            Map.entry("API_PORT", Integer.toString(BenchSupport.freePort())), Map.entry("ETCD_HOSTS", "127.0.0.1:" + etcdClient),
            Map.entry("DATA_DIR", dir.resolve(member).toString()), Map.entry("BIN_DIR", bin), Map.entry("SOCKET_DIR", dir.toString()),
            Map.entry("NETWORK", "127.0.0.1/32"), Map.entry("SUPERUSER_PASSWORD", superuserPassword),
            Map.entry("REPLICATION_PASSWORD", newMasterKey().replaceAll("[^A-Za-z0-9]", "")),
            Map.entry("POST_BOOTSTRAP", script.toString()));
        String yml = template;
        for (var e : values.entrySet()) {
          yml = yml.replace("${" + e.getKey() + "}", e.getValue());
        }
        yml = yml.lines().filter(l -> !l.startsWith("#")).collect(java.util.stream.Collectors.joining("\n", "", "\n"));
        if (yml.contains("${")) {
          throw new IllegalStateException("deploy/patroni/patroni.yml has a value this harness does not fill: " + yml.substring(yml.indexOf("${")));
        }
        Path config = dir.resolve(member + ".yml");
        Files.writeString(config, yml);
        run("chown", "kikonect", config.toString());
        Process p = startAsKikonect(dir.resolve(member + ".log"), Map.of("KIKONECT_DB_PASSWORD", password), "patroni", config.toString());
        daemons.add(p);
        int port = member.equals("primary") ? primaryPort : standbyPort;
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        String want = member.equals("primary") ? "f" : "t";
        while (!want.equals(sql(port, "SELECT pg_is_in_recovery()"))) {
          if (System.nanoTime() > deadline || !p.isAlive()) {
            throw new IllegalStateException("Patroni's " + member + " did not come up; see " + dir.resolve(member + ".log"));
          }
          Thread.sleep(250);
        }
        if (member.equals("primary")) {
          leaderPatroni = p;
        }
      }
      awaitStandby("sync");
    }

    private void awaitStandby(String want) throws Exception {
      for (int i = 0; i < 300 && !want.equals(primarySql("SELECT coalesce(max(sync_state), '') FROM pg_stat_replication")); i++) {
        Thread.sleep(100);
      }
      String state = primarySql("SELECT coalesce(max(sync_state), '') FROM pg_stat_replication");
      if (!want.equals(state)) {
        throw new IllegalStateException("the standby did not attach as " + want + " (pg_stat_replication says '" + state + "')");
      }
    }

    private Process startAsKikonect(Path log, Map<String, String> env, String... command) throws IOException {
      List<String> full = new ArrayList<>(List.of("setpriv", "--reuid=kikonect", "--regid=kikonect", "--init-groups"));
      full.addAll(List.of(command));
      ProcessBuilder builder = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(log.toFile());
      builder.environment().putAll(env);
      return builder.start();
    }

    /** The multi-host URL the nodes are given: whichever of the two accepts writes. */
    String url() {
      return "jdbc:postgresql://127.0.0.1:" + primaryPort + ",127.0.0.1:" + standbyPort + "/kikonect?targetServerType=primary";
    }

    /** The primary's postmaster and every backend it started (with Patroni: its Patroni first, the machine dies). */
    List<Long> primaryProcesses() throws IOException {
      long postmaster = Long.parseLong(Files.readAllLines(dir.resolve("primary/postmaster.pid")).get(0).strip());
      ProcessHandle pm = ProcessHandle.of(postmaster).orElseThrow();
      List<Long> pids = new ArrayList<>();
      if (leaderPatroni != null) {
        leaderPatroni.toHandle().descendants().forEach(h -> pids.add(h.pid())); // what Patroni started (setpriv execs it)
        pids.add(leaderPatroni.pid());
      }
      java.util.stream.Stream.concat(java.util.stream.Stream.of(pm), pm.descendants()).map(ProcessHandle::pid).filter(p -> !pids.contains(p)).forEach(pids::add);
      return pids;
    }

    /** Promotes the standby; with Patroni, waits until Patroni has (after its ttl). */
    void promote() throws Exception {
      if (!patroni) {
        asKikonect(bin + "/pg_ctl", "-D", dir.resolve("standby").toString(), "-w", "promote");
        return;
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!"f".equals(sql(standbyPort, "SELECT pg_is_in_recovery()"))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("Patroni promoted nothing within 60 s; see " + dir.resolve("standby.log"));
        }
        Thread.sleep(100);
      }
    }

    String primarySql(String sql) throws Exception {
      return sql(primaryPort, sql);
    }

    String sql(int port, String sql) throws Exception {
      ProcessBuilder builder = new ProcessBuilder(bin + "/psql", "-h", "127.0.0.1", "-p", "" + port, "-U", "postgres", "-d", "kikonect", "-At", "-c", sql)
          .redirectErrorStream(true);
      builder.environment().put("PGPASSWORD", superuserPassword);
      builder.environment().put("PGCONNECT_TIMEOUT", "2");
      Process p = builder.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      p.waitFor();
      return out;
    }

    void stop() {
      for (Process daemon : daemons) {
        daemon.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        daemon.destroyForcibly();
      }
      for (String cluster : List.of("primary", "standby")) {
        try {
          asKikonect(bin + "/pg_ctl", "-D", dir.resolve(cluster).toString(), "-m", "immediate", "stop");
        } catch (Exception e) {
          // already gone (the killed primary)
        }
      }
    }

    void asKikonect(String... command) throws Exception {
      List<String> full = new ArrayList<>(List.of("setpriv", "--reuid=kikonect", "--regid=kikonect", "--init-groups"));
      full.addAll(List.of(command));
      run(full.toArray(String[]::new));
    }

    static void run(String... command) throws Exception {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
      }
    }
  }
}
