package dev.kikonect.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class BatcherTest {

    private final List<List<Integer>> batches = new CopyOnWriteArrayList<>();
    private final CountDownLatch gate = new CountDownLatch(1);
    private Batcher<Integer, Integer> batcher;

    @AfterEach
    void close() {
        gate.countDown();
        if (batcher != null) {
            batcher.close();
        }
    }

    /** Doubles each item; negative items make a batch fail; item 0 makes the writer wait at the gate. */
    private List<Integer> write(List<Integer> items) {
        batches.add(List.copyOf(items));
        if (items.contains(0)) {
            await(gate);
        }
        if (items.stream().anyMatch(i -> i < 0)) {
            throw new IllegalArgumentException("negative item in " + items);
        }
        return items.stream().map(i -> i * 2).toList();
    }

    private Integer writeOne(Integer item) {
        return write(List.of(item)).get(0);
    }

    private Batcher<Integer, Integer> batcher(
            int maxBatch, int maxBacklog, Function<List<Integer>, List<Integer>> writer) {
        batcher = new Batcher<>(
                "test",
                maxBatch,
                maxBacklog,
                writer,
                i -> writer.apply(List.of(i)).get(0),
                new SimpleMeterRegistry());
        return batcher;
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void every_item_gets_its_own_result_and_no_batch_exceeds_the_maximum() throws Exception {
        batcher(16, 10_000, items -> {
            batches.add(List.copyOf(items));
            try {
                Thread.sleep(2); // a commit takes a while: items queue up behind it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return items.stream().map(i -> i * 2).toList();
        });
        List<CompletableFuture<Integer>> results = new ArrayList<>();
        try (ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<CompletableFuture<Integer>>> submitted = new ArrayList<>();
            for (int i = 1; i <= 1_000; i++) {
                int item = i;
                submitted.add(senders.submit(() -> batcher.submit(item)));
            }
            for (var f : submitted) {
                results.add(f.get());
            }
        }

        for (int i = 0; i < results.size(); i++) {
            assertThat(results.get(i).get(10, TimeUnit.SECONDS)).isEqualTo((i + 1) * 2);
        }
        assertThat(batches).allSatisfy(b -> assertThat(b.size()).isBetween(1, 16));
        assertThat(batches.stream().mapToInt(List::size).sum()).isEqualTo(1_000);
        assertThat(batches.size())
                .as("batches for 1,000 items arriving together")
                .isLessThan(1_000);
    }

    @Test
    void a_failing_batch_is_written_item_by_item_so_only_the_bad_item_fails() throws Exception {
        batcher(16, 100, this::write);
        CompletableFuture<Integer> first = batcher.submit(0); // holds the writer at the gate
        Awaitility.await().until(() -> !batches.isEmpty());
        CompletableFuture<Integer> good = batcher.submit(1);
        CompletableFuture<Integer> bad = batcher.submit(-1);
        CompletableFuture<Integer> alsoGood = batcher.submit(2);
        gate.countDown();

        assertThat(first.get(10, TimeUnit.SECONDS)).isZero();
        assertThat(good.get(10, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(alsoGood.get(10, TimeUnit.SECONDS)).isEqualTo(4);
        assertThatThrownBy(bad::join)
                .isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(IllegalArgumentException.class);
        assertThat(batches).contains(List.of(1, -1, 2), List.of(1), List.of(-1), List.of(2));
    }

    @Test
    void a_full_backlog_refuses_at_once_instead_of_growing() throws Exception {
        batcher(16, 3, this::write);
        CompletableFuture<Integer> first = batcher.submit(0); // taken by the writer, which waits at the gate
        Awaitility.await().until(() -> batcher.backlog() == 0 && !batches.isEmpty());
        List<CompletableFuture<Integer>> queued = List.of(batcher.submit(1), batcher.submit(2), batcher.submit(3));

        CompletableFuture<Integer> refused = batcher.submit(4);

        assertThat(refused).isCompletedExceptionally();
        assertThatThrownBy(refused::join)
                .hasCauseInstanceOf(DomainException.Unavailable.class)
                .hasMessageContaining("3 writes behind");
        gate.countDown();
        assertThat(first.get(10, TimeUnit.SECONDS)).isZero();
        for (CompletableFuture<Integer> f : queued) {
            assertThat(f.get(10, TimeUnit.SECONDS)).isPositive();
        }
    }

    @Test
    void the_writer_survives_an_error_thrown_while_writing() throws Exception {
        List<Integer> calls = new CopyOnWriteArrayList<>();
        batcher(16, 100, items -> {
            calls.addAll(items);
            if (items.contains(7)) {
                throw new StackOverflowError("not a RuntimeException");
            }
            return items;
        });

        CompletableFuture<Integer> broken = batcher.submit(7);
        assertThatThrownBy(() -> broken.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(StackOverflowError.class);

        assertThat(batcher.submit(8).get(10, TimeUnit.SECONDS)).isEqualTo(8);
    }

    @Test
    void closing_writes_what_is_queued_then_refuses_new_items() throws Exception {
        batcher(16, 100, this::write);
        CompletableFuture<Integer> queued = batcher.submit(5);

        batcher.close();

        assertThat(queued.get(10, TimeUnit.SECONDS)).isEqualTo(10);
        assertThatThrownBy(() -> batcher.submit(6).join()).hasCauseInstanceOf(DomainException.Unavailable.class);
    }

    @Test
    void an_item_still_queued_at_its_deadline_is_dropped_unwritten_and_one_being_written_gets_an_answer_soon_after()
            throws Exception {
        batcher(16, 10_000, this::write);
        CompletableFuture<Integer> stuck = CompletableFuture.supplyAsync(() -> batcher.call(0, Duration.ofMillis(200)));
        while (batches.isEmpty()) {
            Thread.sleep(5); // the writer has taken item 0 and waits at the gate: a database that does not answer
        }

        long started = System.nanoTime();
        assertThatThrownBy(() -> batcher.call(7, Duration.ofMillis(200)))
                .isInstanceOfSatisfying(
                        DomainException.Unavailable.class,
                        e -> assertThat(e.getMessage()).contains("nothing was stored"));
        // dropped at its deadline, not before it; "soon after" is only a bound against waiting for the stuck write
        assertThat((System.nanoTime() - started) / 1_000_000).isBetween(150L, 10_000L);
        assertThatThrownBy(stuck::join)
                .hasCauseInstanceOf(DomainException.Unavailable.class)
                .cause()
                .hasMessageContaining("may or may not have been stored");

        gate.countDown();
        assertThat(batcher.call(8, Duration.ofSeconds(5))).isEqualTo(16);
        assertThat(batches).as("item 7 was never written").noneMatch(b -> b.contains(7));
    }
}
