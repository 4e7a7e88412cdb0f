import java.io.IOException;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The performance suite of issue 7, in one sitting on one machine: the pgbench reference (PostgreSQL alone, against
 * the very server KiKonect uses), then KiKonect's ingest with the executor paused, sustained end-to-end deliveries,
 * open-loop latency at a fixed rate, a slow receiver, and memory. Prints a table with each figure, its ratio to the
 * reference and its target, and writes it to bench/results/.
 */
public class Suite {

  static final Pattern TPS = Pattern.compile("tps = ([0-9.]+)");

  // sink state: by path kind
  static final Map<Long, Long> received = new ConcurrentHashMap<>();
  static final AtomicInteger duplicates = new AtomicInteger();
  static final AtomicInteger slowDone = new AtomicInteger();
  /** Step deliveries of the steps phase, by seq * 3 + step (a, b, c), with their arrival time. */
  static final Map<Long, Long> stepReceived = new ConcurrentHashMap<>();
  /** Item deliveries of the loop phase, by seq * ITEMS + index, with their arrival time. */
  static final Map<Long, Long> itemReceived = new ConcurrentHashMap<>();
  static final int ITEMS = 100;
  static volatile long lastSlow;
  static final AtomicLong maxRssKb = new AtomicLong();

  static final String ALL_PHASES = "reference,ingest,e2e,steps,loop,waiting,latency,held,slow";
  static final int HELD_RATE = 200;

  public static void main(String[] args) {
    try {
      measure(args);
    } catch (Throwable e) {
      // Without this, a failure would leave the sink's threads keeping this JVM (and its KiKonect processes) alive.
      e.printStackTrace();
      System.exit(1);
    }
  }

  static void measure(String[] args) throws Exception {
    Map<String, String> opts = BenchSupport.options(args, "jar", "target/kikonect.jar", "heap", "256m", "e2e-seconds", "60", "concurrency", "64", "rate", "500",
        "phases", ALL_PHASES, "tiny", "false");
    // --tiny: every phase for a few seconds with small counts, then a sanity check (nothing lost, every slow delivery
    // done, figures above zero) that exits 1 when it fails. bin/test runs it so that a broken suite fails the build.
    boolean tiny = Boolean.parseBoolean(opts.get("tiny"));
    int warmup = tiny ? 1 : 10;
    int ingestSeconds = tiny ? 3 : 15;
    int latencySeconds = tiny ? 3 : 20;
    int slowCount = tiny ? 100 : 1000;
    int pgSeconds = tiny ? 1 : 10;
    if (tiny) {
      opts.put("e2e-seconds", "5");
      opts.put("rate", "200");
    }
    // --phases picks a subset for quick before/after measurements of one figure; the README's table uses all.
    java.util.Set<String> phases = java.util.Set.of(opts.get("phases").split(","));
    String jar = opts.get("jar");
    String heap = opts.get("heap");
    int concurrency = Integer.parseInt(opts.get("concurrency"));
    Path work = Files.createTempDirectory("kikonect-suite-");
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    LeanHttp.Sink sink =
        new LeanHttp.Sink(
            request -> {
              long now = System.nanoTime();
              if (request.path().startsWith("/slow")) {
                Thread.sleep(2000);
                slowDone.incrementAndGet();
                lastSlow = System.nanoTime();
              } else if (request.path().startsWith("/step-")) {
                var seq = BenchSupport.json(request.body()).path("seq");
                long step = request.path().charAt(6) - 'a';
                if (seq.isNumber() && stepReceived.putIfAbsent(seq.asLong() * 3 + step, now) != null) {
                  duplicates.incrementAndGet();
                }
              } else if (request.path().startsWith("/item")) {
                var item = BenchSupport.json(request.body());
                if (itemReceived.putIfAbsent(item.path("seq").asLong() * ITEMS + item.path("i").asLong(), now) != null) {
                  duplicates.incrementAndGet();
                }
              } else if (request.path().startsWith("/fast")) {
                var seq = BenchSupport.json(request.body()).path("seq");
                if (seq.isNumber() && received.putIfAbsent(seq.asLong(), now) != null) {
                  duplicates.incrementAndGet();
                }
              }
            });
    String sinkBase = "http://127.0.0.1:" + sink.port();

    int dbPort = BenchSupport.freePort();
    int port = BenchSupport.freePort();
    String base = "http://127.0.0.1:" + port;
    List<String> common =
        List.of("--server.port=" + port, "--kikonect.data-dir=" + work.resolve("data"), "--kikonect.embedded-db-port=" + dbPort,
            "--kikonect.delivery.allowed-cidrs=127.0.0.1/32", "--kikonect.hooks.rate-limit=0", "--kikonect.quotas.runs-per-minute=0",
            // The slow-receiver phase measures raw concurrency (1,000 deliveries of one owner to one receiver at once):
            // the fair-share limits per owner and per receiver (256 each by default) are lifted for the suite.
            "--kikonect.executor.per-owner-concurrency=1024", "--kikonect.executor.per-host-concurrency=1024");

    double pgIngest = Double.NaN;
    double pgLifecycle = Double.NaN;
    double ingestRate = Double.NaN;
    // Phase 1: KiKonect without executor (ingest only), and the pgbench reference on its database server.
    if (phases.contains("reference") || phases.contains("ingest")) {
      List<String> ingestArgs = new ArrayList<>(common);
      ingestArgs.add("--kikonect.roles=api,scheduler");
      Process app = BenchSupport.startKiKonect(jar, heap, work.resolve("ingest.log"), ingestArgs);
      BenchSupport.waitForHealth(http, base, app, work.resolve("ingest.log"), Duration.ofSeconds(120));
      Thread sampler = Thread.ofPlatform().daemon(true).start(() -> sample(app));

      String pgbench = "/usr/lib/postgresql/15/bin/pgbench";
      if (!phases.contains("reference")) {
        System.out.println("pgbench reference skipped (--phases)");
      } else if (Files.isExecutable(Path.of(pgbench)) && Files.isExecutable(Path.of("/usr/bin/psql"))) {
        System.out.println("pgbench reference on KiKonect's own PostgreSQL...");
        psql(dbPort, "postgres", "DROP DATABASE IF EXISTS lim");
        psql(dbPort, "postgres", "CREATE DATABASE lim");
        run(List.of("/usr/bin/psql", "-q", "-h", "localhost", "-p", "" + dbPort, "-U", "postgres", "-f", "bench/pgbench/schema.sql", "lim"));
        pgIngest = tps(run(List.of(pgbench, "-n", "-h", "localhost", "-p", "" + dbPort, "-U", "postgres", "-f", "bench/pgbench/ingest.sql", "-c", "16", "-j", "2", "-T", "" + pgSeconds, "lim")));
        psql(dbPort, "lim", "TRUNCATE jobs, runs");
        run(List.of(pgbench, "-n", "-h", "localhost", "-p", "" + dbPort, "-U", "postgres", "-f", "bench/pgbench/ingest.sql@50", "-f", "bench/pgbench/claim_batch.sql@1",
            "-f", "bench/pgbench/complete_batch.sql@1", "-c", "16", "-j", "2", "-T", "" + (pgSeconds * 3 / 2), "lim"));
        pgLifecycle = Double.parseDouble(psql(dbPort, "lim", "SELECT count(*) FROM jobs WHERE status = 'succeeded'").strip()) / (pgSeconds * 3 / 2);
        psql(dbPort, "postgres", "DROP DATABASE lim");
      } else {
        System.out.println("No pgbench/psql (PostgreSQL 15 client tools) on this machine: the reference is skipped.");
      }

      if (phases.contains("ingest")) {
        String ingestToken = login(http, base);
        String ingestWorkflow = BenchSupport.post(http, base + "/workflows", ingestToken,
            "{\"name\":\"ingest\",\"trigger_type\":\"webhook\",\"action_url\":\"" + sinkBase + "/ignored\"}");
        String ingestHook = base + URI.create(BenchSupport.field(ingestWorkflow, "webhook_url")).getPath();
        System.out.println("Ingest, executor paused: closed loop, " + concurrency + " senders, " + ingestSeconds + " s...");
        // Warm-up (JIT), not measured.
        if (WRK != null) {
          wrk(ingestHook, concurrency, warmup, 9_000_000_000_000L);
        } else {
          closedLoop(http, ingestHook, concurrency, Duration.ofSeconds(5), new AtomicInteger(2_000_000_000), new ConcurrentHashMap<>());
        }
        if (WRK != null) {
          WrkResult r = wrk(ingestHook, concurrency, ingestSeconds, 5_000_000_000_000L);
          ingestRate = r.accepted() / r.seconds();
        } else {
          Map<Integer, Long> ingestAccepted = new ConcurrentHashMap<>();
          long t0 = System.nanoTime();
          closedLoop(http, ingestHook, concurrency, Duration.ofSeconds(ingestSeconds), new AtomicInteger(), ingestAccepted);
          ingestRate = ingestAccepted.size() / ((System.nanoTime() - t0) / 1e9);
        }
        // Drop the queued ingest runs (deleting the workflow takes its runs and jobs), so phase 2 starts empty.
        long id = BenchSupport.json(ingestWorkflow).path("id").asLong();
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/workflows/" + id)).header("Authorization", "Bearer " + ingestToken).DELETE().build(),
            HttpResponse.BodyHandlers.discarding());
      }
      app.destroy();
      app.waitFor();
      sampler.interrupt();
    }

