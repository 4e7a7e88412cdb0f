package dev.kikonect.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.lifecycle.ScheduledRuns;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.JsonNode;

class IdempotencyAndReplayTest extends ApiTest {

    private final Sink sink = new Sink();

    @AfterEach
    void closeSink() {
        sink.close();
    }

    private HttpResponse<String> hookWithKey(String url, String key, String body) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(url))
                                .header("Content-Type", "application/json")
                                .header("Idempotency-Key", key)
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void two_concurrent_requests_with_one_idempotency_key_give_one_run() throws Exception {
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(user, "webhook", sink.url(), Map.of());
        String url = wf.path("webhook_url").asString();

        List<Callable<HttpResponse<String>>> racers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            racers.add(() -> hookWithKey(url, "order-42", "{\"order\":42}"));
        }
        List<HttpResponse<String>> responses = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (Future<HttpResponse<String>> f : pool.invokeAll(racers)) {
                responses.add(f.get());
            }
        }

        Set<Long> runIds = new HashSet<>();
        for (HttpResponse<String> r : responses) {
            runIds.add(Api.JSON.readTree(r.body()).path("id").asLong());
        }
        assertThat(runIds).hasSize(1);
        assertThat(responses)
                .extracting(HttpResponse::statusCode)
                .containsOnlyOnce(202)
                .contains(200);
        assertThat(api.get("/workflows/" + wf.path("id").asLong() + "/runs", user.token())
                        .json()
                        .path("items")
                        .size())
                .isEqualTo(1);
        eventually().until(() -> sink.received().size() == 1);
    }

    @Test
    void a_key_repeated_with_another_payload_is_refused_and_shows_nothing_of_the_first() throws Exception {
        Api.User user = api.newUser();
        String url = api.createWorkflow(user, "webhook", sink.url(), Map.of())
                .path("webhook_url")
                .asString();
        assertThat(hookWithKey(url, "shared-key", "{\"card\":\"first caller's\"}")
                        .statusCode())
                .isEqualTo(202);

        HttpResponse<String> other = hookWithKey(url, "shared-key", "{\"card\":\"someone else's\"}");

        assertThat(other.statusCode()).isEqualTo(409);
        assertThat(other.body()).contains("idempotency-key-mismatch").doesNotContain("first caller");
    }

    @Test
    void a_repeated_key_answers_200_with_the_first_run_and_a_new_key_makes_a_new_run() throws Exception {
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(user, "webhook", sink.url(), Map.of());
        String url = wf.path("webhook_url").asString();

        HttpResponse<String> first = hookWithKey(url, "k1", "{}");
        HttpResponse<String> again = hookWithKey(url, "k1", "{}");
        HttpResponse<String> other = hookWithKey(url, "k2", "{}");

        assertThat(first.statusCode()).isEqualTo(202);
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.headers().firstValue("Idempotent-Replayed")).hasValue("true");
        long firstId = Api.JSON.readTree(first.body()).path("id").asLong();
        assertThat(Api.JSON.readTree(again.body()).path("id").asLong()).isEqualTo(firstId);
        assertThat(Api.JSON.readTree(other.body()).path("id").asLong()).isNotEqualTo(firstId);
    }

    @Test
    void manual_triggers_honour_idempotency_keys_too() {
        Api.User user = api.newUser();
        long id = api.createWorkflow(user, "manual", sink.url(), Map.of())
                .path("id")
                .asLong();
        Api.Response first = send(user, "/workflows/" + id + "/trigger", "same");
        Api.Response second = send(user, "/workflows/" + id + "/trigger", "same");

        assertThat(first.status()).isEqualTo(202);
        assertThat(second.status()).isEqualTo(200);
        assertThat(second.json().path("id").asLong())
                .isEqualTo(first.json().path("id").asLong());
    }

    private Api.Response send(Api.User user, String path, String key) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(api.base() + path))
                                    .header("Authorization", "Bearer " + user.token())
                                    .header("Content-Type", "application/json")
                                    .header("Idempotency-Key", key)
                                    .POST(HttpRequest.BodyPublishers.ofString("{}"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            return new Api.Response(r.statusCode(), r, Api.JSON.readTree(r.body()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void replay_gives_a_new_run_with_the_same_payload_linked_by_replay_of() {
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(user, "webhook", sink.url(), Map.of());
        long original = api.send("POST", wf.path("webhook_url").asString(), null, "application/json", "{\"a\": 1}")
                .json()
                .path("id")
                .asLong();
        awaitFinished(user, original);

        Api.Response replayed = api.post("/runs/" + original + "/replay", user.token(), "");
        Api.Response edited =
                api.post("/runs/" + original + "/replay", user.token(), Map.of("payload", Map.of("a", 2)));

        assertThat(replayed.status()).isEqualTo(202);
        assertThat(replayed.json().path("replay_of").asLong()).isEqualTo(original);
        assertThat(replayed.json().path("id").asLong()).isNotEqualTo(original);
        assertThat(edited.json().path("payload").path("a").asInt()).isEqualTo(2);
        eventually().until(() -> sink.received().size() == 3);
        // the two replays are delivered concurrently, in either order: the plain one byte for byte
        assertThat(sink.received().subList(1, 3))
                .extracting(Sink.Received::body)
                .containsExactlyInAnyOrder("{\"a\": 1}", "{\"a\":2}");
        assertThat(api.post("/runs/" + original + "/replay", api.newUser().token(), "")
                        .status())
                .isEqualTo(404);
    }

    @Test
    void bulk_replay_replays_every_failed_run_of_a_workflow_and_says_how_many() {
        sink.replyWith(400);
        Api.User user = api.newUser();
        JsonNode wf = api.createWorkflow(user, "webhook", sink.url(), Map.of());
        List<Long> runs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            runs.add(api.send("POST", wf.path("webhook_url").asString(), null, "application/json", "{\"i\":" + i + "}")
                    .json()
                    .path("id")
                    .asLong());
        }
        runs.forEach(r -> awaitFinished(user, r));
        sink.replyWith(200);

        // a dry run counts what a replay would make, and replays nothing
        Api.Response count = api.post(
                "/runs/replay",
                user.token(),
                Map.of("workflow_id", wf.path("id").asLong(), "status", "failed", "dry_run", true));
        assertThat(count.status()).isEqualTo(200);
        assertThat(count.json().path("matching").asInt()).isEqualTo(5);
        assertThat(count.json().path("limit").asInt()).isEqualTo(10_000);
        assertThat(sink.received()).hasSize(5);

        Api.Response bulk = api.post(
                "/runs/replay",
                user.token(),
                Map.of("workflow_id", wf.path("id").asLong(), "status", "failed"));

        assertThat(bulk.status()).isEqualTo(202);
        assertThat(bulk.json().path("replayed").asInt()).isEqualTo(5);
        eventually().until(() -> sink.received().size() == 10);
        Api.Response none = api.post("/runs/replay", user.token(), Map.of());
        assertThat(none.status()).isEqualTo(400);
    }

    @Test
    void paging_through_a_thousand_runs_while_new_ones_arrive_returns_each_old_run_once() {
        Api.User user = api.newUser();
        long id = api.createWorkflow(user, "manual", sink.url(), Map.of())
                .path("id")
                .asLong();
        List<ScheduledRuns.Firing> firings = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            firings.add(new ScheduledRuns.Firing(id, api.personalWorkspace(user), "manual", "{}"));
        }
        transactions.executeWithoutResult(s -> triggerer.enqueueAll(firings, clock.instant()));
        Set<Long> old = new HashSet<>();
        api.get("/runs?workflow_id=" + id + "&limit=200", user.token()); // warm
        List<Long> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Api.Response page = api.get(
                    "/runs?workflow_id=" + id + "&limit=37" + (cursor == null ? "" : "&cursor=" + cursor),
                    user.token());
            page.json().path("items").forEach(r -> seen.add(r.path("id").asLong()));
            cursor = page.json().path("next_cursor").isNull()
                    ? null
                    : page.json().path("next_cursor").asString();
            // New runs keep arriving between pages.
            api.post("/workflows/" + id + "/trigger", user.token(), "{}");
            pages++;
        } while (cursor != null);

        assertThat(pages).isGreaterThan(20);
        assertThat(seen).doesNotHaveDuplicates();
        List<Long> originals = jdbc.sql("SELECT id FROM workflow_runs WHERE workflow_id = :w ORDER BY id LIMIT 1000")
                .param("w", id)
                .query(Long.class)
                .list();
        assertThat(seen).containsAll(originals);
    }

    @Autowired
    ScheduledRuns triggerer;

    @Autowired
    TransactionTemplate transactions;

    @Autowired
    JdbcClient jdbc;
}
