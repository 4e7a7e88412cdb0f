import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Scheduler at scale: N interval workflows at a 1-minute interval (100,000 by default: about 1,667 firings/s),
 * served by two scheduler nodes on one PostgreSQL. Measures, for every slot due in the measured window, whether it
 * fired (missed), how often (duplicates) and how late (fire time - due time: p50, p99, max).
 *
 * <p>The nodes run the api and scheduler roles and no executor, so that the figure is the scheduler's own; the
 * runs' jobs simply queue. The database is the embedded PostgreSQL of a third KiKonect process with no roles.
 */
public class ScheduleScale {
  /** One master key for every node of the run (they share one database): fresh for each run. */
  static final String MASTER_KEY = newMasterKey();

  static String newMasterKey() {
    byte[] key = new byte[32];
    new java.security.SecureRandom().nextBytes(key);
    return java.util.Base64.getEncoder().encodeToString(key);
  }



  public static void main(String[] args) throws Exception {
    Map<String, String> opts =
        BenchSupport.options(args, "workflows", "100000", "duration", "120", "jar", "target/kikonect.jar", "heap", "256m", "create-concurrency", "48",
            "cron-seconds", "0", "check", "false");
    // --cron-seconds=N: cron workflows firing every N seconds (*/N * * * * *) instead of 1-minute intervals, so that a
    // tiny run (bin/test) sees many slots in a few seconds. --check: exit 1 unless every due slot fired exactly once
    // and none before its time.
    int cronSeconds = Integer.parseInt(opts.get("cron-seconds"));
    boolean everySecond = cronSeconds > 0;
    boolean check = Boolean.parseBoolean(opts.get("check"));
    Duration step = everySecond ? Duration.ofSeconds(cronSeconds) : Duration.ofMinutes(1);
    int count = Integer.parseInt(opts.get("workflows"));
    int seconds = Integer.parseInt(opts.get("duration"));
    String jar = opts.get("jar");
    Path work = Files.createTempDirectory("kikonect-schedule-");
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    int dbPort = BenchSupport.freePort();
    int hostPort = BenchSupport.freePort();
    Process dbHost =
        BenchSupport.startKiKonect(
            jar, "128m", work.resolve("db-host.log"),
            List.of("--server.port=" + hostPort, "--kikonect.roles=none", "--kikonect.data-dir=" + work.resolve("data"),
                "--kikonect.embedded-db-port=" + dbPort));
    BenchSupport.waitForHealth(http, "http://127.0.0.1:" + hostPort, dbHost, work.resolve("db-host.log"), Duration.ofSeconds(120));
    String dbUrl = "jdbc:postgresql://localhost:" + dbPort + "/postgres";

    int[] ports = {BenchSupport.freePort(), BenchSupport.freePort()};
    List<Process> nodes = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      nodes.add(
          BenchSupport.startKiKonect(
              jar, opts.get("heap"), work.resolve("node" + i + ".log"),
              List.of("--server.port=" + ports[i], "--spring.datasource.url=" + dbUrl, "--spring.datasource.username=postgres",
                  "--kikonect.secrets.master-key=" + MASTER_KEY, "--kikonect.roles=api,scheduler", "--kikonect.delivery.allow-private-networks=true",
                  "--kikonect.quotas.max-workflows=10000000", "--kikonect.quotas.min-cron-interval=1s")));
    }
    for (int i = 0; i < 2; i++) {
      BenchSupport.waitForHealth(http, "http://127.0.0.1:" + ports[i], nodes.get(i), work.resolve("node" + i + ".log"), Duration.ofSeconds(120));
    }
    String base = "http://127.0.0.1:" + ports[0];
    String email = "scale-" + System.nanoTime() + "@example.com";
    BenchSupport.post(http, base + "/register", null, "{\"email\":\"" + email + "\",\"password\":\"benchmark-password\",\"firstname\":\"B\",\"lastname\":\"M\"}");
    String token = BenchSupport.field(BenchSupport.post(http, base + "/login", null, "{\"email\":\"" + email + "\",\"password\":\"benchmark-password\"}"), "token");