    // Phase 2: the whole node. The queued ingest jobs are dropped first (their workflow is deleted).
    double e2eRate = Double.NaN;
    long acceptedCount = 0;
    long lost = 0;
    long[] latencies = new long[0];
    long[] pgLatency = new long[0];
    String serverP99 = "n/a";
    double slowSeconds = Double.NaN;
    int e2eSeconds = Integer.parseInt(opts.get("e2e-seconds"));
    int rate = Integer.parseInt(opts.get("rate"));
    double stepsRate = Double.NaN;
    long stepsAccepted = 0;
    long stepsLost = 0;
    double waitingRate = Double.NaN;
    double waitingBefore = Double.NaN;
    long waitingRuns = 0;
    long waitingLost = 0;
    double loopRate = Double.NaN;
    long loopRuns = 0;
    long loopLost = 0;
    long[] held = new long[0];
    long heldOther = 0;
    long heldErrors = 0;
    if (phases.contains("e2e") || phases.contains("steps") || phases.contains("loop") || phases.contains("waiting") || phases.contains("latency")
        || phases.contains("held") || phases.contains("slow")) {
      Process node = BenchSupport.startKiKonect(jar, heap, work.resolve("node.log"), common);
      BenchSupport.waitForHealth(http, base, node, work.resolve("node.log"), Duration.ofSeconds(120));
      Thread.ofPlatform().daemon(true).start(() -> sample(node));
      String token = login(http, base);
      if (System.getenv("KIKONECT_BENCH_DIAGNOSE") != null) {
        // PostgreSQL's own account of checkpoints and autovacuum, in node.log (kept), to line up with latency spikes.
        for (String setting : List.of("log_checkpoints = on", "log_autovacuum_min_duration = 0", "log_line_prefix = '%m '")) {
          psql(dbPort, "postgres", "ALTER SYSTEM SET " + setting);
        }
        psql(dbPort, "postgres", "SELECT pg_reload_conf()");
      }

      String fastHook = base + hookFor(http, base, token, sinkBase + "/fast");
      // Warm-up (JIT), not measured: 10 s, as for ingest (with 3 s the first 20 s measured ran at half speed).
      if (WRK != null) {
        wrk(fastHook, concurrency, warmup, 8_000_000_000_000L);
      } else {
        closedLoop(http, fastHook, concurrency, Duration.ofSeconds(warmup), new AtomicInteger(1_500_000_000), new ConcurrentHashMap<>());
      }
      waitQuiet(Duration.ofSeconds(30));
      if (phases.contains("e2e")) {
        System.out.println("End to end: closed loop, " + concurrency + " senders, " + e2eSeconds + " s...");
        received.clear();
        long e2eStart = System.nanoTime();
        if (WRK != null) {
          WrkResult r = wrk(fastHook, concurrency, e2eSeconds, 0);
          acceptedCount = r.accepted();
        } else {
          Map<Integer, Long> accepted = new ConcurrentHashMap<>();
          closedLoop(http, fastHook, concurrency, Duration.ofSeconds(e2eSeconds), new AtomicInteger(), accepted);
          acceptedCount = accepted.size();
        }
        long expected = acceptedCount;
        waitFor(() -> received.size() >= expected, Duration.ofSeconds(120));
        long lastReceived = received.values().stream().mapToLong(Long::longValue).max().orElse(System.nanoTime());
        e2eRate = received.size() / ((lastReceived - e2eStart) / 1e9);
        lost = Math.max(0, acceptedCount - received.size());
        // The rate per 10 s window shows whether the node slows down as its tables grow.
        long[] windows = new long[(int) ((lastReceived - e2eStart) / 10_000_000_000L) + 1];
        received.values().forEach(t -> windows[(int) Math.max(0, (t - e2eStart) / 10_000_000_000L)]++);
        System.out.println("  deliveries/s per 10 s window: " + java.util.Arrays.stream(windows).mapToObj(w -> Long.toString(w / 10)).toList());
      }

      if (phases.contains("steps")) {
        // Issue 13: a webhook workflow with a filter and three parallel steps with JSONata bodies. Each run is three
        // deliveries; the target compares deliveries per second with the single-step phase above.
        String stepsWorkflow =
            BenchSupport.post(http, base + "/workflows", token,
                """
                {"name":"suite steps","trigger_type":"webhook","filter":"payload.event = 'order.created' and payload.amount > 0",
                 "steps":[
                  {"key":"a","url":"SINK/step-a","body":"{ 'seq': payload.seq, 'step': 'a', 'amount': payload.amount / 100, 'event': $uppercase(payload.event) }"},
                  {"key":"b","url":"SINK/step-b","body":"{ 'seq': payload.seq, 'step': 'b', 'cents': payload.amount, 'at': run.created_at }"},
                  {"key":"c","url":"SINK/step-c","headers":{"X-Event":"{{ payload.event }}"},"body":"{ 'seq': payload.seq, 'step': 'c', 'workflow': workflow.name }"}]}
                """.replace("SINK", sinkBase));
        String stepsHook = base + URI.create(BenchSupport.field(stepsWorkflow, "webhook_url")).getPath();
        if (WRK != null) {
          wrk(stepsHook, concurrency, warmup, 7_000_000_000_000L);
        } else {
          closedLoop(http, stepsHook, concurrency, Duration.ofSeconds(warmup), new AtomicInteger(1_400_000_000), new ConcurrentHashMap<>());
        }
        waitQuiet(Duration.ofSeconds(30));
        System.out.println("Steps: closed loop, " + concurrency + " senders, " + e2eSeconds + " s, filter + 3 parallel JSONata steps...");
        stepReceived.clear();
        long stepsStart = System.nanoTime();
        if (WRK != null) {
          stepsAccepted = wrk(stepsHook, concurrency, e2eSeconds, 0).accepted();
        } else {
          Map<Integer, Long> accepted = new ConcurrentHashMap<>();
          closedLoop(http, stepsHook, concurrency, Duration.ofSeconds(e2eSeconds), new AtomicInteger(), accepted);
          stepsAccepted = accepted.size();
        }
        long expectedSteps = stepsAccepted * 3;
        waitFor(() -> stepReceived.size() >= expectedSteps, Duration.ofSeconds(180));
        long lastStep = stepReceived.values().stream().mapToLong(Long::longValue).max().orElse(System.nanoTime());
        stepsRate = stepReceived.size() / ((lastStep - stepsStart) / 1e9);
        stepsLost = Math.max(0, expectedSteps - stepReceived.size());
        System.out.printf("  %,d runs accepted, %,d step deliveries (%.0f/s, %.0f runs/s)%n", stepsAccepted, stepReceived.size(), stepsRate, stepsRate / 3);
      }

      if (phases.contains("loop")) {
        // Issue 24: a webhook workflow of one for_each step over 100 line items (default concurrency, 10 items of a run
        // in flight). A fixed batch of runs is sent at once (a closed loop of webhooks would queue far more items than
        // it measures); the figure is item deliveries per second from the first webhook to the last item, against the
        // single-step end-to-end rate.
        String loopWorkflow =
            BenchSupport.post(http, base + "/workflows", token,
                """
                {"name":"suite loop","trigger_type":"webhook",
                 "steps":[{"key":"lines","for_each":"payload.lines","url":"SINK/item",
                           "body":"{ 'seq': payload.seq, 'i': index, 'sku': item.sku, 'qty': item.qty }"}]}
                """.replace("SINK", sinkBase));
        String loopHook = base + URI.create(BenchSupport.field(loopWorkflow, "webhook_url")).getPath();
        StringBuilder lines = new StringBuilder("[");
        for (int i = 0; i < ITEMS; i++) {
          lines.append(i == 0 ? "" : ",").append("{\"sku\":\"SKU-").append(i).append("\",\"qty\":").append(i % 7 + 1).append('}');
        }
        String linesJson = lines.append(']').toString();
        int warmRuns = tiny ? 5 : 100;
        int runs = tiny ? 20 : 400;
        sendRuns(http, loopHook, linesJson, -warmRuns, warmRuns); // warm-up (JIT), not measured
        waitFor(() -> itemReceived.size() >= (long) warmRuns * ITEMS, Duration.ofSeconds(120));
        itemReceived.clear();
        System.out.println("Loop: " + runs + " runs of a for_each over " + ITEMS + " items, sent at once...");
        long loopStart = System.nanoTime();
        loopRuns = sendRuns(http, loopHook, linesJson, 0, runs);
        long expectedItems = loopRuns * ITEMS;
        waitFor(() -> itemReceived.size() >= expectedItems, Duration.ofSeconds(300));
        long lastItem = itemReceived.values().stream().mapToLong(Long::longValue).max().orElse(System.nanoTime());
        loopRate = itemReceived.size() / ((lastItem - loopStart) / 1e9);
        loopLost = Math.max(0, expectedItems - itemReceived.size());
        System.out.printf("  %,d runs accepted, %,d item deliveries (%.0f/s)%n", loopRuns, itemReceived.size(), loopRate);
      }

      if (phases.contains("waiting")) {
        // Issue 25: 100,000 runs waiting (a step with wait {for: delay, duration: P1D}) cost their rows only: the
        // end-to-end figure with them present, then the same once they are deleted (the JVM as warm in both: measured
        // before them, the figure was lower only because 100,000 webhooks warm the JIT further).
        int waiting = tiny ? 1_000 : 100_000;
        String waitWorkflow =
            BenchSupport.post(http, base + "/workflows", token,
                """
                {"name":"suite waiting","trigger_type":"webhook",
                 "steps":[{"key":"pause","wait":{"for":"delay","duration":"P1D"}},
                          {"key":"after","needs":["pause"],"url":"SINK/never"}]}
                """.replace("SINK", sinkBase));
        String waitHook = base + URI.create(BenchSupport.field(waitWorkflow, "webhook_url")).getPath();
        System.out.println("Waiting: " + waiting + " runs begin a 1-day wait...");
        long began = System.nanoTime();
        waitingRuns = sendRuns(http, waitHook, "[]", 10_000_000, waiting);
        long expectedWaiting = waitingRuns;
        long deadline = System.nanoTime() + Duration.ofSeconds(600).toNanos();
        while (System.nanoTime() < deadline
            && Long.parseLong(psql(dbPort, "postgres", "SELECT count(*) FROM jobs WHERE waited_until IS NOT NULL").strip()) < expectedWaiting) {
          Thread.sleep(1000); // once a second: psql is a process of its own
        }
        System.out.printf("  %,d runs waiting after %.0f s%n", waitingRuns, (System.nanoTime() - began) / 1e9);
        System.out.println("End to end with them waiting: closed loop, " + concurrency + " senders, " + e2eSeconds + " s...");
        waitingRate = e2eOnce(http, fastHook, concurrency, e2eSeconds, 6_000_000_000_000L, 1_000_000_000);
        waitingLost = lastLost;
        System.out.printf("  %.0f deliveries/s with %,d runs waiting%n", waitingRate, waitingRuns);
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/workflows/" + BenchSupport.json(waitWorkflow).path("id").asLong()))
                .header("Authorization", "Bearer " + token).DELETE().build(),
            HttpResponse.BodyHandlers.discarding()); // its runs and their jobs go with it
        waitingBefore = e2eOnce(http, fastHook, concurrency, e2eSeconds, 5_000_000_000_000L, 900_000_000);
        waitingLost += lastLost;
        System.out.printf("  %.0f deliveries/s once they are deleted%n", waitingBefore);
      }

