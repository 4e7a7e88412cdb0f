package dev.kikonect.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.execution.DeliveryGuaranteesTest;
import dev.kikonect.lifecycle.Retention;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

class ErrorsAndOperationsTest extends ApiTest {

    @Autowired
    Retention retention;

    @Autowired
    JdbcClient jdbc;

    private static void assertProblem(Api.Response r, int status) {
        assertThat(r.status()).isEqualTo(status);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.json().path("type").asString()).startsWith(Problems.TYPE_BASE);
        assertThat(r.json().path("title").asString()).isNotEmpty();
        assertThat(r.json().path("detail").asString()).isNotEmpty();
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("at dev.kikonect");
    }

    @Test
    void every_kind_of_error_is_problem_json() {
        Api.User user = api.newUser();
        assertProblem(api.get("/no-such-route", user.token()), 404);
        assertProblem(api.send("DELETE", "/me", user.token(), null, null), 405);
        assertProblem(api.send("POST", "/workflows", user.token(), "application/json", "{\"name\": "), 400);
        assertProblem(api.send("POST", "/workflows", user.token(), "application/json", "[1,2]"), 400);
        assertProblem(api.send("POST", "/workflows", user.token(), "text/plain", "hello"), 415);
        assertProblem(
                api.send(
                        "POST",
                        "/workflows",
                        user.token(),
                        "application/json",
                        "{\"name\":\"" + "x".repeat(1_100_000) + "\"}"),
                413);
        assertProblem(api.get("/workflows/not-a-number", user.token()), 400);
        assertProblem(api.get("/workflows?limit=0", user.token()), 400);
    }

    @Test
    void a_request_tomcat_itself_refuses_still_gets_problem_json() throws Exception {
        try (Socket socket = new Socket(
                "127.0.0.1", Integer.parseInt(api.base().substring(api.base().lastIndexOf(':') + 1)))) {
            OutputStream out = socket.getOutputStream();
            out.write("GET /workflows/%zz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(response).startsWith("HTTP/1.1 400");
            assertThat(response).doesNotContain("<html").doesNotContain("Exception");
        }
    }

    @Test
    void health_and_prometheus_metrics_are_served() {
        try (Sink sink = new Sink()) {
            Api.User user = api.newUser();
            String hook = api.createWorkflow(user, "webhook", sink.url(), Map.of())
                    .path("webhook_url")
                    .asString();
            long run = api.send("POST", hook, null, "application/json", "{}")
                    .json()
                    .path("id")
                    .asLong();
            awaitFinished(user, run);
        }
        assertThat(api.get("/health/live", null).status()).isEqualTo(200);
        Api.Response ready = api.get("/health/ready", null);
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().path("status").asString()).isEqualTo("UP");

        String metrics = api.get("/metrics", null).body();
        assertThat(metrics)
                .contains("kikonect_deliveries_total{outcome=\"success\"")
                .contains("kikonect_runs_total{outcome=\"succeeded\",trigger=\"webhook\"")
                .contains("kikonect_delivery_duration_seconds_bucket")
                .contains("kikonect_run_latency_seconds_bucket")
                .contains("kikonect_queue_depth")
                .contains("kikonect_queue_oldest_age_seconds")
                .contains("kikonect_batch_write_seconds_max{batcher=\"kikonect-ingest\"")
                .contains("kikonect_batch_write_seconds_max{batcher=\"kikonect-completer\"");
    }

    @Test
    void retention_never_drops_the_partition_being_filled_even_when_its_runs_are_past_their_retention() {
        // Dropping whole partitions, succeeded against failed, open runs and jobs: RunPartitionsTest, on a database
        // of its own (here every test shares the partition being filled).
        Api.User user = api.newUser();
        long wf = api.createWorkflow(user, "manual", "https://example.com/x", Map.of())
                .path("id")
                .asLong();
        long succeeded = api.post("/workflows/" + wf + "/trigger", user.token(), "{}")
                .json()
                .path("id")
                .asLong();
        long failed = api.post("/workflows/" + wf + "/trigger", user.token(), "{}")
                .json()
                .path("id")
                .asLong();
        jdbc.sql("DELETE FROM jobs WHERE run_id IN (:a, :b)")
                .param("a", succeeded)
                .param("b", failed)
                .update();
        jdbc.sql("UPDATE workflow_runs SET status = 'succeeded', ended_at = now() - interval '31 days' WHERE id = :id")
                .param("id", succeeded)
                .update();
        jdbc.sql("UPDATE workflow_runs SET status = 'failed', ended_at = now() - interval '31 days' WHERE id = :id")
                .param("id", failed)
                .update();

        jdbc.sql("UPDATE workflow_runs SET ended_at = now() - interval '91 days' WHERE id IN (:a, :b)")
                .param("a", succeeded)
                .param("b", failed)
                .update();

        assertThat(retention.prune()).isZero();

        assertThat(api.get("/runs/" + succeeded, user.token()).status()).isEqualTo(200);
        assertThat(api.get("/runs/" + failed, user.token()).status()).isEqualTo(200);
    }

    @Test
    void a_failed_run_sends_one_signed_alert_to_the_on_failure_url() throws Exception {
        try (Sink action = new Sink().replyWith(400);
                Sink alerts = new Sink()) {
            Api.User user = api.newUser();
            JsonNode wf = api.createWorkflow(
                    user, "webhook", action.url(), Map.of(), Map.of("on_failure_url", alerts.url("/alerts")));
            assertThat(wf.path("on_failure_url").asString()).isEqualTo(alerts.url("/alerts"));
            long run = api.send("POST", wf.path("webhook_url").asString(), null, "application/json", "{}")
                    .json()
                    .path("id")
                    .asLong();

            assertThat(awaitFinished(user, run).path("status").asString()).isEqualTo("failed");
            eventually().until(() -> alerts.received().size() == 1);
            Sink.Received alert = alerts.received().get(0);
            JsonNode summary = Api.JSON.readTree(alert.body());
            assertThat(summary.path("type").asString()).isEqualTo("run.failed");
            assertThat(summary.path("run").path("id").asLong()).isEqualTo(run);
            assertThat(summary.path("run").path("error").asString()).isEqualTo("HTTP 400");
            assertThat(summary.path("workflow").path("id").asLong())
                    .isEqualTo(wf.path("id").asLong());
            assertThat(summary.path("link").asString()).endsWith("/runs/" + run);
            String signed = alert.header("webhook-id") + "." + alert.header("webhook-timestamp") + "." + alert.body();
            assertThat(alert.header("webhook-signature"))
                    .isEqualTo("v1,"
                            + DeliveryGuaranteesTest.hmac(
                                    wf.path("signing_secret").asString(), signed));
            // Once: the alert row is marked sent and nothing else is queued.
            eventually()
                    .until(() -> "sent"
                            .equals(jdbc.sql("SELECT status FROM failure_alerts WHERE run_id = :r")
                                    .param("r", run)
                                    .query(String.class)
                                    .single()));
            assertThat(alerts.received()).hasSize(1);
        }
    }
}
