package dev.kikonect.steps;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** POST /workflows/test: what each step would send, with real payload shapes, and every 400 of a bad definition. */
class DryRunApiTest extends ApiTest {

    private Api.User user;

    @BeforeEach
    void user() {
        user = api.newUser();
    }

    private Api.Response test(Map<String, Object> body) {
        return api.post("/workflows/test", user.token(), body);
    }

    private static final Map<String, Object> PUSH = Map.of(
            "ref", "refs/heads/main",
            "repository", Map.of("full_name", "kikonect/kikonect", "name", "kikonect"),
            "pusher", Map.of("name", "ada"),
            "commits", List.of(Map.of("id", "1", "message", "fix"), Map.of("id", "2", "message", "docs")),
            "forced", false);

    private static final Map<String, Object> CHAIN = Map.of(
            "name", "Pushes to chat",
            "filter", "payload.ref = 'refs/heads/main'",
            "steps",
                    List.of(
                            Map.of(
                                    "key",
                                    "ticket",
                                    "url",
                                    "https://tickets.example.com/api/tickets",
                                    "headers",
                                    Map.of("X-Repo", "{{ payload.repository.full_name }}"),
                                    "body",
                                    "{ 'title': 'Push by ' & payload.pusher.name, 'commits': $count(payload.commits) }"),
                            Map.of(
                                    "key",
                                    "chat",
                                    "needs",
                                    List.of("ticket"),
                                    "url",
                                    "https://chat.example.com/hooks/{{ $encodeUrlComponent(payload.repository.name) }}",
                                    "body",
                                    "{ 'text': 'Ticket ' & steps.ticket.response.body.id & ' opened' }"),
                            Map.of(
                                    "key",
                                    "audit",
                                    "url",
                                    "https://audit.example.com/events",
                                    "when",
                                    "payload.forced = true")));

    @Test
    void a_for_each_shows_how_many_items_it_would_send_and_the_first_three_items_requests() {
        Map<String, Object> workflow = Map.of(
                "steps",
                List.of(Map.of(
                        "key", "lines",
                        "for_each", "payload.lines",
                        "url", "https://erp.example.com/lines/{{ item.sku }}",
                        "body", "{ 'qty': item.qty, 'n': index }")));

        JsonNode three = test(Map.of(
                        "workflow",
                        workflow,
                        "payload",
                        Map.of(
                                "lines",
                                List.of(
                                        Map.of("sku", "a", "qty", 1),
                                        Map.of("sku", "b", "qty", 2),
                                        Map.of("sku", "c", "qty", 3)))))
                .json();
        JsonNode none = test(Map.of("workflow", workflow, "payload", Map.of("lines", List.of())))
                .json();

        JsonNode request = step(three, "lines").path("request");
        assertThat(request.path("items").asInt()).isEqualTo(3);
        assertThat(request.path("url").asString()).isEqualTo("https://erp.example.com/lines/a");
        assertThat(Api.JSON.readTree(request.path("body").asString()))
                .isEqualTo(Api.JSON.readTree("{\"qty\":1,\"n\":0}"));
        JsonNode first = request.path("first_items");
        assertThat(first).hasSize(3);
        assertThat(first.get(2).path("index").asInt()).isEqualTo(2);
        assertThat(first.get(2).path("item").path("sku").asString()).isEqualTo("c");
        assertThat(first.get(2).path("url").asString()).isEqualTo("https://erp.example.com/lines/c");
        assertThat(Api.JSON.readTree(first.get(1).path("body").asString()))
                .isEqualTo(Api.JSON.readTree("{\"qty\":2,\"n\":1}"));
        assertThat(step(none, "lines").path("status").asString()).isEqualTo("skipped");
        assertThat(step(none, "lines").path("error").path("reason").asString()).contains("no items");
    }

