package dev.kikonect.steps;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Where expressions run: a small pool of platform threads of their own (not the virtual threads' carriers, which an
 * expression busy computing would pin), with a bounded queue in which the workspaces take turns ({@link FairTasks};
 * callers say whose work it is with {@link #onBehalfOf}). Each task runs under an {@link ExpressionBudget}; its
 * caller waits at most the queue wait plus the budget's wall-clock backstop, then stops the task (the budget's next
 * look ends it) and fails it. A full queue, or a task that was not started in time, is {@link
 * ExpressionException.Kind#BUSY}: nothing was evaluated, the caller may try again later.
 *
 * <p>One sandbox serves the node ({@link #shared()}); {@code ExpressionSettings} sizes it from {@code
 * kikonect.expressions.*} at start-up. Code already on a sandbox thread (an expression inside a step being rendered)
 * runs inline, under the budget of the task it is part of.
 */
public final class ExpressionSandbox {

    /**
     * @param threads evaluating threads (default half the cores, at least one: the other half stays for requests)
     * @param queue tasks waiting for a thread, at most
     * @param queueWait how long a caller waits for its task to start
     * @param limits one task's budget
     */
    public record Settings(int threads, int queue, Duration queueWait, ExpressionBudget.Limits limits) {
        static Settings defaults() {
            return new Settings(
                    Math.max(1, Runtime.getRuntime().availableProcessors() / 2),
                    1024,
                    Duration.ofSeconds(5),
                    ExpressionBudget.Limits.DEFAULT);
        }
    }

    private static final AtomicInteger THREAD_IDS = new AtomicInteger();
    /** Enough stack for {@link ExpressionBudget.Limits#maxDepth()} nested steps of the engine, each several frames. */
    private static final long STACK_BYTES = 8L * 1024 * 1024;

    /** Whose expressions the calling thread evaluates (a workspace id), for the fair queue; unset: a shared line. */
    private static final ThreadLocal<Long> OWNER = new ThreadLocal<>();

    private static final long NO_OWNER = Long.MIN_VALUE;

    /** Declared after the statics its constructor uses (class initialisation runs in order). */
    private static volatile ExpressionSandbox shared = new ExpressionSandbox(Settings.defaults());

    private final Settings settings;
    private final FairTasks queue;

    ExpressionSandbox(Settings settings) {
        this.settings = settings;
        this.queue = new FairTasks(settings.queue());
        for (int i = 0; i < settings.threads(); i++) {
            Thread t = new Thread(null, this::work, "kikonect-expression-" + THREAD_IDS.incrementAndGet(), STACK_BYTES);
            t.setDaemon(true);
            t.start();
        }
    }

    /** A sandbox thread: takes the owners' tasks in turn until the sandbox is replaced. Survives any task. */
    private void work() {
        while (true) {
            Runnable task;
            try {
                task = queue.take(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                return;
            }
            if (task == null) {
                if (closed) {
                    return;
                }
                continue;
            }
            try {
                task.run();
            } catch (Throwable e) { // Task.run catches everything already; nothing may end this thread
                // ignored: the task's caller has its answer or gives up at its deadline
            }
        }
    }

    private volatile boolean closed;

    /**
     * Runs {@code work} with the expressions it evaluates counted as {@code workspaceId}'s: the sandbox serves the
     * workspaces in turn, so one workspace's flood waits behind itself.
     */
    public static <T> T onBehalfOf(long workspaceId, Supplier<T> work) {
        Long before = OWNER.get();
        OWNER.set(workspaceId);
        try {
            return work.get();
        } finally {
            if (before == null) {
                OWNER.remove();
            } else {
                OWNER.set(before);
            }
        }
    }

    /** The node's sandbox. */
    public static ExpressionSandbox shared() {
        return shared;
    }

    /** Replaces the node's sandbox (at start-up, from the configuration); the old one finishes what it has. */
    public static synchronized void configure(Settings settings) {
        ExpressionSandbox old = shared;
        shared = new ExpressionSandbox(settings);
        old.closed = true;
        old.queue.close(); // its threads finish what they have and end
    }

    Settings settings() {
        return settings;
    }

    /** The most an expression's context (a parsed payload) may take: what one evaluation may allocate. */
    public long maxContextBytes() {
        return settings.limits().allocatedBytes();
    }

    /**
     * Runs {@code parse} (a payload, whose parsed size the caller checked) in the sandbox, and lets the expressions of the
     * task it is part of start their budget of time and memory after it.
     */
    public <T> T parse(String field, Supplier<T> parse) {
        return call(field, budget -> {
            T parsed = parse.get();
            budget.rebase();
            return parsed;
        });
    }

    /** Tasks waiting for a thread now. */
    public int queued() {
        return queue.size();
    }

    /**
     * Runs {@code work} on a sandbox thread under a fresh budget and returns its result; on a sandbox thread already,
     * runs it here under the current budget. {@code field} names the expression in errors that are not its own.
     *
     * @throws ExpressionException of kind BUDGET when it went over its budget, BUSY when it could not start in time
     */
    public <T> T call(String field, Supplier<T> work) {
        return call(field, budget -> work.get());
    }

    /** {@link #call(String, java.util.function.Supplier)} with the task's budget at hand. */
    <T> T call(String field, Function<ExpressionBudget, T> work) {
        ExpressionBudget current = ExpressionBudget.current();
        if (current != null) {
            return work.apply(current);
        }
        Task<T> task = new Task<>(work, new ExpressionBudget(settings.limits()));
        Long given = OWNER.get();
        long owner = given == null ? NO_OWNER : given;
        if (!queue.offer(owner, task)) {
            throw busy(field);
        }
        try {
            long waitNanos =
                    settings.queueWait().toNanos() + settings.limits().wall().toNanos();
            if (!task.done.await(waitNanos, TimeUnit.NANOSECONDS)) {
                if (task.started.compareAndSet(false, true)) {
                    task.cancelled = true; // never started: it will not run, and its place in the queue is free
                    queue.remove(owner, task);
                    throw busy(field);
                }
                task.budget.stop("ran longer than " + settings.limits().wall().toMillis() + " ms");
                // The budget's next look ends it; the engine looks at least every few thousand characters or steps.
                if (!task.done.await(1, TimeUnit.SECONDS)) {
                    throw new ExpressionException(
                            field,
                            "expression budget exceeded: ran longer than "
                                    + settings.limits().wall().toMillis() + " ms",
                            -1,
                            ExpressionException.Kind.BUDGET);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            task.budget.stop("its caller was interrupted");
            throw busy(field);
        }
        return task.result();
    }

    private ExpressionException busy(String field) {
        return new ExpressionException(
                field, "the expression sandbox is busy; try again", -1, ExpressionException.Kind.BUSY);
    }

    private static final class Task<T> implements Runnable {
        final Function<ExpressionBudget, T> work;
        final ExpressionBudget budget;
        final CountDownLatch done = new CountDownLatch(1);
        final AtomicBoolean started = new AtomicBoolean();
        volatile boolean cancelled;
        private T result;
        private Throwable error;

        Task(Function<ExpressionBudget, T> work, ExpressionBudget budget) {
            this.work = work;
            this.budget = budget;
        }

        @Override
        public void run() {
            if (!started.compareAndSet(false, true)) {
                return; // its caller gave up before it started
            }
            budget.begin();
            try {
                result = work.apply(budget);
            } catch (Throwable e) { // a StackOverflowError too: it ends this task, never the thread
                error = e;
            } finally {
                budget.end();
                done.countDown();
            }
        }

        T result() {
            if (error instanceof RuntimeException e) {
                throw e;
            }
            if (error instanceof StackOverflowError) {
                throw new ExpressionException(
                        null, "expression budget exceeded: nests too deeply", -1, ExpressionException.Kind.BUDGET);
            }
            if (error instanceof Error e) {
                throw e;
            }
            return result;
        }
    }
}
