import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * History that never slows the queue (issue 26, stage 1): one node on its embedded PostgreSQL, end-to-end deliveries
 * with empty history, then with {@code --runs} (3,000,000) finished runs and their attempts in {@code --partitions}
 * (10) partitions, then latency at {@code --rate} (500) req/s while retention removes the oldest {@code --drop} (3)
 * partitions' runs (900,000). With {@code --old-jar} the same run on a build from before partitioning (0.2.0:
 * unpartitioned tables, retention deleting 1,000 rows at a time) beside it.
 *
 * <p>How the drop is started at a chosen moment: the oldest partitions' runs ended 100 days ago, but each of those
 * partitions holds one job (retention keeps a partition that still has a job); 10 s into the latency phase the bench
 * deletes those three jobs, and the node's retention, every 5 s here, drops the partitions at its next pass. The old
 * build has no such gate (its retention deletes rows whatever the jobs): its node is restarted just before the latency
 * phase, and its first retention pass, at start, deletes the 900,000 runs while the phase runs.
 */
public class History {

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = BenchSupport.options(args, "jar", "target/kikonect.jar", "old-jar", "", "heap", "256m", "runs", "3000000",
        "partitions", "10", "drop", "3", "e2e-seconds", "30", "concurrency", "64", "rate", "500", "latency-seconds", "20", "backlog", "0");
    if (Long.parseLong(opts.get("backlog")) > 0) {
      backlog(opts.get("jar"), opts.get("heap"), Long.parseLong(opts.get("backlog")));
      return;
    }
    long runs = Long.parseLong(opts.get("runs"));
    int partitions = Integer.parseInt(opts.get("partitions"));
    int drop = Integer.parseInt(opts.get("drop"));
    Map<String, Map<String, String>> results = new LinkedHashMap<>();
    results.put("partitioned (this build)", measure(opts.get("jar"), true, opts, runs, partitions, drop));
    if (!opts.get("old-jar").isEmpty()) {
      results.put("unpartitioned (" + Path.of(opts.get("old-jar")).getFileName() + ")", measure(opts.get("old-jar"), false, opts, runs, partitions, drop));
    }
    StringBuilder report = new StringBuilder();
    report.append("# bench/history ").append(Instant.now()).append("\n\n")
        .append(BenchSupport.machine()).append("\n\n")
        .append(String.format("%,d finished runs (one attempt each) in %d partitions of %,d; %d senders closed loop for %s s; latency open loop at %s req/s "
            + "for %s s while retention removes %,d runs; -Xmx%s; receiver, KiKonect and PostgreSQL on this machine.%n%n",
            runs, partitions, runs / partitions, Integer.parseInt(opts.get("concurrency")), opts.get("e2e-seconds"), opts.get("rate"),
            opts.get("latency-seconds"), runs / partitions * drop, opts.get("heap")));
    List<String> rows = new ArrayList<>(results.values().iterator().next().keySet());
    report.append("| figure | ").append(String.join(" | ", results.keySet())).append(" |\n|---|");
    results.keySet().forEach(k -> report.append("---|"));
    report.append("\n");
    for (String row : rows) {
      report.append("| ").append(row).append(" | ");
      for (Map<String, String> r : results.values()) {
        report.append(r.getOrDefault(row, "n/a")).append(" | ");
      }
      report.append("\n");
    }
    System.out.println();
    System.out.println(report);
    Path out = Path.of("bench/results/history-" + java.time.LocalDate.now() + "-" + System.currentTimeMillis() / 1000 + ".md");
    Files.writeString(out, report.toString());
    System.out.println("Written to " + out);
  }

  static Map<String, String> measure(String jar, boolean partitioned, Map<String, String> opts, long runs, int partitions, int drop) throws Exception {
    System.out.println("== " + jar + (partitioned ? " (partitioned)" : " (unpartitioned)"));
    Map<String, String> figures = new LinkedHashMap<>();
    int concurrency = Integer.parseInt(opts.get("concurrency"));
    int e2eSeconds = Integer.parseInt(opts.get("e2e-seconds"));
    int rate = Integer.parseInt(opts.get("rate"));
    int latencySeconds = Integer.parseInt(opts.get("latency-seconds"));
    long perPartition = runs / partitions;
    Path work = Files.createTempDirectory("kikonect-history-");
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    LeanHttp.Sink sink = new LeanHttp.Sink(request -> {
      long now = System.nanoTime();
      var seq = BenchSupport.json(request.body()).path("seq");
      if (seq.isNumber() && Suite.received.putIfAbsent(seq.asLong(), now) != null) {
        Suite.duplicates.incrementAndGet();
      }
    });
    int dbPort = BenchSupport.freePort();
    int port = BenchSupport.freePort();
    String base = "http://127.0.0.1:" + port;
    List<String> common = new ArrayList<>(List.of("--server.port=" + port, "--kikonect.data-dir=" + work.resolve("data"),
        "--kikonect.embedded-db-port=" + dbPort, "--kikonect.delivery.allowed-cidrs=127.0.0.1/32", "--kikonect.hooks.rate-limit=0",
        "--kikonect.quotas.runs-per-minute=0"));
    if (partitioned) {
      common.add("--kikonect.retention.partition-runs=" + perPartition);
      common.add("--kikonect.retention.interval=5s");
    } else {
      common.add("--kikonect.retention.interval=1h"); // its only pass that counts: at the restart before the latency phase
    }
    Process node = BenchSupport.startKiKonect(jar, opts.get("heap"), work.resolve("node.log"), common);
    try {
      BenchSupport.waitForHealth(http, base, node, work.resolve("node.log"), Duration.ofSeconds(120));
      String token = Suite.login(http, base);
      String hook = base + Suite.hookFor(http, base, token, "http://127.0.0.1:" + sink.port() + "/fast");
      long workflow = Long.parseLong(Suite.psql(dbPort, "postgres", "SELECT max(id) FROM workflows").strip());
      long workspace = Long.parseLong(Suite.psql(dbPort, "postgres", "SELECT workspace_id FROM workflows WHERE id = " + workflow).strip());

      System.out.println("Warm-up, then end to end with empty history: " + concurrency + " senders, " + e2eSeconds + " s...");
      Suite.e2eOnce(http, hook, concurrency, 30, 8_000_000_000_000L, 1_500_000_000);
      Suite.waitQuiet(Duration.ofSeconds(30));
      double empty = Suite.e2eOnce(http, hook, concurrency, e2eSeconds, 0, 0);
      long emptyLost = Suite.lastLost;
      System.out.printf("  %.0f deliveries/s, %d lost%n", empty, emptyLost);

      // The warm-up's and this phase's runs go, so that the history below is the oldest (retention reads partitions
      // oldest first and stops at the first one with a run within its retention).
      Suite.psql(dbPort, "postgres", "DELETE FROM workflow_runs");
      System.out.printf("Loading %,d finished runs with one attempt each...%n", runs);
      long loadStart = System.nanoTime();
      List<Long> gates = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        if (partitioned) {
          startPartition(dbPort, perPartition);
        }
        int daysAgo = p < drop ? 100 : 1;
        String gate = Suite.psql(dbPort, "postgres", """
            WITH run AS (
              INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, attempts, created_at, started_at, ended_at)
              SELECT %d, %d, 'succeeded', 'webhook', json_build_object('seq', g, 'event', 'order.created', 'amount', 4200), 1,
                     now() - interval '%d days', now() - interval '%d days', now() - interval '%d days'
                FROM generate_series(1, %d) g
              RETURNING id, started_at
            ), attempt AS (
              INSERT INTO attempts (run_id, number, started_at, duration_ms, response_status, response_headers, response_body)
              SELECT id, 1, started_at, 3, 200, '{"content-type": "text/plain"}', 'ok' FROM run
            ), gate AS (
              -- in the same statement: a partition with a job is kept (the old build deletes runs whatever their jobs)
              INSERT INTO jobs (run_id, workflow_id, status, run_at, created_at)
              SELECT min(id), %d, 'failed', now() + interval '1 year', now() FROM run HAVING %b
              RETURNING id
            )
            SELECT coalesce((SELECT id FROM gate), 0)""".formatted(workflow, workspace, daysAgo, daysAgo, daysAgo, perPartition, workflow, p < drop)).strip();
        if (p < drop) {
          gates.add(Long.parseLong(gate));
        }
        System.out.printf("  partition %d of %d loaded (%.0f s)%n", p + 1, partitions, (System.nanoTime() - loadStart) / 1e9);
      }
      if (partitioned) {
        startPartition(dbPort, perPartition);
      }
      long firstAfterLoad = Long.parseLong(Suite.psql(dbPort, "postgres",
          "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('workflow_runs', 'id')::regclass) + 1, 1)").strip());
      Suite.psql(dbPort, "postgres", "VACUUM ANALYZE");
      Suite.psql(dbPort, "postgres", "CHECKPOINT");
      figures.put("history loaded (runs, with their attempts)", String.format("%,d in %.0f s", runs, (System.nanoTime() - loadStart) / 1e9));
      figures.put("history partitions (workflow_runs)", Suite.psql(dbPort, "postgres",
          "SELECT count(*) FROM pg_inherits WHERE inhparent = 'workflow_runs'::regclass").strip());
      figures.put("database size", Suite.psql(dbPort, "postgres", "SELECT pg_size_pretty(pg_database_size('postgres'))").strip());

      System.out.println("End to end with that history...");
      Suite.e2eOnce(http, hook, concurrency, 10, 7_000_000_000_000L, 1_400_000_000);
      Suite.waitQuiet(Duration.ofSeconds(30));
      double full = Suite.e2eOnce(http, hook, concurrency, e2eSeconds, 6_000_000_000_000L, 1_000_000_000);
      long fullLost = Suite.lastLost;
      System.out.printf("  %.0f deliveries/s, %d lost%n", full, fullLost);
      figures.put("end-to-end deliveries/s, empty history", String.format("%.0f (%d lost)", empty, emptyLost));
      figures.put("end-to-end deliveries/s, with the history", String.format("%.0f (%d lost)", full, fullLost));
      figures.put("with history / empty", String.format("%.0f %%", 100 * full / empty));
      if (partitioned) {
        // The first two figures are minutes apart on a node that was still warming up (they ranged from 86 % to
        // 131 %): measure both again on the warm node, history detached then attached back (CONCURRENTLY; renamed
        // meanwhile, so that retention does not take them for an unfinished drop), and report the sums.
        List<String[]> history = historyPartitions(dbPort, firstAfterLoad);
        for (String[] h : history) {
          Suite.psql(dbPort, "postgres", "ALTER TABLE " + h[0] + " DETACH PARTITION " + h[1] + " CONCURRENTLY");
          Suite.psql(dbPort, "postgres", "ALTER TABLE " + h[1] + " RENAME TO bench_" + h[1]);
        }
        System.out.println("End to end with the history detached (" + history.size() + " partitions)...");
        Suite.waitQuiet(Duration.ofSeconds(30));
        double empty2 = Suite.e2eOnce(http, hook, concurrency, e2eSeconds, 6_500_000_000_000L, 1_100_000_000);
        long empty2Lost = Suite.lastLost;
        System.out.printf("  %.0f deliveries/s, %d lost%n", empty2, empty2Lost);
        for (String[] h : history) {
          Suite.psql(dbPort, "postgres", "ALTER TABLE bench_" + h[1] + " RENAME TO " + h[1]);
          Suite.psql(dbPort, "postgres", "ALTER TABLE " + h[0] + " ATTACH PARTITION " + h[1] + " " + h[2]);
        }
        System.out.println("End to end with the history attached again...");
        Suite.waitQuiet(Duration.ofSeconds(30));
        double full2 = Suite.e2eOnce(http, hook, concurrency, e2eSeconds, 6_600_000_000_000L, 1_200_000_000);
        long full2Lost = Suite.lastLost;
        System.out.printf("  %.0f deliveries/s, %d lost%n", full2, full2Lost);
        figures.put("end-to-end deliveries/s, history detached then attached again (warm node)",
            String.format("%.0f then %.0f (%d and %d lost)", empty2, full2, empty2Lost, full2Lost));
        figures.put("with history / empty, both pairs summed", String.format("%.0f %%", 100 * (full + full2) / (empty + empty2)));
      }

      System.out.println("Latency at " + rate + " req/s for " + latencySeconds + " s with the history, nothing removed (after 10 s at that rate)...");
      Suite.openLoop(hook, rate, Duration.ofSeconds(10), new ConcurrentHashMap<>());
      Suite.waitQuiet(Duration.ofSeconds(30));
      Suite.received.clear();
      Map<Integer, Long> quiet = new ConcurrentHashMap<>();
      Suite.openLoop(hook, rate, Duration.ofSeconds(latencySeconds), quiet);
      figures.put("latency at " + rate + " req/s with the history, p50 / p99 / max (ms)", latency(quiet));

      if (!partitioned) {
        // the old build's retention runs at start: restart the node so that its first pass is the one measured
        node.destroy();
        node.waitFor();
        node = BenchSupport.startKiKonect(jar, opts.get("heap"), work.resolve("node-2.log"), common);
        BenchSupport.waitForHealth(http, base, node, work.resolve("node-2.log"), Duration.ofSeconds(120));
      }
      System.out.println("Latency at " + rate + " req/s for " + latencySeconds + " s while retention removes the oldest " + drop + " partitions' runs...");
      Suite.received.clear();
      Map<Integer, Long> accepted = new ConcurrentHashMap<>();
      long phaseStart = System.currentTimeMillis();
      Thread release = Thread.ofPlatform().start(() -> {
        try {
          Thread.sleep(5_000);
          if (!gates.isEmpty()) {
            Suite.psql(dbPort, "postgres", "DELETE FROM jobs WHERE id IN (" + gates.stream().map(String::valueOf).reduce((a, b) -> a + "," + b).orElseThrow() + ")");
            System.out.println("  gates released at +" + (System.currentTimeMillis() - phaseStart) / 1000 + " s");
          }
        } catch (Exception e) {
          System.out.println("  releasing the gates failed: " + e);
        }
      });
      Suite.openLoop(hook, rate, Duration.ofSeconds(latencySeconds), accepted);
      release.join();
      long phaseEnd = System.currentTimeMillis();
      figures.put("latency at " + rate + " req/s during the removal, p50 / p99 / max (ms)", latency(accepted));
      figures.put("runs left after the phase", String.format("%,d", Long.parseLong(Suite.psql(dbPort, "postgres", "SELECT count(*) FROM workflow_runs").strip())));

      // When the removal ran and how long it took, from the node's own log line.
      String log = Files.readString(work.resolve(partitioned ? "node.log" : "node-2.log"));
      Matcher dropped = Pattern.compile("(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d+\\S*).*Retention dropped (\\d+) history partition\\(s\\), (\\d+) runs, in (\\d+) ms").matcher(log);
      Matcher removed = Pattern.compile("(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d+\\S*).*Retention removed (\\d+) finished runs").matcher(log);
      String[] last = null; // the last pass that dropped runs (empty partitions are dropped earlier, with 0 runs)
      while (dropped.find()) {
        if (!dropped.group(3).equals("0")) {
          last = new String[] {dropped.group(1), dropped.group(2), dropped.group(3), dropped.group(4)};
        }
      }
      if (last != null) {
        figures.put("retention's removal of the old runs", String.format("%s partitions, %,d runs, in %s ms (at +%d s of the phase)", last[1],
            Long.parseLong(last[2]), last[3], (java.time.OffsetDateTime.parse(last[0]).toInstant().toEpochMilli() - phaseStart) / 1000));
      } else if (removed.find()) {
        figures.put("retention's removal of the old runs", String.format("%,d runs deleted, done at +%d s of the phase (began at the node's start, before the phase)",
            Long.parseLong(removed.group(2)), (java.time.OffsetDateTime.parse(removed.group(1)).toInstant().toEpochMilli() - phaseStart) / 1000));
      } else {
        figures.put("retention's removal of the old runs", "not finished within the phase (" + (phaseEnd - phaseStart) / 1000 + " s)");
      }
      figures.put("RSS after (MB)", String.valueOf(BenchSupport.rssKb(node.pid()) / 1024));
      // the worst latency per second of the phase, to line up with the node's retention lines below
      Map<Long, Long> worst = new java.util.TreeMap<>();
      long firstDue = accepted.values().stream().mapToLong(Long::longValue).min().orElse(0);
      accepted.forEach((k, due) -> {
        Long got = Suite.received.get((long) k);
        if (got != null) {
          worst.merge((due - firstDue) / 1_000_000_000L, (got - due) / 1_000_000L, Math::max);
        }
      });
      System.out.println("  worst latency (ms) per second of the phase: " + worst.values());
      log.lines().filter(l -> l.contains("Retention") || l.contains("partition") || l.contains("WARN") || l.contains("ERROR"))
          .limit(40).forEach(l -> System.out.println("  node: " + l));
    } finally {
      node.destroy();
      node.waitFor();
      sink.close();
      BenchSupport.deleteRecursively(work);
    }
    return figures;
  }

  /**
   * --backlog=N: N runs queued by SQL (one-step, due now) while the node runs without its executor, then the node
   * restarted with every role: how fast it drains them (deliveries per second per 10 s and overall) and its RSS
   * every 10 s.
   */
  static void backlog(String jar, String heap, long n) throws Exception {
    Path work = Files.createTempDirectory("kikonect-backlog-");
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    java.util.concurrent.atomic.AtomicLong delivered = new java.util.concurrent.atomic.AtomicLong();
    LeanHttp.Sink sink = new LeanHttp.Sink(request -> delivered.incrementAndGet());
    int dbPort = BenchSupport.freePort();
    int port = BenchSupport.freePort();
    String base = "http://127.0.0.1:" + port;
    List<String> common = new ArrayList<>(List.of("--server.port=" + port, "--kikonect.data-dir=" + work.resolve("data"),
        "--kikonect.embedded-db-port=" + dbPort, "--kikonect.delivery.allowed-cidrs=127.0.0.1/32", "--kikonect.hooks.rate-limit=0",
        "--kikonect.quotas.runs-per-minute=0"));
    List<String> apiOnly = new ArrayList<>(common);
    apiOnly.add("--kikonect.roles=api,scheduler");
    Process node = BenchSupport.startKiKonect(jar, heap, work.resolve("node.log"), apiOnly);
    StringBuilder report = new StringBuilder();
    try {
      BenchSupport.waitForHealth(http, base, node, work.resolve("node.log"), Duration.ofSeconds(120));
      String token = Suite.login(http, base);
      Suite.hookFor(http, base, token, "http://127.0.0.1:" + sink.port() + "/fast");
      long workflow = Long.parseLong(Suite.psql(dbPort, "postgres", "SELECT max(id) FROM workflows").strip());
      long workspace = Long.parseLong(Suite.psql(dbPort, "postgres", "SELECT workspace_id FROM workflows WHERE id = " + workflow).strip());
      System.out.printf("Queueing %,d runs by SQL, executor off...%n", n);
      long t0 = System.nanoTime();
      for (long done = 0; done < n; done += 100_000) {
        long chunk = Math.min(100_000, n - done);
        // the node keeps partitions ahead every 10 s: wait for room for this chunk
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
          long next = Long.parseLong(Suite.psql(dbPort, "postgres",
              "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('workflow_runs', 'id')::regclass) + 1, 1)").strip());
          List<Long> tops = tops(Suite.psql(dbPort, "postgres",
              "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'workflow_runs'::regclass"));
          if (!tops.isEmpty() && tops.getLast() > next + chunk) {
            break;
          }
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("no partition room for the backlog within 60 s");
          }
          Thread.sleep(500);
        }
        Suite.psql(dbPort, "postgres", """
            WITH run AS (
              INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, created_at)
              SELECT %d, %d, 'pending', 'webhook', json_build_object('seq', g, 'event', 'order.created', 'amount', 4200), now()
                FROM generate_series(%d, %d) g
              RETURNING id, workflow_id, created_at
            )
            INSERT INTO jobs (run_id, workflow_id, run_at, created_at) SELECT id, workflow_id, created_at, created_at FROM run
            """.formatted(workflow, workspace, done + 1, done + chunk));
      }
      Suite.psql(dbPort, "postgres", "VACUUM ANALYZE jobs");
      double queued = (System.nanoTime() - t0) / 1e9;
      node.destroy();
      node.waitFor();
      System.out.println("Draining with every role...");
      node = BenchSupport.startKiKonect(jar, heap, work.resolve("node-2.log"), common);
      long start = System.nanoTime();
      BenchSupport.waitForHealth(http, base, node, work.resolve("node-2.log"), Duration.ofSeconds(120));
      List<String> windows = new ArrayList<>();
      List<Long> rss = new ArrayList<>();
      long last = 0;
      while (delivered.get() < n && System.nanoTime() - start < 1_800_000_000_000L) {
        Thread.sleep(10_000);
        long now = delivered.get();
        windows.add(String.valueOf((now - last) / 10));
        rss.add(BenchSupport.rssKb(node.pid()) / 1024);
        System.out.printf("  +%.0f s: %,d delivered, %s/s, RSS %d MB%n", (System.nanoTime() - start) / 1e9, now, windows.getLast(), rss.getLast());
        last = now;
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      report.append("# bench/history --backlog ").append(Instant.now()).append("\n\n").append(BenchSupport.machine()).append("\n\n")
          .append(String.format("%,d one-step runs queued by SQL in %.0f s with the executor off (roles api,scheduler), then the node restarted "
              + "with every role (-Xmx%s, embedded PostgreSQL, receiver on this machine) and left to drain them.%n%n", n, queued, heap))
          .append(String.format("- delivered %,d of %,d in %.0f s from the start (JVM start included): **%.0f deliveries/s**%n", delivered.get(), n, seconds,
              delivered.get() / seconds))
          .append("- deliveries/s per 10 s: ").append(windows).append("\n")
          .append("- RSS (MB) every 10 s: ").append(rss).append("\n");
    } finally {
      node.destroy();
      node.waitFor();
      sink.close();
      BenchSupport.deleteRecursively(work);
    }
    System.out.println(report);
    Path out = Path.of("bench/results/backlog-" + java.time.LocalDate.now() + "-" + System.currentTimeMillis() / 1000 + ".md");
    Files.writeString(out, report.toString());
    System.out.println("Written to " + out);
  }

  /** p50 / p99 / max of an open-loop phase's latencies (sent -> received), after waiting for the last deliveries. */
  static String latency(Map<Integer, Long> accepted) throws InterruptedException {
    Suite.waitFor(() -> accepted.keySet().stream().allMatch(k -> Suite.received.containsKey((long) k)), Duration.ofSeconds(60));
    long[] latencies = accepted.entrySet().stream()
        .filter(e -> Suite.received.containsKey((long) e.getKey()))
        .mapToLong(e -> Math.max(0, Suite.received.get((long) e.getKey()) - e.getValue()))
        .sorted()
        .toArray();
    return String.format("%s / %s / %s (%d lost)", BenchSupport.ms(BenchSupport.percentile(latencies, 50)),
        BenchSupport.ms(BenchSupport.percentile(latencies, 99)), BenchSupport.ms(BenchSupport.percentile(latencies, 100)),
        accepted.size() - latencies.length);
  }

  /** The upper bounds of the partitions, from psql's lines of "FOR VALUES FROM (..) TO ('n')", lowest first. */
  static List<Long> tops(String lines) {
    Matcher m = Pattern.compile("TO \\('?(-?\\d+)'?\\)").matcher(lines);
    List<Long> tops = new ArrayList<>();
    while (m.find()) {
      tops.add(Long.parseLong(m.group(1)));
    }
    return tops.stream().sorted().toList();
  }

  /** The partitions of the three history tables wholly below run id {@code below}: parent, name, bound. */
  static List<String[]> historyPartitions(int dbPort, long below) throws Exception {
    List<String[]> found = new ArrayList<>();
    for (String line : Suite.psql(dbPort, "postgres", """
        SELECT i.inhparent::regclass || '|' || c.relname || '|' || pg_get_expr(c.relpartbound, c.oid)
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent IN ('workflow_runs'::regclass, 'attempts'::regclass, 'run_steps'::regclass)""").strip().split("\n")) {
      String[] h = line.split("\\|");
      List<Long> top = tops(h[2]);
      if (!top.isEmpty() && top.getFirst() <= below) {
        found.add(h);
      }
    }
    return found;
  }

  /** Moves the run-id sequence to the start of the next partition and waits until the node has made it and one more. */
  static void startPartition(int dbPort, long size) throws Exception {
    String bounds = """
        SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'workflow_runs'::regclass""";
    long next = Long.parseLong(Suite.psql(dbPort, "postgres",
        "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('workflow_runs', 'id')::regclass) + 1, 1)").strip());
    List<Long> tops = tops(Suite.psql(dbPort, "postgres", bounds));
    long start = tops.stream().filter(t -> t <= next).reduce((a, b) -> b).orElse(Long.MIN_VALUE);
    long from = next;
    if (start != next) {
      long end = tops.stream().filter(t -> t > next).findFirst().orElseThrow();
      Suite.psql(dbPort, "postgres", "SELECT setval(pg_get_serial_sequence('workflow_runs', 'id'), " + (end - 1) + ")");
      from = end;
    }
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      String out = Suite.psql(dbPort, "postgres", bounds);
      List<Long> now = tops(out);
      if (now.isEmpty()) {
        System.out.println("  (no partition bounds read: [" + out + "])");
        Thread.sleep(500);
        continue;
      }
      long top = now.getLast();
      if (top >= from + size) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the node made no partition for ids from " + from + " within 60 s");
      }
      Thread.sleep(500);
    }
  }
}