    @Test
    void sample_outcomes_show_which_steps_after_a_failure_would_start_and_what_the_error_path_reads() {
        Map<String, Object> workflow = Map.of(
                "steps",
                List.of(
                        Map.of("key", "crm", "url", "https://crm.example.com/contacts"),
                        Map.of("key", "erp", "url", "https://erp.example.com/orders"),
                        Map.of("key", "both", "url", "https://chat.example.com/both", "needs", List.of("crm", "erp")),
                        Map.of(
                                "key",
                                "either",
                                "url",
                                "https://chat.example.com/either",
                                "needs",
                                List.of("crm", "erp"),
                                "run_if",
                                "any_succeeded"),
                        Map.of(
                                "key",
                                "on_error",
                                "url",
                                "https://tickets.example.com/api",
                                "needs",
                                List.of("crm", "erp"),
                                "run_if",
                                "any_failed",
                                "body",
                                "{ 'title': failed.key & ' failed', 'why': failed.response.body.reason }")));

        JsonNode crmFails = test(Map.of(
                        "workflow", workflow,
                        "outcomes", Map.of("crm", "failed"),
                        "responses", Map.of("crm", Map.of("status", 502, "body", Map.of("reason", "down")))))
                .json();
        JsonNode allSucceed = test(Map.of("workflow", workflow)).json();

        assertThat(step(crmFails, "both").path("status").asString()).isEqualTo("not_reached");
        assertThat(step(crmFails, "both").path("error").path("reason").asString())
                .isEqualTo("needs crm, which fails in the sample outcomes");
        assertThat(step(crmFails, "either").path("status").asString()).isEqualTo("would_send");
        assertThat(step(crmFails, "on_error").path("status").asString()).isEqualTo("would_send");
        assertThat(Api.JSON.readTree(
                        step(crmFails, "on_error").path("request").path("body").asString()))
                .isEqualTo(Api.JSON.readTree("{\"title\":\"crm failed\",\"why\":\"down\"}"));
        assertThat(step(allSucceed, "both").path("status").asString()).isEqualTo("would_send");
        assertThat(step(allSucceed, "on_error").path("status").asString()).isEqualTo("not_reached");
        assertThat(step(allSucceed, "on_error").path("error").path("reason").asString())
                .isEqualTo("no step it needs failed");
        Api.Response bad = test(Map.of("workflow", workflow, "outcomes", Map.of("crm", "exploded")));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.body()).contains("outcomes.crm").contains("must be succeeded or failed");
    }

    @Test
    void a_github_push_becomes_a_ticket_then_a_chat_message_with_the_ticket_id_and_audit_is_skipped() {
        JsonNode result = test(Map.of(
                        "workflow",
                        CHAIN,
                        "payload",
                        PUSH,
                        "responses",
                        Map.of("ticket", Map.of("status", 201, "body", Map.of("id", 4711)))))
                .json();

        assertThat(result.path("filtered").asBoolean()).isFalse();
        JsonNode ticket = step(result, "ticket");
        assertThat(ticket.path("status").asString()).isEqualTo("would_send");
        assertThat(ticket.path("request").path("method").asString()).isEqualTo("POST");
        assertThat(ticket.path("request").path("headers").path("X-Repo").asString())
                .isEqualTo("kikonect/kikonect");
        assertThat(Api.JSON
                        .readTree(ticket.path("request").path("body").asString())
                        .path("title")
                        .asString())
                .isEqualTo("Push by ada");
        JsonNode chat = step(result, "chat");
        assertThat(chat.path("request").path("url").asString()).isEqualTo("https://chat.example.com/hooks/kikonect");
        assertThat(Api.JSON
                        .readTree(chat.path("request").path("body").asString())
                        .path("text")
                        .asString())
                .isEqualTo("Ticket 4711 opened");
        assertThat(step(result, "audit").path("status").asString()).isEqualTo("skipped");
    }

    @Test
    void a_push_to_another_branch_is_filtered() {
        Map<String, Object> other = new HashMap<>(PUSH);
        other.put("ref", "refs/heads/feature");

        JsonNode result = test(Map.of("workflow", CHAIN, "payload", other)).json();

        assertThat(result.path("filtered").asBoolean()).isTrue();
        assertThat(result.path("steps")).isEmpty();
    }

    @Test
    void only_invoice_paid_goes_on_to_the_erp_mapped_and_put() {
        Map<String, Object> workflow = Map.of(
                "filter",
                "payload.type = 'invoice.paid'",
                "steps",
                List.of(
                        Map.of(
                                "key",
                                "erp",
                                "method",
                                "PUT",
                                "url",
                                "https://erp.example.com/invoices/{{ payload.data.object.id }}",
                                "body",
                                "{ 'customer': payload.data.object.customer, 'amount': payload.data.object.amount_paid / 100, 'currency': $uppercase(payload.data.object.currency) }")));
        Map<String, Object> paid = Map.of(
                "id",
                "evt_1",
                "type",
                "invoice.paid",
                "data",
                Map.of("object", Map.of("id", "in_42", "customer", "cus_7", "amount_paid", 1999, "currency", "eur")));

        JsonNode sent = step(test(Map.of("workflow", workflow, "payload", paid)).json(), "erp")
                .path("request");
        assertThat(sent.path("method").asString()).isEqualTo("PUT");
        assertThat(sent.path("url").asString()).isEqualTo("https://erp.example.com/invoices/in_42");
        JsonNode body = Api.JSON.readTree(sent.path("body").asString());
        assertThat(body.path("amount").asDouble()).isEqualTo(19.99);
        assertThat(body.path("currency").asString()).isEqualTo("EUR");

        Map<String, Object> created =
                Map.of("id", "evt_2", "type", "invoice.created", "data", Map.of("object", Map.of("id", "in_43")));
        assertThat(test(Map.of("workflow", workflow, "payload", created))
                        .json()
                        .path("filtered")
                        .asBoolean())
                .isTrue();
    }

    @Test
    void a_get_step_sends_no_body_and_a_step_without_body_sends_the_payload_as_it_came() {
        Map<String, Object> workflow = Map.of(
                "steps",
                List.of(
                        Map.of(
                                "key",
                                "look",
                                "method",
                                "GET",
                                "url",
                                "https://api.example.com/users/{{ payload.pusher.name }}"),
                        Map.of("key", "forward", "url", "https://example.com/in")));

        JsonNode result = test(Map.of("workflow", workflow, "payload", PUSH)).json();

        assertThat(step(result, "look").path("request").path("body").isNull()).isTrue();
        assertThat(step(result, "look").path("request").path("url").asString())
                .isEqualTo("https://api.example.com/users/ada");
        assertThat(Api.JSON.readTree(
                        step(result, "forward").path("request").path("body").asString()))
                .isEqualTo(Api.JSON.valueToTree(PUSH));
    }

    @Test
    void an_expression_that_fails_at_run_time_fails_its_step_with_the_position_and_its_dependants_are_not_reached() {
        Map<String, Object> workflow = Map.of(
                "steps",
                List.of(
                        Map.of("key", "a", "url", "https://example.com/a", "body", "{ 'n': payload.pusher.name + 1 }"),
                        Map.of("key", "b", "needs", List.of("a"), "url", "https://example.com/b")));

        JsonNode result = test(Map.of("workflow", workflow, "payload", PUSH)).json();

        JsonNode a = step(result, "a");
        assertThat(a.path("status").asString()).isEqualTo("error");
        assertThat(a.path("error").path("field").asString()).isEqualTo("steps[0].body");
        // JSONata gives positions for syntax errors; this run-time error comes with its operator, not a position.
        assertThat(a.path("error").path("reason").asString()).contains("\"+\" operator");
        assertThat(step(result, "b").path("status").asString()).isEqualTo("not_reached");
    }

    @Test
    void every_bad_definition_is_a_400_naming_its_field() {
        assertField(
                Map.of(
                        "steps",
                        List.of(Map.of("key", "a", "url", "https://x.example", "body", "{ 'a': payload.x & }"))),
                "workflow.steps[0].body",
                "at position");
        assertField(
                Map.of(
                        "steps",
                        List.of(
                                Map.of("key", "a", "url", "https://x.example", "needs", List.of("b")),
                                Map.of("key", "b", "url", "https://x.example", "needs", List.of("a")))),
                "workflow.steps[0].needs",
                "cycle");
        assertField(
                Map.of("steps", List.of(Map.of("key", "a", "url", "https://x.example", "needs", List.of("zz")))),
                "workflow.steps[0].needs",
                "zz");
        assertField(
                Map.of(
                        "steps",
                        List.of(
                                Map.of("key", "a", "url", "https://x.example"),
                                Map.of("key", "a", "url", "https://y.example"))),
                "workflow.steps[1].key",
                "another step");
        assertField(
                Map.of("steps", List.of(Map.of("key", "A b", "url", "https://x.example"))),
                "workflow.steps[0].key",
                "[a-z]");
        assertField(
                Map.of("steps", List.of(Map.of("key", "a", "method", "TRACE", "url", "https://x.example"))),
                "workflow.steps[0].method",
                "GET");
        assertField(
                Map.of(
                        "steps",
                        List.of(Map.of("key", "a", "url", "https://x.example", "headers", Map.of("Host", "evil")))),
                "workflow.steps[0].headers.Host",
                "set by KiKonect");
        assertField(
                Map.of(
                        "steps",
                        List.of(Map.of("key", "a", "url", "https://x.example", "headers", Map.of("webhook-id", "x")))),
                "workflow.steps[0].headers.webhook-id",
                "set by KiKonect");
        assertField(Map.of("steps", List.of(Map.of("key", "a"))), "workflow.steps[0].url", "required");
        assertField(
                Map.of("filter", "payload.(", "steps", List.of(Map.of("key", "a", "url", "https://x.example"))),
                "workflow.filter",
                "position");
        Map<String, Object> headers = new HashMap<>();
        for (int i = 0; i < 51; i++) {
            headers.put("X-H" + i, "v");
        }
        assertField(
                Map.of("steps", List.of(Map.of("key", "a", "url", "https://x.example", "headers", headers))),
                "workflow.steps[0].headers",
                "at most 50");
        List<Object> many = new ArrayList<>();
        for (int i = 0; i < 21; i++) {
            many.add(Map.of("key", "s" + i, "url", "https://x.example"));
        }
        assertField(Map.of("steps", many), "workflow.steps", "at most 20");
    }

    private void assertField(Map<String, Object> workflow, String field, String reasonPart) {
        Api.Response response = test(Map.of("workflow", workflow, "payload", PUSH));
        assertThat(response.status()).as(field).isEqualTo(400);
        assertThat(response.contentType()).startsWith("application/problem+json");
        JsonNode errors = response.json().path("errors");
        boolean found = false;
        for (JsonNode e : errors) {
            if (e.path("field").asString().equals(field)
                    && e.path("reason").asString().contains(reasonPart)) {
                found = true;
            }
        }
        assertThat(found).as(field + " in " + errors).isTrue();
    }

    private static JsonNode step(JsonNode result, String key) {
        for (JsonNode s : result.path("steps")) {
            if (s.path("key").asString().equals(key)) {
                return s;
            }
        }
        throw new AssertionError("no step " + key + " in " + result);
    }
}
