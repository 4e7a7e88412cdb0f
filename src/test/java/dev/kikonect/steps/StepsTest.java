package dev.kikonect.steps;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Workflows with steps, end to end over HTTP on the real database, with real payload shapes and real receivers: a
 * GitHub push becoming a chat message, a Stripe stream narrowed to invoice.paid, the ticket then chat chain with an
 * audit step beside it, a failure, a retry from the failure, PUT and GET steps, and the 400s of a bad definition.
 */
class StepsTest extends ApiTest {

    private Api.User user;

    @BeforeEach
    void user() {
        user = api.newUser();
    }

    private static final Map<String, Object> PUSH = Map.of(
            "ref", "refs/heads/main",
            "repository", Map.of("full_name", "kikonect/kikonect", "name", "kikonect"),
            "pusher", Map.of("name", "ada"),
            "commits", List.of(Map.of("id", "1", "message", "fix"), Map.of("id", "2", "message", "docs")),
            "forced", true);

    private JsonNode create(Map<String, Object> workflow) {
        Map<String, Object> body = new HashMap<>(workflow);
        body.putIfAbsent("name", "steps");
        body.putIfAbsent("trigger_type", "webhook");
        Api.Response created = api.post("/workflows", user.token(), body);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json();
    }

    private Api.Response hook(JsonNode workflow, Object payload, String... headers) {
        Map<String, String> extra = new HashMap<>();
        for (int i = 0; i < headers.length; i += 2) {
            extra.put(headers[i], headers[i + 1]);
        }
        return api.sendWithHeaders(
                "POST",
                workflow.path("webhook_url").asString(),
                "application/json",
                Api.JSON.writeValueAsString(payload),
                extra);
    }

    private JsonNode finished(Api.Response accepted) {
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
        return awaitFinished(user, accepted.json().path("id").asLong());
    }

    private static JsonNode step(JsonNode run, String key) {
        for (JsonNode s : run.path("steps")) {
            if (s.path("key").asString().equals(key)) {
                return s;
            }
        }
        throw new AssertionError("no step " + key + " in " + run);
    }

    private static List<Sink.Received> at(Sink sink, String path) {
        return sink.received().stream().filter(r -> r.path().startsWith(path)).toList();
    }

    @Test
    void a_github_push_to_main_becomes_a_chat_message_and_a_push_to_another_branch_is_filtered() {
        try (Sink chat = new Sink()) {
            JsonNode wf = create(
                    Map.of(
                            "filter",
                            "payload.ref = 'refs/heads/main' and headers.'x-github-event' = 'push'",
                            "steps",
                            List.of(
                                    Map.of(
                                            "key",
                                            "chat",
                                            "url",
                                            chat.url("/hooks/{{ $encodeUrlComponent(payload.repository.name) }}"),
                                            "body",
                                            "{ 'text': payload.pusher.name & ' pushed ' & $count(payload.commits) & ' commits to ' & payload.repository.full_name }"))));
            assertThat(wf.path("steps").get(0).path("key").asString()).isEqualTo("chat");
            assertThat(wf.path("action_url").isNull()).isTrue();

            JsonNode run = finished(hook(wf, PUSH, "X-GitHub-Event", "push"));
            Map<String, Object> other = new HashMap<>(PUSH);
            other.put("ref", "refs/heads/feature");
            Api.Response filtered = hook(wf, other, "X-GitHub-Event", "push");

            assertThat(run.path("status").asString()).isEqualTo("succeeded");
            assertThat(filtered.json().path("status").asString()).isEqualTo("filtered");
            assertThat(chat.received()).hasSize(1);
            Sink.Received message = chat.received().get(0);
            assertThat(message.path()).isEqualTo("/hooks/kikonect");
            assertThat(Api.JSON.readTree(message.body()).path("text").asString())
                    .isEqualTo("ada pushed 2 commits to kikonect/kikonect");
            assertThat(message.header("content-type")).isEqualTo("application/json");
            assertThat(message.header("webhook-signature")).startsWith("v1,");
            assertThat(step(run, "chat").path("status").asString()).isEqualTo("succeeded");
        }
    }

