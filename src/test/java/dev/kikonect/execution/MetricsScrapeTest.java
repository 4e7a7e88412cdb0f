package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * /metrics as a scraper reads it, several times over more than the gauges' refresh interval: every KiKonect sample
 * is a number (the queue gauges were NaN in every scrape before: their query threw), and every KiKonect metric has
 * a HELP line that says something.
 */
class MetricsScrapeTest extends ApiTest {

    private static final Pattern SAMPLE = Pattern.compile("^(kikonect_[a-z_]+)(\\{[^}]*\\})? (\\S+)$");
    private static final Pattern HELP = Pattern.compile("^# HELP (kikonect_[a-z_]+) ?(.*)$");

    @Test
    void every_kikonect_sample_is_a_number_in_every_scrape_and_every_metric_says_what_it_is() {
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
        for (int scrape = 0; scrape < 3; scrape++) {
            String text = api.get("/metrics", null).body();
            Map<String, Double> values = new HashMap<>();
            Set<String> named = new HashSet<>();
            Map<String, String> help = new HashMap<>();
            for (String line : text.split("\n")) {
                Matcher sample = SAMPLE.matcher(line);
                if (sample.matches()) {
                    double value = Double.parseDouble(sample.group(3));
                    assertThat(Double.isNaN(value))
                            .as("scrape " + scrape + ": " + line)
                            .isFalse();
                    values.put(sample.group(1) + (sample.group(2) == null ? "" : sample.group(2)), value);
                    named.add(sample.group(1));
                }
                Matcher h = HELP.matcher(line);
                if (h.matches()) {
                    help.put(h.group(1), h.group(2).strip());
                }
            }
            assertThat(values).containsKey("kikonect_queue_depth").containsKey("kikonect_queue_oldest_age_seconds");
            assertThat(values.get("kikonect_queue_depth")).isGreaterThanOrEqualTo(0);
            for (String metric : named) {
                String family =
                        help.containsKey(metric) ? metric : metric.replaceAll("_(bucket|count|sum|max|total)$", "");
                assertThat(help.getOrDefault(
                                family, help.getOrDefault(metric.replaceAll("_(bucket|count|sum|max)$", ""), "")))
                        .as("HELP of " + metric)
                        .isNotBlank();
            }
            clock.advance(Duration.ofSeconds(6)); // past the gauges' 5 s refresh
        }
    }
}
