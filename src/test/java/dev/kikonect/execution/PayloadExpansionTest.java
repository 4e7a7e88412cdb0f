package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * Payloads that grow when parsed: four webhooks of ~1 MiB of {@code [0,0,0,...]} (about nine times larger parsed) to a
 * workflow whose 20 steps all read {@code payload}. Every step is delivered, and the steps of a run in flight share one
 * parsed payload instead of each parsing its own.
 */
class PayloadExpansionTest extends ApiTest {

    @Autowired
    MeterRegistry meters;

    @Test
    void twenty_steps_reading_a_large_payload_share_its_parse_and_all_deliver() throws Exception {
        Api.User user = api.newUser();
        try (Sink sink = new Sink()) {
            List<Object> steps = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                steps.add(Map.of("key", "s" + i, "url", sink.url("/s" + i), "body", "{ 'n': $count(payload) }"));
            }
            Map<String, Object> workflow =
                    new HashMap<>(Map.of("name", "wide", "trigger_type", "webhook", "steps", steps));
            Api.Response created = api.post("/workflows", user.token(), workflow);
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            String hook = created.json().path("webhook_url").asString();
            String payload = Api.JSON.writeValueAsString(Collections.nCopies(500_000, 0)); // 1,000,001 bytes
            double parsedBefore = meters.counter("kikonect.payloads.parsed").count();

            List<CompletableFuture<Api.Response>> sent = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                sent.add(CompletableFuture.supplyAsync(
                        () -> api.sendWithHeaders("POST", hook, "application/json", payload, Map.of())));
            }
            for (CompletableFuture<Api.Response> f : sent) {
                Api.Response accepted = f.get();
                assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
                JsonNode run = awaitFinished(user, accepted.json().path("id").asLong());
                assertThat(run.path("status").asString()).as(run.toString()).isEqualTo("succeeded");
            }

            assertThat(sink.received()).hasSize(80);
            assertThat(Api.JSON
                            .readTree(sink.received().get(0).body())
                            .path("n")
                            .asInt())
                    .isEqualTo(500_000);
            double parses = meters.counter("kikonect.payloads.parsed").count() - parsedBefore;
            assertThat(parses).as("parses for 80 steps of 4 runs").isLessThan(40);
        }
    }
}