    @Test
    void a_stripe_stream_passes_only_invoice_paid_mapped_to_an_erp_body() {
        try (Sink erp = new Sink()) {
            JsonNode wf = create(Map.of(
                    "filter",
                    "payload.type = 'invoice.paid'",
                    "steps",
                    List.of(Map.of(
                            "key",
                            "erp",
                            "method",
                            "PUT",
                            "url",
                            erp.url("/api/invoices/{{ payload.data.object.id }}"),
                            "headers",
                            Map.of("X-Api-Key", "erp-key-1", "X-Customer", "{{ payload.data.object.customer }}"),
                            "body",
                            "{ 'invoice': payload.data.object.id, 'amount': payload.data.object.amount_paid / 100, "
                                    + "'currency': $uppercase(payload.data.object.currency), 'paid': true }"))));
            List<Long> runs = new ArrayList<>();
            for (String type : List.of("invoice.created", "invoice.finalized", "invoice.paid", "customer.updated")) {
                Map<String, Object> event = Map.of(
                        "id",
                        "evt_" + type,
                        "type",
                        type,
                        "data",
                        Map.of(
                                "object",
                                Map.of("id", "in_1", "customer", "cus_9", "amount_paid", 12050, "currency", "eur")));
                Api.Response accepted = hook(wf, event);
                assertThat(accepted.status()).isEqualTo(202);
                runs.add(accepted.json().path("id").asLong());
            }
            JsonNode paid = awaitFinished(user, runs.get(2));

            assertThat(paid.path("status").asString()).isEqualTo("succeeded");
            assertThat(erp.received()).hasSize(1);
            Sink.Received put = erp.received().get(0);
            assertThat(put.method()).isEqualTo("PUT");
            assertThat(put.path()).isEqualTo("/api/invoices/in_1");
            assertThat(put.header("x-api-key")).isEqualTo("erp-key-1");
            assertThat(put.header("x-customer")).isEqualTo("cus_9");
            JsonNode body = Api.JSON.readTree(put.body());
            assertThat(body.path("amount").asDouble()).isEqualTo(120.5);
            assertThat(body.path("currency").asString()).isEqualTo("EUR");
            for (int i : new int[] {0, 1, 3}) {
                assertThat(api.get("/runs/" + runs.get(i), user.token())
                                .json()
                                .path("status")
                                .asString())
                        .isEqualTo("filtered");
            }
        }
    }

    /** The chain: a ticket, then a chat message with the ticket's id; audit beside them. */
    private Map<String, Object> chain(Sink sink) {
        return Map.of(
                "name", "Pushes to chat",
                "filter", "payload.ref = 'refs/heads/main'",
                "steps",
                        List.of(
                                Map.of(
                                        "key",
                                        "ticket",
                                        "method",
                                        "POST",
                                        "url",
                                        sink.url("/tickets/api/tickets"),
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
                                        sink.url("/chat/hooks/{{ $encodeUrlComponent(payload.repository.name) }}"),
                                        "body",
                                        "{ 'text': 'Ticket ' & steps.ticket.response.body.id & ' opened' }"),
                                Map.of(
                                        "key",
                                        "audit",
                                        "url",
                                        sink.url("/audit/events"),
                                        "when",
                                        "payload.forced = true")));
    }

    private static Sink.Reply ticketCreated() {
        return new Sink.Reply(
                201, Map.of("Content-Type", "application/json"), "{\"id\":\"T-4711\",\"state\":\"open\"}", false);
    }