      if (phases.contains("latency")) {
        System.out.println("Latency: open loop at " + rate + " req/s for " + latencySeconds + " s (after " + warmup + " s at that rate, not measured)...");
        openLoop(fastHook, rate, Duration.ofSeconds(warmup), new ConcurrentHashMap<>());
        waitQuiet(Duration.ofSeconds(30));
        received.clear();
        Map<Double, Long> serverBefore = runLatencyBuckets(http, base);
        Map<Integer, Long> latAccepted = new ConcurrentHashMap<>();
        openLoop(fastHook, rate, Duration.ofSeconds(latencySeconds), latAccepted);
        waitFor(() -> latAccepted.keySet().stream().allMatch(k -> received.containsKey((long) k)), Duration.ofSeconds(60));
        latencies =
            latAccepted.entrySet().stream()
                .filter(e -> received.containsKey((long) e.getKey()))
                .mapToLong(e -> Math.max(0, received.get((long) e.getKey()) - e.getValue()))
                .sorted()
                .toArray();
        long firstSent = latAccepted.values().stream().mapToLong(Long::longValue).min().orElse(0);
        // Keyed by wall-clock second (epoch), to line up with database and GC logs.
        long clockAtFirst = (System.currentTimeMillis() - (System.nanoTime() - firstSent) / 1_000_000L) / 1000;
        Map<Long, Long> slowPerSecond = new java.util.TreeMap<>();
        latAccepted.forEach(
            (k, sent) -> {
              Long got = received.get((long) k);
              if (got != null && got - sent > 25_000_000L) {
                slowPerSecond.merge((sent - firstSent) / 1_000_000_000L + clockAtFirst, 1L, Long::sum);
              }
            });
        Map<Double, Long> serverAfter = runLatencyBuckets(http, base);
        String metricsText = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher slowestCommit = Pattern.compile("kikonect_batch_write_seconds_max\\{batcher=\"kikonect-ingest\"[^}]*\\} ([0-9.eE+-]+)").matcher(metricsText);
        if (slowestCommit.find()) {
          System.out.printf("  longest ingest group commit (last 2 min): %.1f ms%n", Double.parseDouble(slowestCommit.group(1)) * 1000);
        }
        serverP99 = bucketQuantile(serverBefore, serverAfter, 0.99);
        System.out.printf(
            "  KiKonect's own view (kikonect_run_latency, run created -> delivered): p50 <= %s ms, p99 <= %s ms%n",
            bucketQuantile(serverBefore, serverAfter, 0.50), serverP99);
        System.out.printf(
            "  latency ms p50 %s, p90 %s, p99 %s, p99.9 %s, max %s; requests over 25 ms per second (epoch): %s%n",
            BenchSupport.ms(BenchSupport.percentile(latencies, 50)), BenchSupport.ms(BenchSupport.percentile(latencies, 90)),
            BenchSupport.ms(BenchSupport.percentile(latencies, 99)), BenchSupport.ms(BenchSupport.percentile(latencies, 99.9)),
            BenchSupport.ms(BenchSupport.percentile(latencies, 100)), slowPerSecond);
        pgLatency = pgbenchAtRate(dbPort, rate, tiny ? 3 : 20, work);
        if (pgLatency.length > 0) {
          System.out.printf(
              "  PostgreSQL alone at %d tx/s (pgbench, one ingest transaction each, same server, just after): commit p50 %s ms, p99 %s ms%n",
              rate, BenchSupport.ms(BenchSupport.percentile(pgLatency, 50)), BenchSupport.ms(BenchSupport.percentile(pgLatency, 99)));
        }
        if (System.getenv("KIKONECT_BENCH_DIAGNOSE") != null) {
          System.out.println(psql(dbPort, "postgres",
              "SELECT relname, extract(epoch FROM last_autovacuum)::bigint, extract(epoch FROM last_autoanalyze)::bigint,"
                  + " autovacuum_count, autoanalyze_count FROM pg_stat_user_tables WHERE autovacuum_count + autoanalyze_count > 0"));
          System.out.println(psql(dbPort, "postgres", "SELECT * FROM pg_stat_checkpointer"));
        }
      }

