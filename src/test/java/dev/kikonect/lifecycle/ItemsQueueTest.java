package dev.kikonect.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.support.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The statements of a for_each step against the database ({@link TestDatabase}): the expansion starts exactly
 * {@code concurrency} items, each item that ends starts the next, the loop step is claimed again once the last one
 * ended, and an item's claim does not count its siblings' kept responses as bytes it reads (the loop step's does, up
 * to the ceiling of what it gathers, past which the items come without their responses).
 */
class ItemsQueueTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private final QueueStores queue = QueueStores.on(db, 8);
    private final Items items = new Items(db.jdbc(), 4L << 20);
    private final Instant now = Instant.parse("2026-12-07T10:00:00Z");

    private List<ClaimedJob> claim(long workflow) {
        return queue.claims().claim(10_000, now, Duration.ofMinutes(5), "test-node").stream()
                .filter(j -> j.workflowId() == workflow)
                .toList();
    }

    private boolean succeed(ClaimedJob job, String body) {
        Attempt ok = new Attempt(job.number(), now, 3, true, false, 200, "{}", body, null, null, null);
        return queue.completions()
                .completeAll(
                        List.of(new Completions.Completion(
                                job, ok, Next.SUCCEEDED, null, new Completions.KeptResponse(200, "{}", body))),
                        now)
                .get(0)
                .applied();
    }

    @Test
    void a_loop_starts_its_first_items_each_end_starts_the_next_and_the_loop_step_gathers_once_all_ended() {
        TestDatabase.Workflow workflow = db.workflow(null, """
            [{"key": "lines", "url": "http://127.0.0.1:9/l/{{ item }}", "for_each": "payload.skus", "concurrency": 2},
             {"key": "after", "url": "http://127.0.0.1:9/a", "needs": ["lines"]}]""");
        queue.transactions()
                .executeWithoutResult(s -> queue.runs()
                        .enqueueAll(
                                List.of(new ScheduledRuns.Firing(
                                        workflow.id(), workflow.workspace(), "manual", "{\"skus\":[1,2,3,4,5]}")),
                                now));
        ClaimedJob loop = claim(workflow.id()).get(0);
        assertThat(loop.step()).isEqualTo("lines");

        assertThat(items.expand(loop, "[1,2,3,4,5]", 2, now)).isTrue();
        assertThat(items.expand(loop, "[1,2,3,4,5]", 2, now))
                .as("its job is gone: a second expand does nothing")
                .isFalse();

        List<ClaimedJob> first = claim(workflow.id());
        assertThat(first).extracting(ClaimedJob::step).containsExactlyInAnyOrder("lines#0", "lines#1");
        assertThat(items.value(loop.runId(), "lines#1")).contains("2");
        String big = "x".repeat(10_000);
        ClaimedJob zero = first.stream()
                .filter(j -> j.step().equals("lines#0"))
                .findFirst()
                .orElseThrow();
        assertThat(succeed(zero, "\"" + big + "\"")).isTrue();

        List<ClaimedJob> next = claim(workflow.id());
        assertThat(next).extracting(ClaimedJob::step).containsExactly("lines#2");
        assertThat(next.get(0).readBytes())
                .as("an item does not read its siblings' responses")
                .isZero();
        for (ClaimedJob j : List.of(
                first.stream()
                        .filter(x -> x.step().equals("lines#1"))
                        .findFirst()
                        .orElseThrow(),
                next.get(0))) {
            assertThat(succeed(j, "1")).isTrue();
        }
        List<ClaimedJob> last = claim(workflow.id());
        assertThat(last).extracting(ClaimedJob::step).containsExactlyInAnyOrder("lines#3", "lines#4");
        last.forEach(j -> assertThat(succeed(j, "1")).isTrue());

        List<ClaimedJob> gather = claim(workflow.id());
        assertThat(gather).extracting(ClaimedJob::step).containsExactly("lines");
        assertThat(gather.get(0).readBytes())
                .as("the loop step reads its items")
                .isGreaterThanOrEqualTo(10_000);
        assertThat(items.of(loop.runId(), "lines"))
                .extracting(Items.Item::index)
                .containsExactly(0, 1, 2, 3, 4);
        assertThat(queue.jdbc()
                        .sql("SELECT open_steps FROM workflow_runs WHERE id = :run")
                        .param("run", loop.runId())
                        .query(Integer.class)
                        .single())
                .as("the loop step and the step after it")
                .isEqualTo(2);
    }

    @Test
    void the_loop_step_reads_its_items_responses_up_to_the_ceiling_and_the_claim_reserves_no_more() {
        long ceiling = 25_000;
        Claims claims = new Claims(db.jdbc(), 8, ceiling);
        Items capped = new Items(db.jdbc(), ceiling);
        TestDatabase.Workflow workflow = db.workflow(null, """
            [{"key": "lines", "url": "http://127.0.0.1:9/l/{{ item }}", "for_each": "payload.skus", "concurrency": 5}]""");
        queue.transactions()
                .executeWithoutResult(s -> queue.runs()
                        .enqueueAll(
                                List.of(new ScheduledRuns.Firing(
                                        workflow.id(), workflow.workspace(), "manual", "{\"skus\":[1,2,3,4,5]}")),
                                now));
        ClaimedJob loop = claim(workflow.id()).get(0);
        assertThat(capped.expand(loop, "[1,2,3,4,5]", 5, now)).isTrue();
        String body = "\"" + "x".repeat(10_000) + "\""; // 10,002 bytes, and 2 of headers: two fit in 25,000
        List<ClaimedJob> all = claim(workflow.id());
        System.out.println("DEBUG "
                + queue.jdbc()
                        .sql(
                                "SELECT string_agg(step || ':' || status || ':' || run_at, ',') FROM jobs WHERE run_id = :r")
                        .param("r", loop.runId())
                        .query(String.class)
                        .single()
                + " steps "
                + queue.jdbc()
                        .sql("SELECT string_agg(key || ':' || status, ',') FROM run_steps WHERE run_id = :r")
                        .param("r", loop.runId())
                        .query(String.class)
                        .single());
        assertThat(all).hasSize(5);
        all.forEach(j -> assertThat(succeed(j, body)).isTrue());

        List<ClaimedJob> gather = claims.claim(10_000, now, Duration.ofMinutes(5), "test-node").stream()
                .filter(j -> j.workflowId() == workflow.id())
                .toList();
        assertThat(gather).extracting(ClaimedJob::step).containsExactly("lines");
        assertThat(gather.get(0).readBytes())
                .as("50,020 bytes of responses, read up to the ceiling")
                .isEqualTo(ceiling);
        List<Items.Item> read = capped.of(loop.runId(), "lines");
        assertThat(read).extracting(Items.Item::index).containsExactly(0, 1, 2, 3, 4);
        assertThat(read).extracting(Items.Item::cut).containsExactly(false, false, true, true, true);
        assertThat(read).extracting(Items.Item::responseBody).containsExactly(body, body, null, null, null);
        assertThat(read)
                .as("a cut item keeps its status")
                .extracting(Items.Item::responseStatus)
                .containsOnly(200);
    }
}
