package dev.kikonect.steps;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The order workflow of issue 24, as written there, end to end over HTTP on the real database with local receivers:
 * a loop over the order's lines (5 at a time), a branch on the amount they booked, a merge that notifies either way,
 * an error path that opens a ticket, and a sub-workflow that enriches the customer. Once with every line booked and
 * once with a line the ERP refuses.
 */
class OrderExampleTest extends ApiTest {

    private Api.User user;

    @BeforeEach
    void user() {
        user = api.newUser();
    }

    private long create(Map<String, Object> workflow) {
        Api.Response created = api.post("/workflows", user.token(), workflow);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json().path("id").asLong();
    }

    private static Map<String, Object> step(Object... fields) {
        Map<String, Object> s = new HashMap<>();
        for (int i = 0; i < fields.length; i += 2) {
            s.put((String) fields[i], fields[i + 1]);
        }
        s.put("max_attempts", 1);
        return s;
    }

    private static String status(JsonNode run, String key) {
        for (JsonNode s : run.path("steps")) {
            if (s.path("key").asString().equals(key)) {
                return s.path("status").asString();
            }
        }
        throw new AssertionError("no step " + key + " in " + run);
    }

    private static List<String> paths(Sink sink, int from) {
        return sink.received().subList(from, sink.received().size()).stream()
                .map(Sink.Received::path)
                .toList();
    }

    private static Map<String, Object> order(int id, int... quantities) {
        List<Map<String, Object>> lines = new ArrayList<>();
        for (int i = 0; i < quantities.length; i++) {
            lines.add(Map.of("sku", "sku-" + i, "qty", quantities[i]));
        }
        return Map.of("order", Map.of("id", id, "lines", lines), "customer", Map.of("email", "ada@example.com"));
    }

    @Test
    void the_order_example_books_its_lines_takes_one_branch_notifies_and_opens_a_ticket_only_when_a_line_fails() {
        try (Sink sink = new Sink().replyWith(r -> {
            if (r.path().startsWith("/erp")) {
                JsonNode line = Api.JSON.readTree(r.body());
                return line.path("qty").asInt() < 0
                        ? new Sink.Reply(422, Map.of("Content-Type", "application/json"), "{\"bad\":\"qty\"}", false)
                        : new Sink.Reply(
                                201,
                                Map.of("Content-Type", "application/json"),
                                "{\"amount\":" + line.path("qty").asInt() * 100 + "}",
                                false);
            }
            return new Sink.Reply(200, Map.of("Content-Type", "application/json"), "{\"ok\":true}", false);
        })) {
            Map<String, Object> enrichFlow = new HashMap<>();
            enrichFlow.put("name", "enrich customer");
            enrichFlow.put("trigger_type", "manual");
            enrichFlow.put("steps", List.of(step("key", "crm", "url", sink.url("/crm"))));
            long enrich = create(enrichFlow);
            Map<String, Object> orderFlow = new HashMap<>();
            orderFlow.put("name", "orders");
            orderFlow.put("trigger_type", "manual");
            orderFlow.put(
                    "steps",
                    List.of(
                            step(
                                    "key", "items",
                                    "for_each", "payload.order.lines",
                                    "concurrency", 5,
                                    "url", sink.url("/erp/lines"),
                                    "body", "{ 'sku': item.sku, 'qty': item.qty, 'n': index }"),
                            step(
                                    "key",
                                    "big",
                                    "needs",
                                    List.of("items"),
                                    "when",
                                    "$sum(steps.items.response.body.amount) > 1000",
                                    "url",
                                    sink.url("/approvals")),
                            step(
                                    "key",
                                    "post",
                                    "needs",
                                    List.of("items"),
                                    "when",
                                    "$sum(steps.items.response.body.amount) <= 1000",
                                    "url",
                                    sink.url("/ledger")),
                            step(
                                    "key", "notify",
                                    "needs", List.of("big", "post"),
                                    "run_if", "any_succeeded",
                                    "url", sink.url("/chat"),
                                    "body", "{ 'text': 'Order ' & payload.order.id & ' booked' }"),
                            step(
                                    "key", "on_error",
                                    "needs", List.of("items", "big", "post"),
                                    "run_if", "any_failed",
                                    "url", sink.url("/tickets"),
                                    "body", "{ 'title': 'Order failed', 'error': failed.error }"),
                            step(
                                    "key", "enrich",
                                    "workflow", enrich,
                                    "body", "{ 'email': payload.customer.email }")));
            long orders = create(orderFlow);

            // 12 lines of qty 1 book 1,200: the big branch, the merge notifies, no ticket
            int before = sink.received().size();
            JsonNode booked = awaitFinished(
                    user,
                    api.post(
                                    "/workflows/" + orders + "/trigger",
                                    user.token(),
                                    order(7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1))
                            .json()
                            .path("id")
                            .asLong());
            assertThat(booked.path("status").asString()).as(booked.toString()).isEqualTo("succeeded");
            assertThat(status(booked, "big")).isEqualTo("succeeded");
            assertThat(status(booked, "post")).isEqualTo("skipped");
            assertThat(status(booked, "notify")).isEqualTo("succeeded");
            assertThat(status(booked, "on_error")).isEqualTo("skipped");
            assertThat(status(booked, "enrich")).isEqualTo("succeeded");
            List<String> sent = paths(sink, before);
            assertThat(sent.stream().filter(p -> p.equals("/erp/lines"))).hasSize(12);
            assertThat(sent).contains("/approvals", "/chat", "/crm").doesNotContain("/ledger", "/tickets");
            Sink.Received chat = sink.received().stream()
                    .filter(r -> r.path().equals("/chat"))
                    .findFirst()
                    .orElseThrow();
            assertThat(Api.JSON.readTree(chat.body()).path("text").asString()).isEqualTo("Order 7 booked");
            Sink.Received crm = sink.received().stream()
                    .filter(r -> r.path().equals("/crm"))
                    .findFirst()
                    .orElseThrow();
            assertThat(Api.JSON.readTree(crm.body()).path("email").asString()).isEqualTo("ada@example.com");

            // a line the ERP refuses: the branches are skipped, no notification, the ticket says why
            before = sink.received().size();
            JsonNode refused = awaitFinished(
                    user,
                    api.post("/workflows/" + orders + "/trigger", user.token(), order(8, 2, -1, 3))
                            .json()
                            .path("id")
                            .asLong());
            assertThat(status(refused, "items")).isEqualTo("failed");
            assertThat(status(refused, "big")).isEqualTo("skipped");
            assertThat(status(refused, "post")).isEqualTo("skipped");
            assertThat(status(refused, "notify")).isEqualTo("skipped");
            assertThat(status(refused, "on_error")).isEqualTo("succeeded");
            assertThat(refused.path("status").asString())
                    .as("its one failure handled by the error path, which succeeded")
                    .isEqualTo("succeeded");
            sent = paths(sink, before);
            assertThat(sent.stream().filter(p -> p.equals("/erp/lines")))
                    .as("the other lines still finish")
                    .hasSize(3);
            assertThat(sent).contains("/tickets").doesNotContain("/approvals", "/ledger", "/chat");
            Sink.Received ticket = sink.received().stream()
                    .filter(r -> r.path().equals("/tickets"))
                    .findFirst()
                    .orElseThrow();
            assertThat(Api.JSON.readTree(ticket.body()).path("error").asString())
                    .contains("1 of 3 items did not succeed (item 1: HTTP 422");
        }
    }
}
