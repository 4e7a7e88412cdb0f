package dev.kikonect.common;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.dao.TransientDataAccessResourceException;

/**
 * Group commit: callers submit one item each and wait; a single writer thread takes everything that queued up while
 * the previous batch was being written and writes it with one statement (one commit, one fsync). No item waits for
 * a timer: under light load a batch is one item, under heavy load batches grow by themselves.
 *
 * <p>The queue is bounded ({@code maxBacklog}, like River's batch completer): when the database falls that far
 * behind, {@link #submit} refuses at once with {@link DomainException.Unavailable} instead of letting memory grow.
 * The writer thread survives anything a batch throws; the items of that batch fail, the next batch is written.
 *
 * @param <I> an item
 * @param <R> its result
 */
public final class Batcher<I, R> implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Batcher.class);

    /** {@code taken} is set once, by the writer taking the item or by its caller giving up on it: whoever is first. */
    private record Pending<I, R>(I item, CompletableFuture<R> result, AtomicBoolean taken) {
        Pending(I item, CompletableFuture<R> result) {
            this(item, result, new AtomicBoolean());
        }
    }

    private final BlockingQueue<Pending<I, R>> queue;
    private final int maxBatch;
    private final int maxBacklog;
    private final String name;
    private final Function<List<I>, List<R>> writeBatch;
    private final Function<I, R> writeOne;
    private final Thread writer;
    private final Timer writes;
    private volatile boolean open = true;

    /**
     * @param writeBatch writes a batch and returns one result per item, in order
     * @param writeOne writes a single item; used for each item of a batch that failed as a whole, so that one bad item
     *     does not fail the others
     */
    public Batcher(
            String name,
            int maxBatch,
            Function<List<I>, List<R>> writeBatch,
            Function<I, R> writeOne,
            MeterRegistry meters) {
        this(name, maxBatch, 20 * maxBatch, writeBatch, writeOne, meters);
    }

    /** @param maxBacklog items that may wait at most; beyond it {@link #submit} refuses */
    public Batcher(
            String name,
            int maxBatch,
            int maxBacklog,
            Function<List<I>, List<R>> writeBatch,
            Function<I, R> writeOne,
            MeterRegistry meters) {
        this.name = name;
        this.maxBacklog = maxBacklog;
        this.queue = new LinkedBlockingQueue<>(maxBacklog);
        this.writes = Timer.builder("kikonect.batch.write")
                .description("How long one group commit took (statement and commit); its max shows database stalls")
                .tag("batcher", name)
                .publishPercentileHistogram()
                .register(meters);
        this.maxBatch = maxBatch;
        this.writeBatch = writeBatch;
        this.writeOne = writeOne;
        this.writer = Thread.ofPlatform().name(name).daemon(true).start(this::run);
    }

    /**
     * Queues {@code item}; the future completes once its batch is committed. Fails at once (the future completes
     * exceptionally) when the backlog is full or the batcher is closed.
     */
    public CompletableFuture<R> submit(I item) {
        CompletableFuture<R> result = new CompletableFuture<>();
        if (!open) {
            result.completeExceptionally(new DomainException.Unavailable(
                    "shutting-down", "This node is shutting down; retry.", Duration.ofSeconds(1)));
            return result;
        }
        if (!queue.offer(new Pending<>(item, result))) {
            result.completeExceptionally(new DomainException.Unavailable(
                    "overloaded",
                    "The database is " + maxBacklog + " writes behind (" + name + "); retry shortly.",
                    Duration.ofSeconds(1)));
        }
        return result;
    }

    /**
     * Submits {@code item} and waits for its result. If the writer has not taken it within {@code deadline} (the
     * database is stalled or far behind), it is dropped, never written, and this throws {@link
     * DomainException.Unavailable}: the caller can truthfully say that nothing was stored. An item already being
     * written gets {@code deadline} plus half a second more; past that the caller hears 503 "may or may not be stored"
     * (a paused database) instead of waiting for the JDBC socket timeout.
     */
    public R call(I item, Duration deadline) {
        Pending<I, R> pending = new Pending<>(item, new CompletableFuture<>());
        if (!open) {
            throw new DomainException.Unavailable(
                    "shutting-down", "This node is shutting down; retry.", Duration.ofSeconds(1));
        }
        if (!queue.offer(pending)) {
            throw new DomainException.Unavailable(
                    "overloaded",
                    "The database is " + maxBacklog + " writes behind (" + name + "); retry shortly.",
                    Duration.ofSeconds(1));
        }
        try {
            try {
                return pending.result().get(deadline.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (pending.taken().compareAndSet(false, true)) {
                    throw new DomainException.Unavailable(
                            "database-unavailable",
                            "The database did not take this request within " + deadline.toMillis()
                                    + " ms; nothing was stored. Retry shortly.",
                            Duration.ofSeconds(2));
                }
                try {
                    return pending.result().get(deadline.toMillis() + 500, TimeUnit.MILLISECONDS); // being written now
                } catch (TimeoutException stillWriting) {
                    // Its statement hangs (a paused database): answer rather than hold the caller for the socket
                    // timeout. It may yet commit, so the caller is told to retry with an Idempotency-Key; never is a
                    // 202 sent unstored.
                    throw new DomainException.Unavailable(
                            "database-unavailable",
                            "The database did not confirm this request in time; it may or may not have been stored. Retry, with an"
                                    + " Idempotency-Key to be safe.",
                            Duration.ofSeconds(2));
                }
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DomainException.Unavailable(
                    "shutting-down", "This node is shutting down; retry.", Duration.ofSeconds(1));
        }
    }

    /** Items waiting now. */
    public int backlog() {
        return queue.size();
    }

    private void run() {
        List<Pending<I, R>> batch = new ArrayList<>(maxBatch);
        while (open || !queue.isEmpty()) {
            try {
                Pending<I, R> first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, maxBatch - 1);
                batch.removeIf(p -> !p.taken().compareAndSet(false, true)); // their callers gave up: never written
                if (!batch.isEmpty()) {
                    write(batch);
                }
            } catch (InterruptedException e) {
                if (!open) {
                    break;
                }
            } catch (Throwable e) {
                // Never let the writer die: fail what this batch still owes and go on with the next one.
                log.error(
                        "Writing a batch of {} failed unexpectedly; its items fail, the writer goes on",
                        batch.size(),
                        e);
                for (Pending<I, R> p : batch) {
                    p.result().completeExceptionally(e);
                }
            } finally {
                batch.clear();
            }
        }
    }

    private void write(List<Pending<I, R>> batch) {
        List<I> items = batch.stream().map(Pending::item).toList();
        long start = System.nanoTime();
        try {
            List<R> results;
            try {
                results = writeBatch.apply(items);
            } finally {
                writes.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            }
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).result().complete(results.get(i));
            }
        } catch (RuntimeException batchFailure) {
            if (batch.size() == 1 || unreachable(batchFailure)) {
                // One by one would only fail again, each after the pool's wait: the whole batch fails at once.
                for (Pending<I, R> p : batch) {
                    p.result().completeExceptionally(batchFailure);
                }
                return;
            }
            log.debug("A batch of {} failed ({}); writing its items one by one", batch.size(), batchFailure.toString());
            for (Pending<I, R> p : batch) {
                try {
                    p.result().complete(writeOne.apply(p.item()));
                } catch (RuntimeException e) {
                    p.result().completeExceptionally(e);
                }
            }
        }
    }

    /**
     * The database could not be reached or did not answer: not something one item of the batch caused. (A deadlock or
     * another concurrency failure is not this: its items are retried one by one, and succeed.)
     */
    private static boolean unreachable(Throwable e) {
        return e instanceof DataAccessResourceFailureException
                || e instanceof TransientDataAccessResourceException
                || e instanceof QueryTimeoutException;
    }

    @Override
    public void close() {
        open = false; // the writer finishes what is queued, then stops within its 100 ms poll
        try {
            writer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
