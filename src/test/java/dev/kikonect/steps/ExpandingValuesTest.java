package dev.kikonect.steps;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A value an expression builds cheaply from references (a thousand copies of a 500 KB payload cost the engine a
 * thousand pointers, and would take 500 MB as text) is refused as its text is written, wherever an expression's value
 * becomes text: a body, a loop's items, a sub-workflow's output; and a loop gives at most 1,000 items. Each fails its
 * step with the reason, over HTTP on the real database, and the node goes on (the next run succeeds).
 */
class ExpandingValuesTest extends ApiTest {

    private static final String THOUSAND_COPIES = "$map([1..1000], function($i) { payload })";

    private Api.User user;
    private final Map<String, Object> payload = new HashMap<>();

    @BeforeEach
    void setUp() {
        user = api.newUser();
        for (int i = 0; i < 10; i++) {
            payload.put("k" + i, "v".repeat(50_000)); // 500 KB, ten values: cheap to copy by reference
        }
    }

    private long workflow(List<Map<String, Object>> steps, String output) {
        Map<String, Object> body = new HashMap<>();
        body.put("name", "expanding");
        body.put("trigger_type", "manual");
        body.put("steps", steps);
        body.put("max_attempts", 1);
        if (output != null) {
            body.put("output", output);
        }
        Api.Response created = api.post("/workflows", user.token(), body);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json().path("id").asLong();
    }

    private JsonNode run(long workflow, Object payload) {
        Api.Response accepted = api.post("/workflows/" + workflow + "/trigger", user.token(), payload);
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
        return awaitFinished(user, accepted.json().path("id").asLong());
    }

    private static String error(JsonNode run, String key) {
        for (JsonNode s : run.path("steps")) {
            if (s.path("key").asString().equals(key)) {
                return s.path("error").asString();
            }
        }
        throw new AssertionError("no step " + key + " in " + run);
    }

    @Test
    void a_body_a_loop_and_a_sub_workflow_output_of_a_thousand_payload_copies_each_fail_their_step() {
        try (Sink sink = new Sink()) {
            long child = workflow(List.of(Map.of("key", "c", "url", sink.url("/child"))), THOUSAND_COPIES);
            long wf = workflow(
                    List.of(
                            Map.of("key", "body", "url", sink.url("/body"), "body", THOUSAND_COPIES),
                            Map.of("key", "loop", "url", sink.url("/loop"), "for_each", THOUSAND_COPIES),
                            Map.of("key", "many", "url", sink.url("/many"), "for_each", "[0..1000]"),
                            Map.of("key", "sub", "workflow", child)),
                    null);

            JsonNode run = run(wf, payload);

            assertThat(run.path("status").asString()).as(run.toString()).isEqualTo("failed");
            assertThat(error(run, "body")).contains("the body is larger than 1 MiB");
            assertThat(error(run, "loop")).contains("items are larger than 4 MiB as JSON");
            assertThat(error(run, "many")).contains("gives 1001 items; at most 1000 (kikonect.steps.max-items)");
            assertThat(error(run, "sub"))
                    .contains("output is larger than 256 KiB (kikonect.delivery.max-kept-response)");
            assertThat(sink.received())
                    .extracting(Sink.Received::path)
                    .as("only the child's own step was sent")
                    .containsExactly("/child");

            Api.Response dry = api.post("/workflows/" + wf + "/test", user.token(), Map.of("payload", payload));
            assertThat(dry.status()).as(dry.body()).isEqualTo(200);
            assertThat(dry.json()
                            .path("steps")
                            .get(0)
                            .path("error")
                            .path("reason")
                            .asString())
                    .isEqualTo("the body is larger than 1 MiB");

            long small = workflow(List.of(Map.of("key", "ok", "url", sink.url("/ok"), "for_each", "[1, 2]")), null);
            assertThat(run(small, Map.of()).path("status").asString())
                    .as("the node goes on")
                    .isEqualTo("succeeded");
        }
    }
}