    @Test
    void the_ticket_id_is_carried_to_the_chat_step_while_audit_runs_in_parallel() {
        try (Sink sink =
                new Sink().replyWith(r -> r.path().startsWith("/tickets") ? ticketCreated() : Sink.Reply.status(200))) {
            JsonNode wf = create(chain(sink));
            JsonNode run = finished(hook(wf, PUSH));

            assertThat(run.path("status").asString()).isEqualTo("succeeded");
            Sink.Received ticket = at(sink, "/tickets").get(0);
            assertThat(ticket.header("x-repo")).isEqualTo("kikonect/kikonect");
            assertThat(Api.JSON.readTree(ticket.body()).path("commits").asInt()).isEqualTo(2);
            Sink.Received chat = at(sink, "/chat").get(0);
            assertThat(Api.JSON.readTree(chat.body()).path("text").asString()).isEqualTo("Ticket T-4711 opened");
            assertThat(chat.at()).isAfterOrEqualTo(ticket.at());
            Sink.Received audit = at(sink, "/audit").get(0);
            assertThat(audit.body())
                    .as("a step without body sends the payload byte for byte")
                    .isEqualTo(Api.JSON.writeValueAsString(PUSH));
            assertThat(List.of(ticket.header("webhook-id"), chat.header("webhook-id"), audit.header("webhook-id")))
                    .as("each step has its own webhook-id")
                    .doesNotHaveDuplicates();
            assertThat(step(run, "chat").path("needs").get(0).asString()).isEqualTo("ticket");
            assertThat(step(run, "ticket")
                            .path("attempts")
                            .get(0)
                            .path("response_status")
                            .asInt())
                    .isEqualTo(201);
            assertThat(step(run, "ticket").path("webhook_id").asString()).isEqualTo(ticket.header("webhook-id"));
            assertThat(sink.received()).hasSize(3);
        }
    }

    @Test
    void the_ticket_service_down_fails_ticket_skips_chat_runs_audit_and_a_retry_sends_only_ticket_and_chat() {
        AtomicBoolean ticketsUp = new AtomicBoolean(false);
        try (Sink sink = new Sink().replyWith(r -> {
            if (r.path().startsWith("/tickets")) {
                return ticketsUp.get() ? ticketCreated() : Sink.Reply.status(503);
            }
            return Sink.Reply.status(200);
        })) {
            Map<String, Object> definition = new HashMap<>(chain(sink));
            List<Object> steps = new ArrayList<>((List<?>) definition.get("steps"));
            Map<String, Object> ticket = new HashMap<>((Map<String, Object>) steps.get(0));
            ticket.put("max_attempts", 2);
            steps.set(0, ticket);
            definition.put("steps", steps);
            JsonNode wf = create(definition);

            JsonNode failed = finished(hook(wf, PUSH));
            assertThat(failed.path("status").asString()).isEqualTo("failed");
            assertThat(failed.path("error").asString()).isEqualTo("ticket: HTTP 503");
            assertThat(step(failed, "ticket").path("status").asString()).isEqualTo("failed");
            assertThat(step(failed, "ticket").path("attempts")).hasSize(2);
            assertThat(step(failed, "chat").path("status").asString()).isEqualTo("skipped");
            assertThat(step(failed, "chat").path("error").asString()).isEqualTo("needs ticket, which failed");
            assertThat(step(failed, "audit").path("status").asString()).isEqualTo("succeeded");
            assertThat(at(sink, "/chat")).isEmpty();
            assertThat(at(sink, "/audit")).hasSize(1);
            String ticketWebhookId = at(sink, "/tickets").get(0).header("webhook-id");

            ticketsUp.set(true);
            long runId = failed.path("id").asLong();
            Api.Response retry = api.post("/runs/" + runId + "/retry", user.token(), Map.of());
            assertThat(retry.status()).as(retry.body()).isEqualTo(202);
            JsonNode retried = awaitFinished(user, runId);

            assertThat(retried.path("status").asString()).isEqualTo("succeeded");
            assertThat(at(sink, "/audit")).as("audit is not sent again").hasSize(1);
            assertThat(at(sink, "/tickets")).hasSize(3);
            assertThat(at(sink, "/tickets").get(2).header("webhook-id"))
                    .as("a step keeps its webhook-id")
                    .isEqualTo(ticketWebhookId);
            assertThat(Api.JSON
                            .readTree(at(sink, "/chat").get(0).body())
                            .path("text")
                            .asString())
                    .isEqualTo("Ticket T-4711 opened");
            assertThat(step(retried, "ticket").path("attempts"))
                    .extracting(a -> a.path("number").asInt())
                    .containsExactly(1, 2, 3);
            assertThat(step(retried, "chat").path("status").asString()).isEqualTo("succeeded");

            Api.Response again = api.post("/runs/" + runId + "/retry", user.token(), Map.of());
            assertThat(again.status()).isEqualTo(409);
        }
    }