    // Create the workflows, paced over one minute so that their slots spread evenly over the minute.
    System.out.printf(everySecond ? "Creating %d cron workflows (every " + cronSeconds + " s)...%n" : "Creating %d interval workflows (1 min) over about a minute...%n", count);
    Map<Long, Instant> firstSlot = new ConcurrentHashMap<>();
    AtomicInteger failures = new AtomicInteger();
    AtomicInteger retried = new AtomicInteger();
    Semaphore inFlight = new Semaphore(Integer.parseInt(opts.get("create-concurrency")));
    long createStart = System.nanoTime();
    long pace = everySecond ? 0 : Duration.ofSeconds(60).toNanos() / count;
    List<Thread> creators = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      long due = createStart + i * pace;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        java.util.concurrent.locks.LockSupport.parkNanos(wait);
      }
      inFlight.acquire();
      int n = i;
      creators.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      String body =
                          everySecond
                              ? "{\"name\":\"wf " + n + "\",\"trigger_type\":\"cron\",\"action_url\":\"http://127.0.0.1:9/x\","
                                  + "\"trigger_config\":{\"expression\":\"*/" + cronSeconds + " * * * * *\"}}"
                              : "{\"name\":\"wf " + n + "\",\"trigger_type\":\"interval\",\"action_url\":\"http://127.0.0.1:9/x\","
                                  + "\"trigger_config\":{\"interval_minutes\":1}}";
                      HttpResponse<String> r;
                      int tries = 0;
                      while (true) {
                        r =
                            http.send(
                                HttpRequest.newBuilder(URI.create(base + "/workflows"))
                                    .header("Content-Type", "application/json")
                                    .header("Authorization", "Bearer " + token)
                                    .POST(HttpRequest.BodyPublishers.ofString(body))
                                    .build(),
                                HttpResponse.BodyHandlers.ofString());
                        // A 503 stored nothing and says when to come back: a well-behaved client does (the pool's
                        // 1 s wait is short on purpose; dozens of concurrent creates on two busy cores can pass it).
                        if (r.statusCode() != 503 || ++tries > 5) {
                          break;
                        }
                        retried.incrementAndGet();
                        Thread.sleep(200L * tries);
                      }
                      var created = r.statusCode() == 201 ? BenchSupport.json(r.body()) : null;
                      if (created != null && created.path("id").isNumber() && created.path("next_run_at").isString()) {
                        firstSlot.put(created.path("id").asLong(), Instant.parse(created.path("next_run_at").asString()));
                      } else if (failures.incrementAndGet() <= 3) {
                        System.out.println("  create refused: HTTP " + r.statusCode() + " " + r.body().substring(0, Math.min(300, r.body().length())));
                      }
                    } catch (Exception e) {
                      if (failures.incrementAndGet() <= 3) {
                        System.out.println("  create failed: " + e);
                      }
                    } finally {
                      inFlight.release();
                    }
                  }));
    }
    for (Thread t : creators) {
      t.join();
    }
    double createSeconds = (System.nanoTime() - createStart) / 1e9;
    System.out.printf(
        "Created %d workflows in %.1f s (%.0f/s, %d failed, %d requests retried after a 503)%n",
        firstSlot.size(), createSeconds, firstSlot.size() / createSeconds, failures.get(), retried.get());

    // Measure every slot due in [windowStart, windowEnd).
    // A --check run (bin/test) waits less around the window: it counts slots, it does not measure lateness tails.
    Instant windowStart = Instant.now().plusSeconds(check ? 2 : 5);
    Instant windowEnd = windowStart.plusSeconds(seconds);
    System.out.printf("Measuring slots due in the next %d s (two scheduler nodes)...%n", seconds);
    while (Instant.now().isBefore(windowEnd.plusSeconds(check ? 3 : 10))) {
      Thread.sleep(1000);
    }

    // Collect the runs (newest first) until before the window.
    Map<Long, Map<Instant, Integer>> fired = new HashMap<>();
    List<Long> lateness = new ArrayList<>();
    long early = 0;
    String cursor = null;
    int pages = 0;
    boolean done = false;
    while (!done) {
      String url = base + "/runs?limit=200" + (cursor == null ? "" : "&cursor=" + cursor);
      HttpResponse<String> r =
          http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
      pages++;
      if (r.statusCode() != 200) {
        throw new IllegalStateException("GET /runs answered " + r.statusCode() + ": " + r.body());
      }
      var page = BenchSupport.json(r.body());
      int inPage = 0;
      int beforeWindow = 0;
      for (var run : page.path("items")) {
        inPage++;
        if (!run.path("scheduled_for").isString()) {
          continue;
        }
        long wf = run.path("workflow_id").asLong();
        Instant slot = Instant.parse(run.path("scheduled_for").asString());
        Instant at = Instant.parse(run.path("created_at").asString());
        if (slot.isBefore(windowStart)) {
          beforeWindow++;
          continue;
        }
        if (!slot.isBefore(windowEnd)) {
          continue;
        }
        fired.computeIfAbsent(wf, k -> new HashMap<>()).merge(slot, 1, Integer::sum);
        lateness.add(Duration.between(slot, at).toNanos());
        if (at.isBefore(slot)) {
          early++;
        }
      }
      cursor = page.path("next_cursor").isString() ? page.path("next_cursor").asString() : null;
      done = cursor == null || inPage == 0 || beforeWindow == inPage;
    }

    long expected = 0;
    long missed = 0;
    long duplicates = 0;
    for (Map.Entry<Long, Instant> e : firstSlot.entrySet()) {
      Map<Instant, Integer> got = fired.getOrDefault(e.getKey(), Map.of());
      for (Instant slot = e.getValue(); slot.isBefore(windowEnd); slot = slot.plus(step)) {
        if (slot.isBefore(windowStart)) {
          continue;
        }
        expected++;
        int n = got.getOrDefault(slot, 0);
        if (n == 0) {
          missed++;
        } else {
          duplicates += n - 1;
        }
      }
    }
    long[] sorted = lateness.stream().mapToLong(Long::longValue).sorted().toArray();
    long rss0 = BenchSupport.rssKb(nodes.get(0).pid());
    long rss1 = BenchSupport.rssKb(nodes.get(1).pid());
    for (Process p : nodes) {
      p.destroy();
      p.waitFor();
    }
    dbHost.destroy();
    dbHost.waitFor();

    Map<String, String> rows = new LinkedHashMap<>();
    rows.put(everySecond ? "cron workflows (every " + cronSeconds + " s)" : "interval workflows (1 min)", String.format("%d (created at %.0f/s)", firstSlot.size(), firstSlot.size() / createSeconds));
    rows.put("slots due in the window / fired", expected + " / " + (expected - missed));
    rows.put("firings per second", String.format("%.0f", expected / (double) seconds));
    rows.put("missed", Long.toString(missed));
    rows.put("duplicates", Long.toString(duplicates));
    rows.put("fired before their slot", Long.toString(early));
    rows.put("lateness p50 (ms)", BenchSupport.ms(BenchSupport.percentile(sorted, 50)));
    rows.put("lateness p99 (ms)", BenchSupport.ms(BenchSupport.percentile(sorted, 99)));
    rows.put("lateness max (ms)", BenchSupport.ms(sorted.length == 0 ? 0 : sorted[sorted.length - 1]));
    rows.put("scheduler nodes RSS (MB)", (rss0 / 1024) + ", " + (rss1 / 1024));
    StringBuilder table = new StringBuilder("| figure | value |\n|---|---|\n");
    rows.forEach((k, v) -> table.append("| ").append(k).append(" | ").append(v).append(" |\n"));
    String report =
        "# KiKonect scheduler scale run " + LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME) + "\n\n"
            + BenchSupport.machine() + "\n\nSettings: two KiKonect nodes with roles api,scheduler (-Xmx" + opts.get("heap")
            + ", poll 250 ms, batches of 500) on one embedded PostgreSQL (fsync and synchronous_commit on) hosted by a third"
            + " process; no executor (jobs queue); window of " + seconds + " s measured from the runs' scheduled_for and"
            + " created_at; all processes on the same machine\n\n" + table;
    System.out.println();
    System.out.println(report);
    if (check) {
      List<String> insane = new ArrayList<>();
      if (expected == 0) insane.add("no slot was due in the window");
      if (missed > 0) insane.add(missed + " slots missed");
      if (duplicates > 0) insane.add(duplicates + " duplicate firings");
      if (early > 0) insane.add(early + " firings before their slot");
      if (failures.get() > 0) insane.add(failures.get() + " workflows not created");
      BenchSupport.deleteRecursively(work);
      BenchSupport.verdict("bench/schedule", insane);
      return;
    }
    Path results = Path.of("bench", "results");
    Files.createDirectories(results);
    Path out = results.resolve("schedule-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + ".md");
    Files.writeString(out, report);
    System.out.println("Written to " + out + "; logs in " + work);
    System.exit(0);
  }
}
