import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** What the benchmark programs share: starting KiKonect, talking to it, describing the machine. */
final class BenchSupport {

  private BenchSupport() {}

  /**
   * Command-line options {@code --name=value} over defaults given as {@code "name", "value", ...}; an unknown name is
   * refused, so that a typo does not silently run with the default.
   */
  static java.util.Map<String, String> options(String[] args, String... defaults) {
    java.util.Map<String, String> opts = new java.util.LinkedHashMap<>();
    for (int i = 0; i + 1 < defaults.length; i += 2) {
      opts.put(defaults[i], defaults[i + 1]);
    }
    for (String arg : args) {
      String[] kv = arg.replaceFirst("^--", "").split("=", 2);
      if (!opts.containsKey(kv[0])) {
        throw new IllegalArgumentException("unknown option --" + kv[0] + "; known: " + opts.keySet());
      }
      opts.put(kv[0], kv.length > 1 ? kv[1] : "true");
    }
    return opts;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Starts the KiKonect jar with the JDK running this program; its output goes to {@code log}. */
  static Process startKiKonect(String jar, String heap, Path log, List<String> args) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // As ./kikonect runs it: a node out of memory exits rather than lingering with dead threads.
    List<String> command = new ArrayList<>(List.of(java, "-Xmx" + heap, "-XX:+ExitOnOutOfMemoryError"));
    String extra = System.getenv("KIKONECT_BENCH_JVM_ARGS"); // e.g. a JFR recording for profiling
    if (extra != null && !extra.isBlank()) {
      command.addAll(List.of(extra.trim().split("\\s+")));
    }
    command.addAll(launch(jar));
    command.addAll(args);
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Runtime.getRuntime().addShutdownHook(new Thread(process::destroy));
    return process;
  }

  /**
   * How to run {@code jar}: the project's own target/kikonect.jar as ./kikonect runs it (extracted to target/app with
   * the AOT cache from its training start, when that is current: half the start-up of every node a benchmark starts),
   * any other jar (an older build to compare with) as it is.
   */
  static List<String> launch(String jar) {
    Path given = Path.of(jar).toAbsolutePath().normalize();
    Path own = Path.of("target/kikonect.jar").toAbsolutePath().normalize();
    Path app = Path.of("target/app");
    Path stamp = app.resolve(".extracted");
    Path cache = app.resolve("kikonect.aot");
    try {
      if (given.equals(own) && Files.isRegularFile(stamp) && Files.isRegularFile(cache)
          && Files.getLastModifiedTime(stamp).compareTo(Files.getLastModifiedTime(own)) >= 0
          && (!Files.exists(Path.of("target/.kikonect-built"))
              || Files.getLastModifiedTime(stamp).compareTo(Files.getLastModifiedTime(Path.of("target/.kikonect-built"))) >= 0)) {
        return List.of("-XX:AOTCache=" + cache.toAbsolutePath(), "-jar", app.resolve("kikonect.jar").toAbsolutePath().toString());
      }
    } catch (IOException e) {
      // fall back to the jar as given
    }
    return List.of("-jar", jar);
  }

  static void waitForHealth(HttpClient http, String base, Process app, Path log, Duration max) throws Exception {
    long deadline = System.nanoTime() + max.toNanos();
    while (System.nanoTime() < deadline) {
      if (!app.isAlive()) {
        throw new IllegalStateException("KiKonect exited; see " + log);
      }
      try {
        HttpResponse<String> r =
            http.send(HttpRequest.newBuilder(URI.create(base + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not up yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("KiKonect did not become healthy; see " + log);
  }

  static String post(HttpClient http, String url, String token, String json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json");
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> r = http.send(b.POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() >= 300) {
      throw new IllegalStateException(url + " answered " + r.statusCode() + ": " + r.body());
    }
    return r.body();
  }

  /** KiKonect's JSON, parsed as JSON (with the project's own Jackson, put on the class path by bin/common.sh). */
  static final tools.jackson.databind.json.JsonMapper JSON = tools.jackson.databind.json.JsonMapper.builder().build();

  static tools.jackson.databind.JsonNode json(String text) {
    return JSON.readTree(text);
  }

  static tools.jackson.databind.JsonNode json(byte[] utf8) {
    return JSON.readTree(utf8);
  }

  /** A string field of a JSON object; fails loudly when it is not there. */
  static String field(String json, String name) {
    tools.jackson.databind.JsonNode value = json(json).get(name);
    if (value == null || !value.isString()) {
      throw new IllegalStateException("no string " + name + " in " + json);
    }
    return value.asString();
  }

  /**
   * The end of a --check run (bin/test runs every benchmark tiny): prints "bench/x: figures sane" and returns, or
   * prints what is wrong and exits 1, so that a benchmark that breaks fails the build.
   */
  static void verdict(String bench, List<String> insane) {
    if (insane.isEmpty()) {
      System.out.println(bench + ": figures sane");
      System.exit(0);
    }
    System.out.println(bench + ": FIGURES NOT SANE: " + String.join("; ", insane));
    System.exit(1);
  }

  /** Registers a user, logs in and creates a webhook workflow delivering to {@code actionUrl}; returns the hook path. */
  static String webhookWorkflow(HttpClient http, String base, String actionUrl) throws Exception {
    String email = "bench-" + System.nanoTime() + "@example.com";
    post(http, base + "/register", null, "{\"email\":\"" + email + "\",\"password\":\"benchmark-password\",\"firstname\":\"B\",\"lastname\":\"M\"}");
    String token = field(post(http, base + "/login", null, "{\"email\":\"" + email + "\",\"password\":\"benchmark-password\"}"), "token");
    String workflow = post(http, base + "/workflows", token, "{\"name\":\"bench\",\"trigger_type\":\"webhook\",\"action_url\":\"" + actionUrl + "\"}");
    return URI.create(field(workflow, "webhook_url")).getPath();
  }

  static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  static String ms(long nanos) {
    return String.format("%.1f", nanos / 1e6);
  }

  static long rssKb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return 0;
  }

  static String machine() {
    String cpu = "unknown CPU";
    long memKb = 0;
    try {
      cpu =
          Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
              .filter(l -> l.startsWith("model name"))
              .findFirst()
              .map(l -> l.split(":", 2)[1].strip())
              .orElse(cpu);
      memKb =
          Files.readAllLines(Path.of("/proc/meminfo")).stream()
              .filter(l -> l.startsWith("MemTotal"))
              .findFirst()
              .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")))
              .orElse(0L);
    } catch (IOException e) {
      // not Linux
    }
    return String.format(
        "Machine: %d cores (%s), %.0f GiB RAM, %s %s; Java %s",
        Runtime.getRuntime().availableProcessors(),
        cpu,
        memKb / 1024.0 / 1024.0,
        System.getProperty("os.name"),
        System.getProperty("os.version"),
        System.getProperty("java.version"));
  }

  static void deleteRecursively(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