    @Test
    void get_and_delete_steps_send_no_body_and_a_get_response_feeds_the_next_step() {
        try (Sink sink = new Sink()
                .replyWith(r -> r.method().equals("GET")
                        ? new Sink.Reply(
                                200,
                                Map.of("Content-Type", "application/json"),
                                "{\"user\":{\"email\":\"ada@example.com\"}}",
                                false)
                        : Sink.Reply.status(204))) {
            JsonNode wf = create(Map.of(
                    "trigger_type",
                    "manual",
                    "steps",
                    List.of(
                            Map.of("key", "lookup", "method", "GET", "url", sink.url("/users/{{ payload.user_id }}")),
                            Map.of(
                                    "key",
                                    "notify",
                                    "needs",
                                    List.of("lookup"),
                                    "method",
                                    "POST",
                                    "url",
                                    sink.url("/mail"),
                                    "body",
                                    "{ 'to': steps.lookup.response.body.user.email }"),
                            Map.of(
                                    "key",
                                    "cleanup",
                                    "needs",
                                    List.of("notify"),
                                    "method",
                                    "DELETE",
                                    "url",
                                    sink.url("/sessions/{{ payload.user_id }}")))));
            Api.Response accepted =
                    api.post("/workflows/" + wf.path("id").asLong() + "/trigger", user.token(), Map.of("user_id", 7));
            JsonNode run = finished(accepted);

            assertThat(run.path("status").asString()).isEqualTo("succeeded");
            List<Sink.Received> received = sink.received();
            assertThat(received).extracting(Sink.Received::method).containsExactly("GET", "POST", "DELETE");
            assertThat(received.get(0).path()).isEqualTo("/users/7");
            assertThat(received.get(0).body()).isEmpty();
            assertThat(received.get(0).header("webhook-signature"))
                    .as("signed over an empty body")
                    .startsWith("v1,");
            assertThat(Api.JSON.readTree(received.get(1).body()).path("to").asString())
                    .isEqualTo("ada@example.com");
            assertThat(received.get(2).body()).isEmpty();
        }
    }

    @Test
    void an_expression_that_fails_at_run_time_fails_its_step_at_once_with_its_position_and_no_retry() {
        try (Sink sink = new Sink()) {
            JsonNode wf = create(Map.of(
                    "trigger_type",
                    "manual",
                    "steps",
                    List.of(Map.of("key", "sum", "url", sink.url("/sum"), "body", "{ 'total': payload.amount + 1 }"))));
            JsonNode run = finished(api.post(
                    "/workflows/" + wf.path("id").asLong() + "/trigger", user.token(), Map.of("amount", "ten")));

            assertThat(run.path("status").asString()).isEqualTo("failed");
            assertThat(run.path("attempts")).hasSize(1);
            assertThat(run.path("attempts").get(0).path("error").asString())
                    .startsWith("body: ")
                    .contains("position");
            assertThat(sink.received()).isEmpty();
        }
    }

