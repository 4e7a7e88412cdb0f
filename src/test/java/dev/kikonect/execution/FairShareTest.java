package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.lifecycle.ScheduledRuns;
import dev.kikonect.lifecycle.WorkSignal;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.support.TransactionTemplate;

/** Fair share: one owner's backlog to a slow receiver holds at most its share of the delivery slots. */
class FairShareTest extends ApiTest {

    @Autowired
    ScheduledRuns runs;

    @Autowired
    WorkSignal signal;

    @Autowired
    TransactionTemplate transactions;

    @Test
    void another_owners_deliveries_do_not_wait_behind_one_owners_backlog_of_slow_deliveries() throws Exception {
        try (Sink slow = new Sink().replyWith(r -> {
                    try {
                        Thread.sleep(700); // slow, under the tests' 1 s delivery timeout
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return Sink.Reply.status(200);
                });
                Sink fast = new Sink()) {
            Api.User noisy = api.newUser();
            long backlog = api.createWorkflow(noisy, "manual", slow.url(), Map.of())
                    .path("id")
                    .asLong();
            List<ScheduledRuns.Firing> firings = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                firings.add(new ScheduledRuns.Firing(backlog, noisy.id(), "manual", "{\"i\":" + i + "}"));
            }
            try {
                transactions.executeWithoutResult(s -> runs.enqueueAll(firings, clock.instant()));
                signal.wake();
                eventually().until(() -> slow.received().size() >= 200); // the noisy owner has its deliveries in flight

                Api.User quiet = api.newUser();
                long workflow = api.createWorkflow(quiet, "manual", fast.url(), Map.of())
                        .path("id")
                        .asLong();
                // 20 deliveries of the quiet owner while the noisy owner's backlog is being worked off.
                Map<String, Instant> sent = new HashMap<>();
                for (int i = 0; i < 20; i++) {
                    String body = "{\"q\":" + i + "}";
                    sent.put(body, Instant.now());
                    assertThat(api.post("/workflows/" + workflow + "/trigger", quiet.token(), body)
                                    .status())
                            .isEqualTo(202);
                }
                eventually().until(() -> fast.received().size() == 20);
                long worst = fast.received().stream()
                        .mapToLong(r ->
                                Duration.between(sent.get(r.body()), r.at()).toMillis())
                        .max()
                        .orElseThrow();

                // 3,000 runs at 0.7 s over 1,024 slots would keep them waiting for seconds; 256 per owner leave the
                // rest free.
                assertThat(worst)
                        .as("ms from trigger to delivery, worst of 20 (p99), behind another owner's 3,000 slow runs")
                        .isLessThan(1000);
                assertThat(slow.received().size())
                        .as("the noisy owner's backlog was still being delivered")
                        .isLessThan(3000);
            } finally {
                api.send("DELETE", "/workflows/" + backlog, noisy.token(), null, null); // its runs and jobs go with it
            }
        }
    }
}