      if (phases.contains("held")) {
        System.out.println("Held answers: webhooks whose caller waits for a step's answer (respond.mode = step), open loop at "
            + HELD_RATE + " req/s for " + latencySeconds + " s (after " + warmup + " s at that rate, not measured)...");
        String workflow = BenchSupport.post(http, base + "/workflows", token,
            "{\"name\":\"held\",\"trigger_type\":\"webhook\",\"steps\":[{\"key\":\"answer\",\"url\":\"" + sinkBase + "/held\"}],"
                + "\"trigger_config\":{\"respond\":{\"mode\":\"step\",\"step\":\"answer\",\"timeout\":\"10s\"}}}");
        String heldHook = base + URI.create(BenchSupport.field(workflow, "webhook_url")).getPath();
        heldLoop(http, heldHook, HELD_RATE, Duration.ofSeconds(warmup), new ArrayList<>());
        waitQuiet(Duration.ofSeconds(30));
        List<long[]> answers = java.util.Collections.synchronizedList(new ArrayList<>());
        heldLoop(http, heldHook, HELD_RATE, Duration.ofSeconds(latencySeconds), answers);
        held = answers.stream().filter(a -> a[0] == 200).mapToLong(a -> a[1]).sorted().toArray();
        heldOther = answers.stream().filter(a -> a[0] != 200).count();
        heldErrors = answers.stream().filter(a -> a[0] != 200 && a[0] != 202).count();
        System.out.printf("  answered by the step: %d, the usual 202 (timeout or too many held at once): %d, errors: %d; ms p50 %s, p99 %s, max %s%n",
            held.length, heldOther - heldErrors, heldErrors, BenchSupport.ms(BenchSupport.percentile(held, 50)), BenchSupport.ms(BenchSupport.percentile(held, 99)),
            BenchSupport.ms(BenchSupport.percentile(held, 100)));
      }

