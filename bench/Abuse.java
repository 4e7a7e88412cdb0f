import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * bench/abuse: issue 12's four High attacks and issue 22's hostile expressions, payloads and tenants against the
 * packaged jar, one after the other, on loopback only, each bounded in time and connections. The attacker (its own
 * account, its own loopback addresses 127.0.0.2..5) attacks while a legitimate client of another workspace on 127.0.0.1
 * logs in and sends webhooks, whose deliveries the bench's receiver times (the other tenant's delivery). Per attack
 * it prints the heap's peak, the 5xx answers (attacker and legitimate), the p99 of the legitimate login and webhook,
 * the other tenant's slowest delivery, and whether the node is alive and healthy after. The backlog attack ends with
 * its receiver gone and a restart of the node on the same data, watched as long as the attack ran.
 *
 * <p>Usage: bench/abuse [--seconds=60] [--heap=256m] [--jar=target/kikonect.jar] [--check] [--only=4,7]
 */
public class Abuse {

  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public static void main(String[] args) throws Exception {
    Map<String, String> o = BenchSupport.options(args, "seconds", "60", "heap", "256m", "jar", "target/kikonect.jar", "check", "false", "only", "");
    int seconds = Integer.parseInt(o.get("seconds"));
    Path work = Files.createTempDirectory("kikonect-abuse");
    int port = BenchSupport.freePort();
    String base = "http://127.0.0.1:" + port;
    Path log = work.resolve("kikonect.log");
    List<String> appArgs = List.of("--server.port=" + port, "--kikonect.data-dir=" + work.resolve("data"),
        "--kikonect.delivery.allowed-cidrs=127.0.0.0/8", "--kikonect.delivery.timeout=30s");
    Process app = BenchSupport.startKiKonect(o.get("jar"), o.get("heap"), log, appArgs);
    List<String> insane = new ArrayList<>();
    try (ServerSocket stalled = new ServerSocket(0, 4096, InetAddress.getByName("127.0.0.1"));
        ServerSocket sink = new ServerSocket(0, 4096, InetAddress.getByName("127.0.0.1"));
        ServerSocket hang = new ServerSocket(0, 4096, InetAddress.getByName("127.0.0.1"))) {
      BenchSupport.waitForHealth(HTTP, base, app, log, Duration.ofSeconds(120));
      acceptForever(stalled, false);
      acceptForever(sink, true);
      acceptForever(hang, false);
      String email = "legit-" + System.nanoTime() + "@example.com";
      BenchSupport.post(HTTP, base + "/register", null, "{\"email\":\"" + email + "\",\"password\":\"legit password 1\",\"firstname\":\"L\",\"lastname\":\"G\"}");
      String login = "{\"email\":\"" + email + "\",\"password\":\"legit password 1\"}";
      String token = BenchSupport.field(BenchSupport.post(HTTP, base + "/login", null, login), "token");
      String hook = URI.create(BenchSupport.field(BenchSupport.post(HTTP, base + "/workflows", token,
          "{\"name\":\"legit\",\"trigger_type\":\"webhook\",\"action_url\":\"http://127.0.0.1:" + sink.getLocalPort() + "/\"}"), "webhook_url")).getPath();
      // The attacker: an account of its own (open registration gives everyone a workspace they own).
      String evil = "attacker-" + System.nanoTime() + "@example.com";
      BenchSupport.post(HTTP, base + "/register", null, "{\"email\":\"" + evil + "\",\"password\":\"attacker password 1\",\"firstname\":\"A\",\"lastname\":\"T\"}");
      String attacker = BenchSupport.field(BenchSupport.post(HTTP, base + "/login", null, "{\"email\":\"" + evil + "\",\"password\":\"attacker password 1\"}"), "token");
      String manual = BenchSupport.json(BenchSupport.post(HTTP, base + "/workflows", attacker,
          "{\"name\":\"to a receiver that never answers\",\"trigger_type\":\"manual\",\"max_attempts\":1,\"action_url\":\"http://127.0.0.1:" + stalled.getLocalPort() + "/\"}")).path("id").asString();
      List<String> bombs = bombs();
      List<String> stored = storedBombs(base, attacker, bombs, sink.getLocalPort());
      List<String> answerBombs = answerBombs(base, attacker, bombs, sink.getLocalPort());
      String held = URI.create(BenchSupport.field(BenchSupport.post(HTTP, base + "/workflows", attacker,
          "{\"name\":\"held\",\"trigger_type\":\"webhook\",\"steps\":[{\"key\":\"never\",\"max_attempts\":1,\"url\":\"http://127.0.0.1:"
              + hang.getLocalPort() + "/\"}],\"trigger_config\":{\"respond\":{\"mode\":\"step\",\"step\":\"never\",\"timeout\":\"5s\"}}}"),
          "webhook_url")).getPath();
      String wide = URI.create(BenchSupport.field(BenchSupport.post(HTTP, base + "/workflows", attacker, wideWorkflow(sink.getLocalPort())), "webhook_url")).getPath();

      System.out.println("# KiKonect under abuse " + java.time.Instant.now());
      System.out.println();
      System.out.println(BenchSupport.machine());
      System.out.println();
      System.out.println("Settings: " + seconds + " s per attack; KiKonect -Xmx" + o.get("heap") + " with -XX:+ExitOnOutOfMemoryError, embedded "
          + "PostgreSQL; attacker on 127.0.0.2-5, legitimate client on 127.0.0.1 (a login every 250 ms, a webhook every 50 ms); all on loopback");
      System.out.println();
      System.out.println("| attack | attacker requests | heap used max (MB) | live heap after GC max (MB) | 5xx (attacker / legit) | legit login p99 (ms) | legit webhook p99 (ms) | other tenant's delivery max (ms) | alive and healthy after |");
      System.out.println("|---|---|---|---|---|---|---|---|---|");
      record Attack(String name, Runnable body) {}
      AtomicLong sent = new AtomicLong();
      AtomicLong attacker5xx = new AtomicLong();
      List<Attack> attacks = List.of(
          new Attack("1. unknown 7.8 KB hook tokens, 1,000/s", () -> hookFlood(base, sent, attacker5xx)),
          new Attack("2. stalled 1 MB login bodies, 100 at a time", () -> stalledBodies(port, sent, attacker5xx)),
          new Attack("3. 600 connections trickling a body byte every 5 s", () -> trickle(port, sent, attacker5xx)),
          new Attack("4. 1 MiB manual triggers to a receiver that hangs, then goes away, then a restart", () -> bigTriggers(base, attacker, manual, sent, attacker5xx)),
          new Attack("5. " + bombs.size() + " expression bombs in dry runs, 4 at a time", () -> dryRunBombs(base, attacker, bombs, sent, attacker5xx)),
          new Attack("6. " + stored.size() + " stored bombs (body, when, url, filter) triggered, 4 at a time", () -> storedTriggers(base, attacker, stored, sent, attacker5xx)),
          new Attack("7. anonymous ~1 MiB [0,0,...] webhooks to a 20-step workflow reading payload, 4 at a time", () -> wideHooks(base, wide, sent, attacker5xx)),
          new Attack("8. anonymous: " + answerBombs.size() + " answers whose body is a bomb, callers held for a step that never answers (up to 200 at once), forged resume tokens",
              () -> answersAndResumes(base, answerBombs, held, sent, attacker5xx)));
      // Warm-up, not measured: the legitimate client's paths (login, webhook, delivery) compiled by the JIT first, so
      // that a short --check run does not measure a cold node as an attack's effect.
      Legit warmUp = new Legit(base, login, hook);
      Thread warmUpThread = Thread.ofPlatform().start(warmUp);
      Thread.sleep(Math.min(10, Math.max(3, seconds / 4)) * 1000L);
      warmUp.stop.set(true);
      warmUpThread.join(15_000);
      for (Attack attack : attacks) {
        if (!o.get("only").isEmpty() && !List.of(o.get("only").split(",")).contains(attack.name().substring(0, attack.name().indexOf('.')))) {
          continue;
        }
        sent.set(0);
        attacker5xx.set(0);
        STOP.set(false);
        List<Thread> attackers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          attackers.add(Thread.ofPlatform().start(attack.body()));
        }
        if (Boolean.parseBoolean(o.get("check"))) {
          // A short check measures the attack's steady state: the legitimate client starts once the attack has run for
          // 3 s (in its first seconds the JIT compiles both sides and the first logins took 1-3 s on two cores).
          Thread.sleep(3000);
        }
        DELIVERIES.clear();
        Legit legit = new Legit(base, login, hook);
        Thread legitThread = Thread.ofPlatform().start(legit);
        double heapMax = 0;
        double liveMax = 0;
        boolean backlog = attack.name().startsWith("4.");
        long started = System.nanoTime();
        long end = started + seconds * 1_000_000_000L;
        boolean gone = false;
        while (System.nanoTime() < end && app.isAlive()) {
          if (backlog && !gone && System.nanoTime() - started > seconds * 500_000_000L) {
            stalled.close(); // the receiver goes away: its connections are reset, new ones refused
            closeStalled();
            gone = true;
          }
          String metrics = metrics(base);
          heapMax = Math.max(heapMax, sum(metrics, "jvm_memory_used_bytes{", "area=\"heap\""));
          liveMax = Math.max(liveMax, sum(metrics, "jvm_gc_live_data_size_bytes", ""));
          Thread.sleep(500);
        }
        STOP.set(true);
        for (Thread t : attackers) {
          t.join(15_000);
        }
        long restartFrom = Long.MAX_VALUE;
        long restartTo = Long.MIN_VALUE;
        if (backlog && app.isAlive()) {
          // A restart with the backlog still queued: the node must come up and stay up while it works it off. The
          // legitimate client pauses meanwhile; deliveries that span the restart are not the attack's doing.
          legit.stop.set(true);
          legitThread.join(15_000);
          restartFrom = System.nanoTime();
          app.destroy();
          app.waitFor();
          app = BenchSupport.startKiKonect(o.get("jar"), o.get("heap"), log, appArgs);
          BenchSupport.waitForHealth(HTTP, base, app, log, Duration.ofSeconds(120));
          restartTo = System.nanoTime();
          Legit after = new Legit(base, login, hook);
          after.logins.addAll(legit.logins);
          after.hooks.addAll(legit.hooks);
          after.failures5xx.addAndGet(legit.failures5xx.get());
          legit = after;
          legitThread = Thread.ofPlatform().start(legit);
          long watch = System.nanoTime() + seconds * 1_000_000_000L;
          while (System.nanoTime() < watch && app.isAlive()) {
            String metrics = metrics(base);
            heapMax = Math.max(heapMax, sum(metrics, "jvm_memory_used_bytes{", "area=\"heap\""));
            liveMax = Math.max(liveMax, sum(metrics, "jvm_gc_live_data_size_bytes", ""));
            Thread.sleep(500);
          }
        }
        legit.stop.set(true);
        legitThread.join(15_000);
        closeAll();
        boolean healthy = app.isAlive() && healthyAfter(base, login);
        boolean check = Boolean.parseBoolean(o.get("check"));
        long from = restartFrom;
        long to = restartTo;
        long[] delivered = DELIVERIES.stream().filter(d -> !(d[0] < to && d[1] > from)).mapToLong(d -> d[1] - d[0]).sorted().toArray();
        long deliveryMax = delivered.length == 0 ? -1 : delivered[delivered.length - 1];
        long[] logins = legit.logins.stream().mapToLong(Long::longValue).sorted().toArray();
        long[] hooks = legit.hooks.stream().mapToLong(Long::longValue).sorted().toArray();
        System.out.printf("| %s | %,d | %.0f | %.0f | %d / %d | %s | %s | %s | %s |%n", attack.name(), sent.get(), heapMax / 1e6, liveMax / 1e6, attacker5xx.get(),
            legit.failures5xx.get(), BenchSupport.ms(BenchSupport.percentile(logins, 99)), BenchSupport.ms(BenchSupport.percentile(hooks, 99)),
            deliveryMax < 0 ? "none delivered" : BenchSupport.ms(deliveryMax), healthy ? "yes" : "NO");
        if (delivered.length == 0) {
          insane.add(attack.name() + ": the other tenant had no delivery");
        } else if (check ? deliveryMax > 2_000_000_000L : BenchSupport.percentile(delivered, 99) > 1_000_000_000L) {
          // A delivery crosses the executor's poll, the sandbox and the receiver: a --check run of a few seconds on
          // two loaded cores is judged on its slowest at 2 s (a starved tenant waits tens of seconds); a full run on
          // its p99 at 1 s.
          insane.add(attack.name() + ": the other tenant's deliveries were slower than " + (check ? "2 s (the slowest)" : "1 s (p99)"));
        }
        if (!healthy) {
          insane.add(attack.name() + ": node not healthy afterwards");
        }
        if (legit.failures5xx.get() > 0) {
          insane.add(attack.name() + ": " + legit.failures5xx.get() + " 5xx for the legitimate client");
        }
        // The target is 1 s for every legitimate request, in a --check run as in a full one: a --check run fails on
        // any login or webhook over 1 s (a full run reports the p99 and judges it). A flood that reached the whole
        // Spring stack used to push the first logins of a short run to 1-4 s on two cores; the door of /hooks
        // (HookGateFilter) keeps it off them.
        long slowLogins = Arrays.stream(logins).filter(t -> t > 1_000_000_000L).count();
        long slowHooks = Arrays.stream(hooks).filter(t -> t > 1_000_000_000L).count();
        if (check ? slowLogins + slowHooks > 0 : BenchSupport.percentile(logins, 99) > 1_000_000_000L || BenchSupport.percentile(hooks, 99) > 1_000_000_000L) {
          insane.add(attack.name() + ": " + slowLogins + " legitimate logins and " + slowHooks + " webhooks above 1 s");
        }
        if (!app.isAlive()) {
          break;
        }
      }
      System.out.println();
      System.out.println("KiKonect's log: " + log);
    } finally {
      app.destroy();
      app.waitFor();
    }
    if (Boolean.parseBoolean(o.get("check")) || !insane.isEmpty()) {
      BenchSupport.verdict("bench/abuse", insane);
    }
  }

  static final AtomicBoolean STOP = new AtomicBoolean();
  /** Each of the legitimate tenant's webhooks: when it was sent and when it was delivered (System.nanoTime). */
  static final List<long[]> DELIVERIES = new CopyOnWriteArrayList<>();
  /** Connections the receiver that never answers accepted (closed when it goes away). */
  static final ConcurrentLinkedQueue<Socket> STALLED = new ConcurrentLinkedQueue<>();

  static void closeStalled() {
    Socket s;
    while ((s = STALLED.poll()) != null) {
      try {
        s.setSoLinger(true, 0); // a reset, as a receiver that died
        s.close();
      } catch (IOException e) {
        // closing
      }
    }
  }

  /** The corpus of hostile expressions the tests use (src/test/resources/expression-bombs.txt), built lines expanded. */
  static List<String> bombs() throws IOException {
    List<String> bombs = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("src/test/resources/expression-bombs.txt"))) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      line = line.startsWith("ok: ") ? line.substring(4) : line;
      String[] parts = line.split(" ", 4);
      if (parts[0].equals("NEST")) {
        int n = Integer.parseInt(parts[1]);
        bombs.add(parts[2].repeat(n) + "1" + parts[3].repeat(n));
      } else if (parts[0].equals("CHAIN")) {
        bombs.add("1" + parts[2].repeat(Integer.parseInt(parts[1])));
      } else {
        bombs.add(line);
      }
    }
    return bombs;
  }

  static String quoted(String text) {
    return BenchSupport.JSON.writeValueAsString(text);
  }

  /** One step or filter holding {@code bomb}, by where it stands (0 body, 1 when, 2 url template, 3 filter). */
  static String bombWorkflow(String bomb, int place, int sinkPort, boolean stored) {
    String url = "http://127.0.0.1:" + sinkPort + "/bomb";
    String step = switch (place) {
      case 0 -> "{\"key\":\"a\",\"url\":" + quoted(url) + ",\"body\":" + quoted(bomb) + "}";
      case 1 -> "{\"key\":\"a\",\"url\":" + quoted(url) + ",\"when\":" + quoted(bomb) + "}";
      case 2 -> "{\"key\":\"a\",\"url\":" + quoted(url + "?q={{ " + bomb + " }}") + "}";
      default -> "{\"key\":\"a\",\"url\":" + quoted(url) + "}";
    };
    String filter = place == 3 ? "\"filter\":" + quoted(bomb) + "," : "";
    String head = stored ? "\"name\":\"bomb\",\"trigger_type\":\"manual\",\"max_attempts\":1," : "";
    return "{" + head + filter + "\"steps\":[" + step + "]}";
  }

  /** Stores up to 16 of the bombs as workflows of the attacker (those that compile), in turn as body, when, url, filter. */
  static List<String> storedBombs(String base, String token, List<String> bombs, int sinkPort) throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < bombs.size() && ids.size() < 16; i++) {
      String answer = BenchSupport.post(HTTP, base + "/workflows", token, bombWorkflow(bombs.get(i), i % 4, sinkPort, true));
      String id = BenchSupport.json(answer).path("id").asString();
      if (!id.isEmpty()) {
        ids.add(id);
      }
    }
    return ids;
  }

  static void dryRunBombs(String base, String token, List<String> bombs, AtomicLong sent, AtomicLong fivexx) {
    HttpClient client = HttpClient.newBuilder().localAddress(loopback(2)).build();
    int i = ThreadLocalRandom.current().nextInt(bombs.size());
    while (!STOP.get()) {
      String bomb = bombs.get(i++ % bombs.size());
      String body = "{\"workflow\":" + bombWorkflow(bomb, i % 4, 9, false) + ",\"payload\":{\"a\":1}}";
      send(client, base + "/workflows/test", token, body, sent, fivexx);
    }
  }

  static void storedTriggers(String base, String token, List<String> ids, AtomicLong sent, AtomicLong fivexx) {
    HttpClient client = HttpClient.newBuilder().localAddress(loopback(3)).build();
    int i = ThreadLocalRandom.current().nextInt(Math.max(1, ids.size()));
    while (!STOP.get() && !ids.isEmpty()) {
      send(client, base + "/workflows/" + ids.get(i++ % ids.size()) + "/trigger", token, "{\"a\":1}", sent, fivexx);
    }
  }

  /** Up to 8 of the bombs (those that compile and fit) as the webhook answers (respond immediate) of the attacker. */
  static List<String> answerBombs(String base, String token, List<String> bombs, int sinkPort) throws Exception {
    List<String> hooks = new ArrayList<>();
    for (int i = 0; i < bombs.size() && hooks.size() < 8; i++) {
      if (bombs.get(i).length() > 10_000) {
        continue;
      }
      String answer = BenchSupport.post(HTTP, base + "/workflows", token, "{\"name\":\"answer bomb\",\"trigger_type\":\"webhook\",\"action_url\":\"http://127.0.0.1:"
          + sinkPort + "/\",\"trigger_config\":{\"respond\":{\"mode\":\"immediate\",\"body\":" + quoted(bombs.get(i)) + "}}}");
      String url = BenchSupport.json(answer).path("webhook_url").asString();
      if (!url.isEmpty()) {
        hooks.add(URI.create(url).getPath());
      }
    }
    return hooks;
  }

  /**
   * Anonymous callers of the attacker's webhooks, in turn: an answer whose body is an expression bomb (it runs in the
   * sandbox: the usual 202 with the reason), a caller held for a step whose receiver never answers (at most 20 held
   * per workspace, the rest get their 202 at once; 50 outstanding per attacker thread), and a forged resume token
   * (refused by its HMAC before any database work).
   */
  static void answersAndResumes(String base, List<String> bombHooks, String heldHook, AtomicLong sent, AtomicLong fivexx) {
    HttpClient client = HttpClient.newBuilder().localAddress(loopback(5)).connectTimeout(Duration.ofSeconds(5)).build();
    java.util.concurrent.Semaphore outstanding = new java.util.concurrent.Semaphore(50);
    long n = ThreadLocalRandom.current().nextLong(1000);
    while (!STOP.get()) {
      long k = n++;
      switch ((int) (k % 3)) {
        case 0 -> {
          if (!bombHooks.isEmpty()) {
            send(client, base + bombHooks.get((int) (k / 3 % bombHooks.size())), null, "{\"a\":1}", sent, fivexx);
          }
        }
        case 1 -> {
          if (outstanding.tryAcquire()) {
            Thread.startVirtualThread(() -> {
              try {
                send(client, base + heldHook, null, "{\"a\":1}", sent, fivexx);
              } finally {
                outstanding.release();
              }
            });
          }
        }
        default -> {
          String forged = ThreadLocalRandom.current().nextLong(1, 1_000_000) + ".never."
              + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(java.util.UUID.randomUUID().toString().getBytes(StandardCharsets.US_ASCII));
          send(client, base + "/resume/" + forged, null, "{\"by\":\"mallory\"}", sent, fivexx);
        }
      }
    }
  }

  /** A webhook workflow of 20 steps, each reading the whole payload. */
  static String wideWorkflow(int sinkPort) {
    StringBuilder steps = new StringBuilder();
    for (int i = 0; i < 20; i++) {
      steps.append(i == 0 ? "" : ",").append("{\"key\":\"s").append(i).append("\",\"url\":\"http://127.0.0.1:").append(sinkPort)
          .append("/wide\",\"body\":\"{ 'n': $count(payload) }\"}");
    }
    return "{\"name\":\"wide\",\"trigger_type\":\"webhook\",\"steps\":[" + steps + "]}";
  }

  static void wideHooks(String base, String hook, AtomicLong sent, AtomicLong fivexx) {
    HttpClient client = HttpClient.newBuilder().localAddress(loopback(4)).build();
    String zeros = "[" + "0,".repeat(500_000) + "0]"; // 1,000,003 bytes, about 9 MB parsed
    while (!STOP.get()) {
      send(client, base + hook, null, zeros, sent, fivexx);
    }
  }

  static void send(HttpClient client, String url, String token, String body, AtomicLong sent, AtomicLong fivexx) {
    try {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body));
      if (token != null) {
        b.header("Authorization", "Bearer " + token);
      }
      HttpResponse<Void> r = client.send(b.build(), HttpResponse.BodyHandlers.discarding());
      sent.incrementAndGet();
      if (r.statusCode() >= 500 && r.statusCode() != 503) {
        fivexx.incrementAndGet();
      } else if (r.statusCode() == 429 || r.statusCode() == 503) {
        pause(200); // told to slow down: a well-behaved attacker's worst, and the node's answer to it
      }
    } catch (IOException | InterruptedException e) {
      sent.incrementAndGet();
    }
  }
  static final ConcurrentLinkedQueue<Socket> OPEN = new ConcurrentLinkedQueue<>();

  /** The legitimate client: a login every 250 ms and a webhook every 50 ms, timed. */
  static final class Legit implements Runnable {
    final String base;
    final String login;
    final String hook;
    final AtomicBoolean stop = new AtomicBoolean();
    final List<Long> logins = new CopyOnWriteArrayList<>();
    final List<Long> hooks = new CopyOnWriteArrayList<>();
    final AtomicLong failures5xx = new AtomicLong();

    Legit(String base, String login, String hook) {
      this.base = base;
      this.login = login;
      this.hook = hook;
    }

    @Override
    public void run() {
      int tick = 0;
      while (!stop.get()) {
        try {
          if (tick++ % 5 == 0) {
            logins.add(timed(base + "/login", login));
          }
          hooks.add(timed(base + hook, "{\"legit\":true,\"sent\":" + System.nanoTime() + "}"));
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    long timed(String url, String body) {
      long started = System.nanoTime();
      try {
        HttpResponse<Void> r = HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() >= 500) {
          failures5xx.incrementAndGet();
        }
      } catch (IOException | InterruptedException e) {
        failures5xx.incrementAndGet(); // no answer at all counts as a failure too
      }
      return System.nanoTime() - started;
    }
  }

  /** 4 threads x 250/s: the 1,000 unknown tokens a second of the issue (30,000 in 30 s took the old heap down). */
  static void hookFlood(String base, AtomicLong sent, AtomicLong fivexx) {
    HttpClient client = HttpClient.newBuilder().localAddress(loopback(2)).build();
    String token = "x".repeat(7_800);
    long next = System.nanoTime();
    while (!STOP.get()) {
      next += 64_000_000L; // 16 requests every 64 ms
      long wait = next - System.nanoTime();
      if (wait > 0) {
        pause(wait / 1_000_000);
      }
      List<java.util.concurrent.CompletableFuture<HttpResponse<Void>>> batch = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        String unique = token + ThreadLocalRandom.current().nextLong();
        batch.add(client.sendAsync(HttpRequest.newBuilder(URI.create(base + "/hooks/" + unique)).timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.discarding()));
      }
      for (var f : batch) {
        try {
          if (f.join().statusCode() >= 500) {
            fivexx.incrementAndGet();
          }
        } catch (RuntimeException e) {
          // refused or reset: not a 5xx
        }
        sent.incrementAndGet();
      }
    }
  }

  static void stalledBodies(int port, AtomicLong sent, AtomicLong fivexx) {
    byte[] start = ("POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1040000\r\n\r\n{\"email\":\""
        + "a".repeat(1_000_000)).getBytes(StandardCharsets.US_ASCII);
    List<Socket> mine = new ArrayList<>();
    while (!STOP.get()) {
      mine.removeIf(Socket::isClosed);
      if (mine.size() < 25) {
        Socket s = connect(3, port);
        if (s != null) {
          mine.add(s);
          sent.incrementAndGet();
          Thread.startVirtualThread(() -> {
            try {
              s.getOutputStream().write(start); // then stall
              readStatus(s, fivexx);
            } catch (IOException e) {
              // refused and closed
            }
          });
        }
      } else {
        pause(50);
      }
    }
  }

  static void trickle(int port, AtomicLong sent, AtomicLong fivexx) {
    List<Socket> mine = new ArrayList<>();
    for (int i = 0; i < 150 && !STOP.get(); i++) {
      Socket s = connect(4, port);
      if (s != null) {
        mine.add(s);
        sent.incrementAndGet();
        Thread.startVirtualThread(() -> readStatus(s, fivexx));
      }
    }
    byte[] head = "POST /openapi.json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    for (Socket s : mine) {
      try {
        s.getOutputStream().write(head);
      } catch (IOException e) {
        // refused
      }
    }
    while (!STOP.get()) {
      for (Socket s : mine) {
        try {
          if (!s.isClosed()) {
            OutputStream out = s.getOutputStream();
            out.write(' ');
            out.flush();
          }
        } catch (IOException e) {
          // the node closed it (408)
        }
      }
      pause(5000);
    }
  }

  static void bigTriggers(String base, String token, String workflow, AtomicLong sent, AtomicLong fivexx) {
    HttpClient client = HttpClient.newBuilder().localAddress(loopback(5)).build();
    String payload = "{\"blob\":\"" + "x".repeat(1_040_000) + "\"}";
    while (!STOP.get()) {
      try {
        HttpResponse<Void> r = client.send(HttpRequest.newBuilder(URI.create(base + "/workflows/" + workflow + "/trigger")).timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(payload)).build(), HttpResponse.BodyHandlers.discarding());
        sent.incrementAndGet();
        if (r.statusCode() >= 500) {
          fivexx.incrementAndGet();
        } else if (r.statusCode() == 429) {
          pause(200);
        }
      } catch (IOException | InterruptedException e) {
        sent.incrementAndGet();
      }
    }
  }

  static Socket connect(int host, int port) {
    try {
      Socket s = new Socket();
      s.bind(new InetSocketAddress(loopback(host), 0));
      s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      s.setSoTimeout(30_000);
      OPEN.add(s);
      return s;
    } catch (IOException e) {
      return null;
    }
  }

  static void readStatus(Socket s, AtomicLong fivexx) {
    try {
      InputStream in = s.getInputStream();
      byte[] line = in.readNBytes(12);
      if (line.length == 12 && line[9] == '5') {
        fivexx.incrementAndGet();
      }
      s.close();
    } catch (IOException e) {
      // timed out or reset
    }
  }

  static void closeAll() {
    Socket s;
    while ((s = OPEN.poll()) != null) {
      try {
        s.close();
      } catch (IOException e) {
        // closing
      }
    }
  }

  static void acceptForever(ServerSocket server, boolean answer) {
    Thread.startVirtualThread(() -> {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          if (answer) {
            Thread.startVirtualThread(() -> answerOk(s));
          } else {
            STALLED.add(s); // accept and never read
          }
        } catch (IOException e) {
          return;
        }
      }
    });
  }

  /** A minimal receiver: reads requests and answers 200 to each, keep-alive. */
  static void answerOk(Socket s) {
    try (s) {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      byte[] buffer = new byte[65536];
      StringBuilder head = new StringBuilder();
      while (true) {
        head.setLength(0);
        int b;
        while ((b = in.read()) >= 0) {
          head.append((char) b);
          if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
            break;
          }
        }
        if (b < 0) {
          return;
        }
        long length = 0;
        for (String line : head.toString().split("\r\n")) {
          if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
            length = Long.parseLong(line.substring(15).strip());
          }
        }
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        while (length > 0) {
          int n = in.read(buffer, 0, (int) Math.min(buffer.length, length));
          if (n < 0) {
            return;
          }
          if (body.size() < 4096) {
            body.write(buffer, 0, n);
          }
          length -= n;
        }
        String text = body.toString(StandardCharsets.UTF_8);
        int at = text.indexOf("\"sent\":");
        if (text.contains("\"legit\":true") && at >= 0) {
          int from = at + 7;
          int to = from;
          while (to < text.length() && Character.isDigit(text.charAt(to))) {
            to++;
          }
          DELIVERIES.add(new long[] {Long.parseLong(text.substring(from, to)), System.nanoTime()}); // the other tenant's delivery
        }
        out.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
    } catch (IOException e) {
      // closed
    }
  }

  static String metrics(String base) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException | InterruptedException e) {
      return "";
    }
  }

  /** The sum of the samples of one metric whose line contains {@code label}. */
  static double sum(String metrics, String prefix, String label) {
    return Arrays.stream(metrics.split("\n"))
        .filter(l -> l.startsWith(prefix) && l.contains(label))
        .mapToDouble(l -> {
          try {
            return Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
          } catch (NumberFormatException e) {
            return 0;
          }
        })
        .sum();
  }

  static boolean healthyAfter(String base, String login) {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline) {
      try {
        int ready = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/health/ready")).timeout(Duration.ofSeconds(2)).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode();
        int loggedIn = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/login")).timeout(Duration.ofSeconds(5))
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(login)).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode();
        if (ready == 200 && loggedIn == 200) {
          return true;
        }
      } catch (IOException | InterruptedException e) {
        // not yet
      }
      pause(500);
    }
    return false;
  }

  static InetAddress loopback(int last) {
    try {
      return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) last});
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