    @Test
    void cancelling_a_run_with_steps_stops_every_step_not_yet_sent() {
        try (Sink sink = new Sink()
                .replyWith(r -> r.path().startsWith("/slow") ? Sink.Reply.status(503) : Sink.Reply.status(200))) {
            JsonNode wf = create(Map.of(
                    "trigger_type",
                    "manual",
                    "max_attempts",
                    20,
                    "steps",
                    List.of(
                            Map.of("key", "slow", "url", sink.url("/slow")),
                            Map.of("key", "after", "needs", List.of("slow"), "url", sink.url("/after")))));
            long runId = api.post("/workflows/" + wf.path("id").asLong() + "/trigger", user.token(), Map.of())
                    .json()
                    .path("id")
                    .asLong();
            eventually().until(() -> at(sink, "/slow").size() >= 2);

            Api.Response cancelled = api.post("/runs/" + runId + "/cancel", user.token(), Map.of());

            assertThat(cancelled.status()).as(cancelled.body()).isEqualTo(200);
            assertThat(cancelled.json().path("status").asString()).isEqualTo("cancelled");
            JsonNode run = eventually()
                    .until(
                            () -> api.get("/runs/" + runId, user.token()).json(),
                            r -> !step(r, "slow").path("status").asString().equals("running"));
            assertThat(step(run, "after").path("status").asString()).isEqualTo("cancelled");
            int sent = at(sink, "/slow").size();
            clock.advance(Duration.ofMinutes(10));
            assertThat(at(sink, "/after")).isEmpty();
            assertThat(at(sink, "/slow").size()).isLessThanOrEqualTo(sent + 1);
        }
    }

    @Test
    void the_saved_workflow_dry_run_shows_what_each_step_would_send_without_sending() {
        try (Sink sink = new Sink()) {
            JsonNode wf = create(chain(sink));
            Api.Response dry = api.post(
                    "/workflows/" + wf.path("id").asLong() + "/test",
                    user.token(),
                    Map.of(
                            "payload",
                            PUSH,
                            "responses",
                            Map.of("ticket", Map.of("status", 201, "body", Map.of("id", "T-1")))));

            assertThat(dry.status()).as(dry.body()).isEqualTo(200);
            JsonNode chat = null;
            for (JsonNode s : dry.json().path("steps")) {
                if (s.path("key").asString().equals("chat")) {
                    chat = s;
                }
            }
            assertThat(chat).isNotNull();
            assertThat(Api.JSON
                            .readTree(chat.path("request").path("body").asString())
                            .path("text")
                            .asString())
                    .isEqualTo("Ticket T-1 opened");
            assertThat(sink.received()).isEmpty();
        }
    }

