package dev.kikonect.steps;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The bomb corpus through the API, as any signed-up user can send it: in dry runs (as body, when, filter and URL
 * template in turn) and stored in workflows that then run. Every answer is a 200 naming the budget or a 400 naming the
 * field, never a 5xx; a stored bomb fails its own step at once, without a retry; the node answers a login meanwhile.
 */
class ExpressionBombsApiTest extends ApiTest {

    /** 100,000 zeros: the payload side of the bombs, as a webhook sender would send it. */
    private static final List<Integer> ZEROS = Collections.nCopies(100_000, 0);
    /** The dry runs' payload: enough for the payload-side bombs to have something to chew on. */
    private static final List<Integer> SOME_ZEROS = Collections.nCopies(10_000, 0);

    private static final List<String> PLACES = List.of("body", "when", "filter", "url");

    @Test
    void every_bomb_in_a_dry_run_is_a_clear_answer_and_the_node_keeps_answering() {
        Api.User user = api.newUser();
        List<String> bombs = ExpressionBombs.all();
        for (int i = 0; i < bombs.size(); i++) {
            String bomb = bombs.get(i);
            String place = PLACES.get(i % PLACES.size());
            Api.Response response = api.post(
                    "/workflows/test",
                    user.token(),
                    Map.of("workflow", workflow(place, bomb, "https://example.com/in"), "payload", SOME_ZEROS));
            String what = place + ": " + abbreviated(bomb);
            assertThat(response.status())
                    .as(what + " -> " + abbreviated(response.body()))
                    .isIn(200, 400);
            if (response.status() == 400) {
                assertThat(response.contentType()).startsWith("application/problem+json");
                assertThat(response.json().path("errors").get(0).path("field").asString())
                        .as(what)
                        .startsWith("workflow.");
            } else if (!ExpressionBombs.harmless().contains(bomb)) {
                JsonNode steps = response.json().path("steps");
                assertThat(steps.get(0).path("status").asString())
                        .as(what + " -> " + abbreviated(response.body()))
                        .isEqualTo("error");
                assertThat(steps.get(0).path("error").path("reason").asString())
                        .as(what)
                        .isNotBlank();
            }
            if (i % 8 == 0) {
                assertThat(api.post("/login", null, Map.of("email", user.email(), "password", user.password()))
                                .status())
                        .as("login after " + what)
                        .isEqualTo(200);
            }
        }
    }

    @Test
    void a_stored_bomb_fails_its_run_at_once_without_a_retry_wherever_it_stands() {
        Api.User user = api.newUser();
        String bomb = "($f := function($s) { $f($s & $s) }; $f(\"x\"))";
        try (Sink sink = new Sink()) {
            for (String place : List.of("when", "body", "url")) {
                Map<String, Object> definition = new HashMap<>(workflow(place, bomb, sink.url("/in")));
                definition.put("name", "bomb in " + place);
                definition.put("trigger_type", "webhook");
                Api.Response created = api.post("/workflows", user.token(), definition);
                assertThat(created.status()).as(created.body()).isEqualTo(201);
                Api.Response accepted = api.sendWithHeaders(
                        "POST",
                        created.json().path("webhook_url").asString(),
                        "application/json",
                        Api.JSON.writeValueAsString(ZEROS),
                        Map.of());
                assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
                JsonNode run = awaitFinished(user, accepted.json().path("id").asLong());
                assertThat(run.path("status").asString()).as(place).isEqualTo("failed");
                JsonNode step = run.path("steps").get(0);
                assertThat(step.path("error").asString()).as(place).contains("expression budget exceeded");
                assertThat(step.path("attempts").size())
                        .as(place + ": attempts")
                        .isLessThanOrEqualTo(1);
            }
            Map<String, Object> filtered = new HashMap<>(workflow("filter", bomb, sink.url("/in")));
            filtered.put("name", "bomb in filter");
            filtered.put("trigger_type", "webhook");
            JsonNode wf = api.post("/workflows", user.token(), filtered).json();
            Api.Response accepted = api.sendWithHeaders(
                    "POST", wf.path("webhook_url").asString(), "application/json", "{\"a\":1}", Map.of());
            assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
            assertThat(accepted.json().path("status").asString())
                    .as("a filter that fails fails the run")
                    .isEqualTo("failed");
            assertThat(api.get("/runs/" + accepted.json().path("id").asLong(), user.token())
                            .json()
                            .path("error")
                            .asString())
                    .contains("expression budget exceeded");
            assertThat(sink.received()).as("nothing sent").isEmpty();
        }
    }

    private static Map<String, Object> workflow(String place, String expression, String url) {
        Map<String, Object> step = new HashMap<>();
        step.put("key", "a");
        step.put("url", url);
        Map<String, Object> workflow = new HashMap<>();
        switch (place) {
            case "body" -> step.put("body", expression);
            case "when" -> step.put("when", expression);
            case "url" -> step.put("url", url + "?q={{ " + expression + " }}");
            case "filter" -> workflow.put("filter", expression);
            default -> throw new IllegalArgumentException(place);
        }
        workflow.put("steps", List.of(step));
        return workflow;
    }

    private static String abbreviated(String s) {
        return s.length() > 100 ? s.substring(0, 100) + "..." : s;
    }
}
