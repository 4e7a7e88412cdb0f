package dev.kikonect.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The Grafana dashboard and the Prometheus alert rules under deploy/ ask only for metrics a real scrape has, and
 * promtool (Debian's prometheus package; bin/test installs it) accepts the rules and finds no problem in KiKonect's
 * metrics as scraped.
 */
class MonitoringFilesTest extends ApiTest {

    private static final Path DASHBOARD = Path.of("deploy/grafana/kikonect-dashboard.json");
    private static final Path RULES = Path.of("deploy/prometheus/kikonect-alerts.yml");
    private static final Pattern METRIC = Pattern.compile("\\b((?:kikonect|jvm)_[a-z_]+)\\b");

    /** A scrape after one delivery, so that the per-outcome series exist. */
    private String scrape() {
        try (Sink sink = new Sink()) {
            Api.User user = api.newUser();
            String hook = api.createWorkflow(user, "webhook", sink.url(), Map.of())
                    .path("webhook_url")
                    .asString();
            awaitFinished(
                    user,
                    api.send("POST", hook, null, "application/json", "{}")
                            .json()
                            .path("id")
                            .asLong());
        }
        return api.get("/metrics", null).body();
    }

    private static Set<String> families(String scrape) {
        Set<String> names = new HashSet<>();
        for (String line : scrape.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String name = line.split(" ")[2];
                names.add(name);
                for (String suffix : List.of("_bucket", "_count", "_sum", "_max", "_total")) {
                    names.add(name + suffix);
                }
            } else if (!line.startsWith("#") && !line.isBlank()) {
                names.add(line.split("[{ ]")[0]);
            }
        }
        return names;
    }

    private static List<String> metricsIn(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = METRIC.matcher(text);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    @Test
    void the_dashboard_and_the_alert_rules_ask_only_for_metrics_that_a_scrape_has() throws IOException {
        Set<String> scraped = families(scrape());
        JsonNode dashboard = Api.JSON.readTree(Files.readString(DASHBOARD));
        List<String> asked = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            assertThat(panel.path("targets").size())
                    .as(panel.path("title").asString())
                    .isPositive();
            panel.path("targets")
                    .forEach(t -> asked.addAll(metricsIn(t.path("expr").asString())));
        }
        asked.addAll(metricsIn(Files.readString(RULES)));
        assertThat(asked).hasSizeGreaterThan(15);
        // kikonect_clock_skew_seconds exists only with the real clock (tests run a settable one): checked by name here.
        scraped.add("kikonect_clock_skew_seconds");
        assertThat(Files.readString(Path.of("src/main/java/dev/kikonect/db/DatabaseWatch.java")))
                .contains("\"kikonect.clock.skew\"");
        assertThat(asked)
                .allSatisfy(metric ->
                        assertThat(scraped).as("a scrape has " + metric).contains(metric));
        assertThat(Files.readString(RULES))
                .contains(
                        "kikonect_queue_oldest_age_seconds",
                        "kikonect_deliveries_total",
                        "kikonect_scheduler_lag_seconds_bucket",
                        "kikonect_queue_depth");
    }

    @Test
    void promtool_accepts_the_rules_and_finds_no_problem_in_kikonects_metrics() throws Exception {
        assumeThat(Files.isExecutable(Path.of("/usr/bin/promtool")))
                .as("promtool (apt-get install prometheus) is installed")
                .isTrue();
        Result rules = run(null, "/usr/bin/promtool", "check", "rules", RULES.toString());
        assertThat(rules.exit()).as(rules.output()).isZero();
        assertThat(rules.output()).contains("SUCCESS: 7 rules found");

        Result metrics = run(scrape(), "/usr/bin/promtool", "check", "metrics");
        assertThat(metrics.output())
                .as("promtool parsed the scrape")
                .doesNotContain("error while linting", "parsing error");
        List<String> ours =
                metrics.output().lines().filter(l -> l.contains("kikonect_")).toList();
        assertThat(ours).as("promtool's findings about KiKonect's metrics").isEmpty();
    }

    private record Result(int exit, String output) {}

    private static Result run(String input, String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (input != null) {
            try (var in = p.getOutputStream()) {
                in.write(input.getBytes(StandardCharsets.UTF_8));
            }
        } else {
            p.getOutputStream().close();
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), output);
    }
}