    @Test
    void every_attempt_records_what_it_sent_headers_and_signature_included_and_a_transformed_body() {
        try (Sink sink =
                new Sink().replyWith(r -> r.path().startsWith("/tickets") ? ticketCreated() : Sink.Reply.status(200))) {
            JsonNode wf = create(chain(sink));
            JsonNode run = finished(hook(wf, PUSH));

            assertThat(run.path("status").asString()).isEqualTo("succeeded");
            for (String key : List.of("ticket", "chat", "audit")) {
                JsonNode request = step(run, key).path("attempts").get(0).path("request");
                Sink.Received received =
                        at(sink, "/" + (key.equals("ticket") ? "tickets" : key)).get(0);
                assertThat(request.path("method").asString()).isEqualTo("POST");
                assertThat(request.path("url").asString()).isEqualTo(sink.url(received.path()));
                for (String header :
                        List.of("webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "user-agent")) {
                    assertThat(request.path("headers").properties().stream()
                                    .filter(h -> h.getKey().equalsIgnoreCase(header))
                                    .map(h -> h.getValue().asString())
                                    .findFirst())
                            .as(key + " " + header)
                            .contains(received.header(header));
                }
                if (key.equals("audit")) {
                    assertThat(request.path("body_is_payload").asBoolean())
                            .as("a step without body sends the payload")
                            .isTrue();
                    assertThat(request.path("body").isNull()).isTrue();
                } else {
                    assertThat(request.path("body_is_payload").asBoolean()).isFalse();
                    assertThat(request.path("body").asString()).isEqualTo(received.body());
                }
            }
            assertThat(step(run, "ticket")
                            .path("attempts")
                            .get(0)
                            .path("request")
                            .path("headers")
                            .path("X-Repo")
                            .asString())
                    .isEqualTo("kikonect/kikonect");
        }
    }

    @Test
    void a_one_step_shorthand_workflow_shows_its_deliver_step() {
        try (Sink sink = new Sink()) {
            JsonNode wf = api.createWorkflow(user, "manual", sink.url(), Map.of());
            assertThat(wf.path("steps").get(0).path("key").asString()).isEqualTo("deliver");
            assertThat(wf.path("steps").get(0).path("url").asString()).isEqualTo(sink.url());
            JsonNode run = finished(
                    api.post("/workflows/" + wf.path("id").asLong() + "/trigger", user.token(), Map.of("a", 1)));
            assertThat(step(run, "deliver").path("status").asString()).isEqualTo("succeeded");
            assertThat(step(run, "deliver").path("attempts")).hasSize(1);
            assertThat(step(run, "deliver").path("webhook_id").asString())
                    .isEqualTo(sink.received().get(0).header("webhook-id"));
        }
    }

    @Test
    void every_bad_definition_is_a_400_naming_its_field() {
        Map<String, Object> ok = Map.of("key", "a", "url", "https://example.com/a");
        assertProblem(
                Map.of(
                        "steps",
                        List.of(ok, Map.of("key", "b", "url", "https://example.com/b", "body", "{ 'x': payload.( }"))),
                "steps[1].body",
                "position");
        assertProblem(
                Map.of(
                        "steps",
                        List.of(
                                Map.of("key", "a", "url", "https://example.com/a", "needs", List.of("b")),
                                Map.of("key", "b", "url", "https://example.com/b", "needs", List.of("a")))),
                "steps[0].needs",
                "cycle");
        assertProblem(
                Map.of("steps", List.of(Map.of("key", "a", "url", "https://example.com/a", "needs", List.of("zzz")))),
                "steps[0].needs",
                "zzz");
        assertProblem(Map.of("steps", List.of(ok, ok)), "steps[1].key", "another step");
        List<Object> many = new ArrayList<>();
        for (int i = 0; i < 21; i++) {
            many.add(Map.of("key", "s" + i, "url", "https://example.com/" + i));
        }
        assertProblem(Map.of("steps", many), "steps", "at most 20");
        assertProblem(
                Map.of("steps", List.of(Map.of("key", "a", "url", "https://example.com/a", "method", "TRACE"))),
                "steps[0].method",
                "GET");
        assertProblem(
                Map.of(
                        "steps",
                        List.of(Map.of("key", "a", "url", "https://example.com/a", "headers", Map.of("Host", "x")))),
                "steps[0].headers.Host",
                "set by KiKonect");
        assertProblem(
                Map.of(
                        "steps",
                        List.of(Map.of(
                                "key", "a", "url", "https://example.com/a", "headers", Map.of("webhook-id", "x")))),
                "steps[0].headers.webhook-id",
                "set by KiKonect");
        assertProblem(
                Map.of("steps", List.of(Map.of("key", "a", "url", "http://10.0.0.1/internal"))),
                "steps[0].url",
                "refused");
        assertProblem(Map.of("action_url", "https://example.com/a", "steps", List.of(ok)), "steps", "not both");
    }

    private void assertProblem(Map<String, Object> definition, String field, String reasonContains) {
        Map<String, Object> body = new HashMap<>(definition);
        body.put("name", "bad");
        body.put("trigger_type", "manual");
        Api.Response refused = api.post("/workflows", user.token(), body);
        assertThat(refused.status()).as(refused.body()).isEqualTo(400);
        assertThat(refused.contentType()).startsWith("application/problem+json");
        boolean found = false;
        for (JsonNode e : refused.json().path("errors")) {
            found |= e.path("field").asString().equals(field)
                    && e.path("reason").asString().contains(reasonContains);
        }
        assertThat(found).as(refused.body()).isTrue();
    }

    @Test
    void a_templated_url_is_checked_by_the_ssrf_guard_when_it_is_sent() {
        JsonNode wf = create(Map.of(
                "trigger_type", "manual", "steps", List.of(Map.of("key", "a", "url", "http://{{ payload.host }}/x"))));
        JsonNode run = finished(api.post(
                "/workflows/" + wf.path("id").asLong() + "/trigger", user.token(), Map.of("host", "10.0.0.1")));
        assertThat(run.path("status").asString()).isEqualTo("failed");
        assertThat(run.path("attempts").get(0).path("error").asString()).startsWith("refused");
    }

    @Test
    void a_step_with_a_false_when_is_skipped_and_the_run_still_succeeds() {
        AtomicInteger calls = new AtomicInteger();
        try (Sink sink = new Sink().replyWith(r -> {
            calls.incrementAndGet();
            return Sink.Reply.status(200);
        })) {
            JsonNode wf = create(Map.of(
                    "trigger_type",
                    "manual",
                    "steps",
                    List.of(Map.of("key", "only_big", "url", sink.url("/big"), "when", "payload.amount > 100"))));
            JsonNode run = finished(
                    api.post("/workflows/" + wf.path("id").asLong() + "/trigger", user.token(), Map.of("amount", 5)));
            assertThat(run.path("status").asString()).isEqualTo("succeeded");
            assertThat(step(run, "only_big").path("status").asString()).isEqualTo("skipped");
            assertThat(calls.get()).isZero();
        }
    }

    @Test
    void a_replay_of_a_run_with_steps_runs_every_step_again_as_a_new_run() {
        try (Sink sink =
                new Sink().replyWith(r -> r.path().startsWith("/tickets") ? ticketCreated() : Sink.Reply.status(200))) {
            JsonNode wf = create(chain(sink));
            JsonNode first = finished(hook(wf, PUSH));
            Api.Response replay = api.post("/runs/" + first.path("id").asLong() + "/replay", user.token(), Map.of());
            JsonNode second = finished(replay);

            assertThat(second.path("status").asString()).isEqualTo("succeeded");
            assertThat(second.path("replay_of").asLong())
                    .isEqualTo(first.path("id").asLong());
            assertThat(at(sink, "/tickets")).hasSize(2);
            assertThat(at(sink, "/chat")).hasSize(2);
            assertThat(at(sink, "/audit")).hasSize(2);
            assertThat(step(second, "ticket").path("webhook_id").asString())
                    .isNotEqualTo(step(first, "ticket").path("webhook_id").asString());
        }
    }

    @Test
    void steps_read_the_incoming_headers_and_query_but_never_the_callers_credentials() {
        try (Sink sink = new Sink()) {
            JsonNode wf = create(
                    Map.of(
                            "steps",
                            List.of(
                                    Map.of(
                                            "key",
                                            "echo",
                                            "url",
                                            sink.url("/echo"),
                                            "body",
                                            "{ 'event': headers.'x-github-event', 'source': query.source, 'auth': headers.authorization }"))));
            String url = wf.path("webhook_url").asString() + "?source=ci";
            Api.Response accepted = api.sendWithHeaders(
                    "POST",
                    url,
                    "application/json",
                    "{}",
                    Map.of("X-GitHub-Event", "push", "Authorization", "Bearer secret-of-the-caller"));
            finished(accepted);

            JsonNode sent = Api.JSON.readTree(sink.received().get(0).body());
            assertThat(sent.path("event").asString()).isEqualTo("push");
            assertThat(sent.path("source").asString()).isEqualTo("ci");
            assertThat(sent.has("auth")).as("Authorization is not kept").isFalse();
        }
    }

    @Test
    void a_response_over_the_kept_size_reaches_its_dependant_cut_to_256_KiB() {
        String big = "[" + "1,".repeat(200_000) + "1]"; // about 400 KB of JSON
        try (Sink sink = new Sink()
                .replyWith(r -> r.path().startsWith("/big")
                        ? new Sink.Reply(200, Map.of("Content-Type", "application/json"), big, false)
                        : Sink.Reply.status(200))) {
            JsonNode wf = create(
                    Map.of(
                            "trigger_type",
                            "manual",
                            "steps",
                            List.of(
                                    Map.of("key", "big", "method", "GET", "url", sink.url("/big")),
                                    Map.of("key", "small", "method", "GET", "url", sink.url("/small")),
                                    Map.of(
                                            "key",
                                            "use",
                                            "needs",
                                            List.of("big", "small"),
                                            "url",
                                            sink.url("/use"),
                                            "body",
                                            "{ 'kept': $length(steps.big.response.body), 'small': steps.small.response.status }"))));
            JsonNode run =
                    finished(api.post("/workflows/" + wf.path("id").asLong() + "/trigger", user.token(), Map.of()));

            assertThat(run.path("status").asString()).isEqualTo("succeeded");
            JsonNode used = Api.JSON.readTree(at(sink, "/use").get(0).body());
            assertThat(used.path("kept").asInt())
                    .as("the cut body is text, not JSON")
                    .isEqualTo(256 * 1024);
            assertThat(used.path("small").asInt()).isEqualTo(200);
            assertThat(step(run, "big")
                            .path("attempts")
                            .get(0)
                            .path("response_body")
                            .asString())
                    .endsWith("[truncated to 4 KiB]");
        }
    }

    @Test
    void a_run_with_steps_that_fails_sends_its_failure_alert() {
        try (Sink sink = new Sink()
                .replyWith(r -> r.path().startsWith("/bad") ? Sink.Reply.status(400) : Sink.Reply.status(200))) {
            JsonNode wf = create(Map.of(
                    "trigger_type",
                    "manual",
                    "on_failure_url",
                    sink.url("/alerts"),
                    "steps",
                    List.of(
                            Map.of("key", "good", "url", sink.url("/good")),
                            Map.of("key", "bad", "url", sink.url("/bad")))));
            JsonNode run =
                    finished(api.post("/workflows/" + wf.path("id").asLong() + "/trigger", user.token(), Map.of()));

            assertThat(run.path("status").asString()).isEqualTo("failed");
            assertThat(run.path("error").asString()).isEqualTo("bad: HTTP 400");
            eventually().until(() -> at(sink, "/alerts").size() == 1);
            assertThat(at(sink, "/alerts").get(0).body())
                    .contains(Long.toString(run.path("id").asLong()));
        }
    }

    @Test
    void a_change_to_a_webhook_workflows_steps_applies_to_the_very_next_webhook() {
        try (Sink sink = new Sink()) {
            JsonNode wf =
                    create(Map.of("steps", List.of(Map.of("key", "a", "url", sink.url("/a"), "body", "{ 'v': 1 }"))));
            finished(hook(wf, Map.of()));
            Api.Response patched = api.send(
                    "PATCH",
                    "/workflows/" + wf.path("id").asLong(),
                    user.token(),
                    "application/json",
                    Api.JSON.writeValueAsString(Map.of(
                            "filter",
                            "payload.go = true",
                            "steps",
                            List.of(Map.of(
                                    "key",
                                    "a",
                                    "url",
                                    sink.url("/a"),
                                    "body",
                                    "{ 'v': 2, 'event': headers.'x-event' }")))));
            assertThat(patched.status()).as(patched.body()).isEqualTo(200);

            Api.Response stopped = hook(wf, Map.of("go", false), "X-Event", "e1");
            finished(hook(wf, Map.of("go", true), "X-Event", "e2"));

            assertThat(stopped.json().path("status").asString()).isEqualTo("filtered");
            JsonNode second = Api.JSON.readTree(sink.received().get(1).body());
            assertThat(second.path("v").asInt()).isEqualTo(2);
            assertThat(second.path("event").asString()).isEqualTo("e2");
        }
    }
}