      if (phases.contains("slow")) {
        System.out.println("Slow receiver: " + slowCount + " deliveries to a sink that answers after 2 s...");
        String slowHook = base + hookFor(http, base, token, sinkBase + "/slow");
        slowDone.set(0);
        Map<Integer, Long> slowAccepted = new ConcurrentHashMap<>();
        long slowStart = System.nanoTime();
        AtomicInteger slowSeq = new AtomicInteger();
        List<Thread> senders = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          senders.add(
              Thread.ofVirtual()
                  .start(
                      () -> {
                        int n;
                        while ((n = slowSeq.getAndIncrement()) < slowCount) {
                          post(http, slowHook, n, slowAccepted);
                        }
                      }));
        }
        for (Thread t : senders) {
          t.join();
        }
        waitFor(() -> slowDone.get() >= slowCount, Duration.ofSeconds(60));
        slowSeconds = (lastSlow - slowStart) / 1e9;
      }
      node.destroy();
      node.waitFor();
    }
    sink.close();
    if (System.getenv("KIKONECT_BENCH_DIAGNOSE") != null) {
      System.out.println("Logs kept in " + work);
    } else {
      BenchSupport.deleteRecursively(work);
    }

    Map<String, String[]> rows = new LinkedHashMap<>();
    rows.put("pgbench ingest (tx/s, 16 clients)", new String[] {fmt(pgIngest), "reference", ""});
    rows.put("pgbench whole lifecycle (jobs/s, batched)", new String[] {fmt(pgLifecycle), "reference", ""});
    rows.put("webhook ingest, durable 202, executor paused (req/s)", new String[] {fmt(ingestRate), ratio(ingestRate, pgIngest), ">= 4,000 and >= 75%"});
    rows.put("end-to-end deliveries, " + e2eSeconds + " s sustained (/s)", new String[] {fmt(e2eRate), ratio(e2eRate, pgLifecycle), ">= 2,000 and >= 65%"});
    rows.put("  accepted / lost / duplicates", new String[] {phases.contains("e2e") ? acceptedCount + " / " + lost + " / " + duplicates.get() : "n/a", "", "0 lost"});
    rows.put("three-step workflow (filter + 3 parallel JSONata steps), step deliveries, " + e2eSeconds + " s (/s)",
        new String[] {fmt(stepsRate), ratio(stepsRate, e2eRate) + " of end-to-end", ">= 75% of end-to-end"});
    rows.put("  runs accepted / step deliveries lost", new String[] {phases.contains("steps") ? stepsAccepted + " / " + stepsLost : "n/a", "", "0 lost"});
    rows.put("for_each over " + ITEMS + " items, item deliveries (/s)",
        new String[] {fmt(loopRate), ratio(loopRate, e2eRate) + " of end-to-end", ">= 75% of end-to-end"});
    rows.put("  runs accepted / item deliveries lost", new String[] {phases.contains("loop") ? loopRuns + " / " + loopLost : "n/a", "", "0 lost"});
    rows.put("end-to-end deliveries with " + (waitingRuns > 0 ? String.format("%,d", waitingRuns) : "100,000") + " runs waiting (/s)",
        new String[] {fmt(waitingRate), ratio(waitingRate, waitingBefore) + " of the same once they are deleted (" + fmt(waitingBefore) + "/s)", ">= 95%"});
    rows.put("  lost with runs waiting", new String[] {phases.contains("waiting") ? Long.toString(waitingLost) : "n/a", "", "0 lost"});
    rows.put("sent -> received p50 at " + rate + " req/s (ms)", new String[] {latencies.length == 0 ? "n/a" : BenchSupport.ms(BenchSupport.percentile(latencies, 50)), "", "<= 5"});
    rows.put("sent -> received p99 at " + rate + " req/s (ms)", new String[] {latencies.length == 0 ? "n/a" : BenchSupport.ms(BenchSupport.percentile(latencies, 99)), "", "<= 25"});
    rows.put("  the same p99 as KiKonect measures it, run created -> delivered (ms, histogram bucket)", new String[] {serverP99, "", ""});
    rows.put("  PostgreSQL alone at " + rate + " tx/s, commit p50 / p99 (ms; pgbench -R, same server, same sitting)",
        new String[] {pgLatency.length == 0 ? "n/a" : BenchSupport.ms(BenchSupport.percentile(pgLatency, 50)) + " / " + BenchSupport.ms(BenchSupport.percentile(pgLatency, 99)), "reference", ""});
    rows.put("held answer (respond.mode = step), request -> the step's answer, p50 / p99 at " + HELD_RATE + " req/s (ms)",
        new String[] {held.length == 0 ? "n/a" : BenchSupport.ms(BenchSupport.percentile(held, 50)) + " / " + BenchSupport.ms(BenchSupport.percentile(held, 99)), "", ""});
    rows.put("  answered by the step / the usual 202 / errors", new String[] {phases.contains("held") ? held.length + " / " + (heldOther - heldErrors) + " / " + heldErrors : "n/a", "", "0 errors"});
    rows.put(String.format("%,d deliveries to a 2 s receiver (s)", slowCount), new String[] {Double.isNaN(slowSeconds) ? "n/a" : String.format("%.1f", slowSeconds), "", "<= 4"});
    rows.put("KiKonect RSS, max (MB)", new String[] {Long.toString(maxRssKb.get() / 1024), "", "<= 400"});
    StringBuilder table = new StringBuilder("| figure | value | ratio to reference | target |\n|---|---|---|---|\n");
    rows.forEach((k, v) -> table.append("| ").append(k).append(" | ").append(v[0]).append(" | ").append(v[1]).append(" | ").append(v[2]).append(" |\n"));
    String report =
        "# KiKonect performance suite " + LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME) + "\n\n"
            + BenchSupport.machine() + "\n\nSettings: KiKonect -Xmx" + heap + " on embedded PostgreSQL 18 (fsync and"
            + " synchronous_commit on); pgbench 15 against that same server; load generator: "
            + (WRK != null ? "wrk (2 threads, " + concurrency + " connections) for throughput" : "JDK HttpClient (" + concurrency + " senders) for throughput")
            + ", open loop for latency on 32 keep-alive connections (bench/LeanHttp.java, also the receiver); receiver, KiKonect and PostgreSQL all on this machine\n\n"
            + table;
    System.out.println();
    System.out.println(report);
    if (tiny) {
      List<String> insane = new ArrayList<>();
      if (!(ingestRate > 0)) insane.add("no ingest rate");
      if (!(e2eRate > 0)) insane.add("no end-to-end rate");
      if (acceptedCount == 0) insane.add("nothing accepted end to end");
      if (lost > 0) insane.add(lost + " accepted webhooks never delivered");
      if (stepsAccepted == 0) insane.add("nothing accepted in the steps phase");
      if (stepsLost > 0) insane.add(stepsLost + " step deliveries of accepted runs never made");
      if (loopRuns == 0) insane.add("nothing accepted in the loop phase");
      if (loopLost > 0) insane.add(loopLost + " item deliveries of accepted runs never made");
      if (waitingRuns == 0) insane.add("no run waiting in the waiting phase");
      if (waitingLost > 0) insane.add(waitingLost + " deliveries lost with runs waiting");
      if (duplicates.get() > 0) insane.add(duplicates.get() + " duplicate deliveries");
      if (latencies.length == 0) insane.add("no latency measured");
      if (held.length == 0) insane.add("no held answer measured");
      // A 202 is the designed answer past 20 held callers of one workspace (a pause on a loaded machine): judged as a
      // share; an error never.
      if (heldErrors > 0) insane.add(heldErrors + " held webhooks answered with an error");
      if (heldOther * 10 > held.length + heldOther) insane.add(heldOther + " of " + (held.length + heldOther) + " held webhooks not answered by their step");
      if (slowDone.get() < slowCount) insane.add("only " + slowDone.get() + " of " + slowCount + " slow deliveries done");
      if (maxRssKb.get() == 0) insane.add("no RSS sampled");
      if (WRK != null && Files.isExecutable(Path.of("/usr/lib/postgresql/15/bin/pgbench")) && (pgLatency.length == 0 || !(pgIngest > 0)))
        insane.add("no pgbench reference");
      BenchSupport.verdict("bench/suite", insane);
    }
    if (!phases.containsAll(java.util.Set.of(ALL_PHASES.split(",")))) {
      System.out.println("(some phases only: not written to bench/results)");
    } else {
      Path results = Path.of("bench", "results");
      Files.createDirectories(results);
      Path out = results.resolve("suite-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + ".md");
      Files.writeString(out, report);
      System.out.println("Written to " + out);
    }
    System.exit(0);
  }

  /**
   * PostgreSQL's own commit latency at the latency phase's fixed rate: pgbench runs one ingest transaction (the same
   * as bench/pgbench/ingest.sql) {@code rate} times a second for 20 s against KiKonect's database server, with a
   * per-transaction log. Returns each transaction's latency from its scheduled start (pgbench's time plus its schedule
   * lag), in nanoseconds, sorted; empty without pgbench. On a virtual disk this moves from one minute to the next
   * (fsync stalls), so KiKonect's latency is judged next to it.
   */
  static long[] pgbenchAtRate(int dbPort, int rate, int seconds, Path work) throws Exception {
    String pgbench = "/usr/lib/postgresql/15/bin/pgbench";
    if (!Files.isExecutable(Path.of(pgbench)) || !Files.isExecutable(Path.of("/usr/bin/psql"))) {
      System.out.println("  (no pgbench: PostgreSQL's own latency reference is skipped)");
      return new long[0];
    }
    psql(dbPort, "postgres", "DROP DATABASE IF EXISTS lat");
    psql(dbPort, "postgres", "CREATE DATABASE lat");
    run(List.of("/usr/bin/psql", "-q", "-h", "localhost", "-p", "" + dbPort, "-U", "postgres", "-f", "bench/pgbench/schema.sql", "lat"));
    Path logs = Files.createDirectories(work.resolve("pgbench-latency"));
    run(List.of(pgbench, "-n", "-h", "localhost", "-p", "" + dbPort, "-U", "postgres", "-f", "bench/pgbench/ingest.sql", "-c", "8", "-j", "2",
        "-R", "" + rate, "-T", "" + seconds, "-l", "--log-prefix=" + logs.resolve("tx"), "lat"));
    psql(dbPort, "postgres", "DROP DATABASE lat");
    List<Long> values = new ArrayList<>();
    try (var files = Files.list(logs)) {
      for (Path f : files.toList()) {
        for (String line : Files.readAllLines(f)) {
          // client_id transaction_no time_us script_no time_epoch time_us_part [schedule_lag_us]
          String[] p = line.trim().split("\\s+");
          if (p.length >= 7) {
            values.add((Long.parseLong(p[2]) + Long.parseLong(p[6])) * 1000L);
          } else if (p.length >= 3) {
            values.add(Long.parseLong(p[2]) * 1000L);
          }
        }
      }
    }
    return values.stream().mapToLong(Long::longValue).sorted().toArray();
  }

  /** Cumulative counts of KiKonect's run latency histogram (succeeded runs), by upper bound in seconds. */
  static Map<Double, Long> runLatencyBuckets(HttpClient http, String base) throws Exception {
    String text = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    Matcher m = Pattern.compile("kikonect_run_latency_seconds_bucket\\{[^}]*le=\"([^\"]+)\"[^}]*outcome=\"succeeded\"[^}]*\\} ([0-9.eE+]+)"
            + "|kikonect_run_latency_seconds_bucket\\{[^}]*outcome=\"succeeded\"[^}]*le=\"([^\"]+)\"[^}]*\\} ([0-9.eE+]+)").matcher(text);
    Map<Double, Long> buckets = new java.util.TreeMap<>();
    while (m.find()) {
      String le = m.group(1) != null ? m.group(1) : m.group(3);
      String count = m.group(1) != null ? m.group(2) : m.group(4);
      buckets.put(le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le), (long) Double.parseDouble(count));
    }
    return buckets;
  }

  /** The upper bound (ms) of the bucket holding quantile {@code q} of what was recorded between two snapshots. */
  static String bucketQuantile(Map<Double, Long> before, Map<Double, Long> after, double q) {
    long total = after.getOrDefault(Double.POSITIVE_INFINITY, 0L) - before.getOrDefault(Double.POSITIVE_INFINITY, 0L);
    if (total <= 0) {
      return "n/a";
    }
    for (Map.Entry<Double, Long> e : after.entrySet()) {
      if (e.getValue() - before.getOrDefault(e.getKey(), 0L) >= q * total) {
        return e.getKey().isInfinite() ? "inf" : String.format("%.1f", e.getKey() * 1000);
      }
    }
    return "n/a";
  }

  /**
   * Open loop for held answers: a POST every 1/{@code rate} s for {@code duration}, each on its own virtual thread;
   * adds {status, ns from its scheduled start to the whole answer} per request to {@code out} (scheduled start, not
   * the send: a late sender does not hide the wait, no coordinated omission). Waits for every answer (60 s at most).
   */
  static void heldLoop(HttpClient http, String hook, int rate, Duration duration, List<long[]> out) throws Exception {
    long interval = 1_000_000_000L / rate;
    long count = duration.toSeconds() * rate;
    long start = System.nanoTime();
    List<Thread> senders = new ArrayList<>();
    for (long i = 0; i < count; i++) {
      long due = start + i * interval;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        java.util.concurrent.locks.LockSupport.parkNanos(wait);
      }
      long n = i;
      senders.add(Thread.ofVirtual().start(() -> {
        try {
          HttpResponse<byte[]> r = http.send(
              HttpRequest.newBuilder(URI.create(hook)).timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"seq\":" + n + "}")).build(),
              HttpResponse.BodyHandlers.ofByteArray());
          out.add(new long[] {r.statusCode(), System.nanoTime() - due});
        } catch (Exception e) {
          out.add(new long[] {-1, System.nanoTime() - due});
        }
      }));
    }
    long deadline = System.nanoTime() + 60_000_000_000L;
    for (Thread t : senders) {
      t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
    }
  }

  /** wrk (a C load generator: far less CPU than the JDK client) for the closed-loop phases, when installed. */
  static final String WRK = Files.isExecutable(Path.of("/usr/bin/wrk")) ? "/usr/bin/wrk" : null;

  record WrkResult(long sent, long non2xx, double seconds) {
    long accepted() {
      return sent - non2xx;
    }
  }

  /** Runs wrk for {@code seconds} with unique seq numbers in the bodies (thread id * 1e9 + counter). */
  static WrkResult wrk(String url, int connections, int seconds, long seqBase) throws Exception {
    Path script = Files.createTempFile("kikonect-wrk-", ".lua");
    Files.writeString(
        script,
        """
        wrk.method = "POST"
        wrk.headers["Content-Type"] = "application/json"
        local tid = 0
        function setup(thread) thread:set("id", tid); tid = tid + 1 end
        function init(args) counter = 0 end
        function request()
          counter = counter + 1
          return wrk.format(nil, nil, nil, string.format('{"seq":%d,"event":"order.created","amount":4200}', BASE + id * 1000000000 + counter))
        end
        """
            .replace("BASE", Long.toString(seqBase)));
    String out = run(List.of(WRK, "-t2", "-c" + connections, "-d" + seconds + "s", "-s", script.toString(), url));
    Files.delete(script);
    Matcher total = Pattern.compile("(\\d+) requests in ([0-9.]+)(ms|s|m)").matcher(out);
    Matcher non2xx = Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(out);
    if (!total.find()) {
      throw new IllegalStateException("cannot read wrk output: " + out);
    }
    double secs =
        Double.parseDouble(total.group(2)) * switch (total.group(3)) {
          case "ms" -> 0.001;
          case "m" -> 60.0;
          default -> 1.0;
        };
    return new WrkResult(Long.parseLong(total.group(1)), non2xx.find() ? Long.parseLong(non2xx.group(1)) : 0, secs);
  }

  static String fmt(double v) {
    return Double.isNaN(v) ? "n/a" : String.format("%,.0f", v);
  }

  static String ratio(double v, double reference) {
    return Double.isNaN(reference) ? "n/a" : String.format("%.0f%%", 100 * v / reference);
  }

  static void sample(Process p) {
    while (p.isAlive()) {
      maxRssKb.accumulateAndGet(BenchSupport.rssKb(p.pid()), Math::max);
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  interface Check {
    boolean ok();
  }

  static void waitFor(Check check, Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    while (!check.ok() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
  }

  static void waitQuiet(Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    int last = -1;
    while (System.nanoTime() < deadline) {
      int now = received.size();
      if (now == last) {
        return;
      }
      last = now;
      Thread.sleep(1000);
    }
  }

  /** Sends one webhook; if it got its 202, records when it was SENT (so latency includes ingest: conservative). */
  static void post(HttpClient http, String hook, int n, Map<Integer, Long> accepted) {
    long sent = System.nanoTime();
    try {
      HttpResponse<Void> r =
          http.send(
              HttpRequest.newBuilder(URI.create(hook))
                  .timeout(Duration.ofSeconds(30))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"seq\":" + n + ",\"event\":\"order.created\",\"amount\":4200}"))
                  .build(),
              HttpResponse.BodyHandlers.discarding());
      if (r.statusCode() == 202) {
        accepted.put(n, sent);
      }
    } catch (IOException | InterruptedException e) {
      // not accepted
    }
  }

  static void closedLoop(HttpClient http, String hook, int senders, Duration duration, AtomicInteger seq, Map<Integer, Long> accepted)
      throws InterruptedException {
    long deadline = System.nanoTime() + duration.toNanos();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < senders; i++) {
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    while (System.nanoTime() < deadline) {
                      post(http, hook, seq.getAndIncrement(), accepted);
                    }
                  }));
    }
    for (Thread t : threads) {
      t.join();
    }
  }

  /** Sends at a fixed rate whatever the server does, so that slow answers show up as latency, not as fewer sends. */
  /**
   * Open loop: a request is due every 1/rate s whatever happened to the earlier ones, and its latency counts from when
   * it was due (so a stalled server, or a stalled sender, cannot hide queueing). Sent on 32 keep-alive connections.
   */
  static void openLoop(String hook, int rate, Duration duration, Map<Integer, Long> accepted) throws InterruptedException {
    try (LeanHttp.Senders senders = new LeanHttp.Senders(32, URI.create(hook))) {
      AtomicInteger done = new AtomicInteger();
      long interval = 1_000_000_000L / rate;
      long start = System.nanoTime();
      long end = start + duration.toNanos();
      int n = 0;
      for (long next = start; next < end; next += interval) {
        long wait = next - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
        int seq = 1_000_000 + n++;
        long due = next;
        senders.submit(
            connection -> {
              try {
                if (connection.post("{\"seq\":" + seq + ",\"event\":\"order.created\",\"amount\":4200}") == 202) {
                  accepted.put(seq, due);
                }
              } catch (IOException e) {
                // not accepted
              } finally {
                done.incrementAndGet();
              }
            });
      }
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (done.get() < n && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
    }
  }


  static String login(HttpClient http, String base) throws Exception {
    String email = "suite-" + System.nanoTime() + "@example.com";
    BenchSupport.post(http, base + "/register", null, "{\"email\":\"" + email + "\",\"password\":\"benchmark-password\",\"firstname\":\"B\",\"lastname\":\"M\"}");
    return BenchSupport.field(BenchSupport.post(http, base + "/login", null, "{\"email\":\"" + email + "\",\"password\":\"benchmark-password\"}"), "token");
  }

  /** What the last {@link #e2eOnce} lost (accepted, never received). */
  static long lastLost;

  /** One closed-loop end-to-end measurement of {@code seconds} to {@code hook}: deliveries per second until the last. */
  static double e2eOnce(HttpClient http, String hook, int concurrency, int seconds, long wrkSeq, int closedSeq) throws Exception {
    received.clear();
    long start = System.nanoTime();
    long accepted;
    if (WRK != null) {
      accepted = wrk(hook, concurrency, seconds, wrkSeq).accepted();
    } else {
      Map<Integer, Long> acceptedRuns = new ConcurrentHashMap<>();
      closedLoop(http, hook, concurrency, Duration.ofSeconds(seconds), new AtomicInteger(closedSeq), acceptedRuns);
      accepted = acceptedRuns.size();
    }
    waitFor(() -> received.size() >= accepted, Duration.ofSeconds(120));
    long last = received.values().stream().mapToLong(Long::longValue).max().orElse(System.nanoTime());
    lastLost = Math.max(0, accepted - received.size());
    return received.size() / ((last - start) / 1e9);
  }

  /** Sends runs {@code from} .. {@code from + count - 1} of the loop phase (16 at a time); returns how many got a 202. */
  static long sendRuns(HttpClient http, String hook, String linesJson, int from, int count) throws InterruptedException {
    java.util.concurrent.Semaphore slots = new java.util.concurrent.Semaphore(16);
    AtomicInteger accepted = new AtomicInteger();
    try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int seq = from; seq < from + count; seq++) {
        slots.acquire();
        String body = "{\"seq\":" + seq + ",\"lines\":" + linesJson + "}";
        pool.execute(() -> {
          try {
            HttpResponse<Void> r = http.send(
                HttpRequest.newBuilder(URI.create(hook)).timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.discarding());
            if (r.statusCode() == 202) {
              accepted.incrementAndGet();
            }
          } catch (Exception e) {
            System.out.println("  loop webhook failed: " + e);
          } finally {
            slots.release();
          }
        });
      }
    }
    return accepted.get();
  }

  static String hookFor(HttpClient http, String base, String token, String actionUrl) throws Exception {
    String workflow = BenchSupport.post(http, base + "/workflows", token, "{\"name\":\"suite\",\"trigger_type\":\"webhook\",\"action_url\":\"" + actionUrl + "\"}");
    return URI.create(BenchSupport.field(workflow, "webhook_url")).getPath();
  }

  static String psql(int port, String db, String sql) throws Exception {
    return run(List.of("/usr/bin/psql", "-qAt", "-h", "localhost", "-p", "" + port, "-U", "postgres", "-c", sql, db));
  }

  static double tps(String output) {
    Matcher m = TPS.matcher(output);
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }

  static String run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException(command + " failed: " + out);
    }
    return out;
  }
}
