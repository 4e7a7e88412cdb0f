package dev.kikonect.steps;

import com.dashjoin.jsonata.JException;
import com.dashjoin.jsonata.SandboxedJsonata;
import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;

/**
 * What one evaluation may spend, and what it has spent: CPU time of its thread, steps of work, bytes allocated by its
 * thread, and nesting depth; plus a wall-clock deadline and a stop from outside (its caller gave up). The engine calls
 * it on every step ({@link SandboxedJsonata}); the built-ins that loop or allocate on their own ({@link
 * SafeFunctions}) charge it before they do, and regular expressions read their input through {@link #chars}, which
 * checks it as the matcher goes. Once exceeded it stays exceeded: an engine that swallows the first throw meets it at
 * the next step.
 *
 * <p>CPU time, not wall-clock time, is the time bound: a garbage-collection pause or a descheduled thread on a busy
 * node does not count against an expression (the old wall-clock bound failed 451 of 100,000 legitimate step bodies
 * under full load). The wall-clock deadline is a backstop at ten times the CPU bound.
 */
public final class ExpressionBudget implements SandboxedJsonata.Meter {

    /**
     * @param cpu CPU time of the evaluating thread
     * @param work steps of evaluation, plus the items of ranges and what built-ins loop over
     * @param allocatedBytes bytes the evaluating thread allocates (cumulative, as the JVM counts them per thread)
     * @param maxDepth nesting of evaluation steps (recursion)
     * @param wall wall-clock time, a backstop
     */
    public record Limits(Duration cpu, long work, long allocatedBytes, int maxDepth, Duration wall) {
        static final Limits DEFAULT =
                new Limits(Duration.ofMillis(100), 2_000_000, 32L * 1024 * 1024, 200, Duration.ofSeconds(2));

        /** "100 ms of CPU, 2,000,000 steps, 32 MiB": how the README and errors say it. */
        String describe() {
            return cpu.toMillis() + " ms of CPU, " + String.format("%,d", work) + " steps, " + (allocatedBytes >> 20)
                    + " MiB";
        }
    }

    /** A range may have at most this many items, whatever the work left (the engine's own limit is 10,000,000). */
    static final long MAX_RANGE = 1_000_000;

    private static final ThreadMXBean THREADS = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final ThreadLocal<ExpressionBudget> CURRENT = new ThreadLocal<>();
    /** Steps between two looks at the thread's CPU time and allocation (each look costs about a microsecond). */
    private static final int CHECK_EVERY = 128;

    private final Limits limits;
    private long cpuStart;
    private long allocatedStart;
    private long wallDeadline;
    private long work;
    private int depth;
    private int sinceCheck;
    private volatile String stoppedBecause;
    private String exceeded;

    ExpressionBudget(Limits limits) {
        this.limits = limits;
    }

    /** The budget of the evaluation running on this thread, if any. */
    static ExpressionBudget current() {
        return CURRENT.get();
    }

    /** Starts counting on this thread. */
    void begin() {
        cpuStart = THREADS.getCurrentThreadCpuTime();
        allocatedStart = THREADS.getCurrentThreadAllocatedBytes();
        wallDeadline = System.nanoTime() + limits.wall().toNanos();
        CURRENT.set(this);
    }

    void end() {
        CURRENT.remove();
    }

    /** Counts time and allocation from now on (what came before, parsing a payload whose size was checked, is not the expressions'). */
    void rebase() {
        cpuStart = THREADS.getCurrentThreadCpuTime();
        allocatedStart = THREADS.getCurrentThreadAllocatedBytes();
    }

    /** Asks the evaluation to stop at its next step (its caller gave up waiting). */
    void stop(String why) {
        stoppedBecause = why;
    }

    /** Why it was stopped, or null while within its budget. */
    String exceeded() {
        return exceeded;
    }

    Limits limits() {
        return limits;
    }

    long workDone() {
        return work;
    }

    long allocated() {
        return THREADS.getCurrentThreadAllocatedBytes() - allocatedStart;
    }

    @Override
    public void enter() {
        if (++depth > limits.maxDepth()) {
            exceed("nests deeper than " + limits.maxDepth() + " levels (endless recursion?)");
        }
        work(1);
    }

    @Override
    public void leave() {
        depth--;
    }

    /**
     * A list result is charged by its size (an eighth of a step an item) before the engine copies it into the sequence
     * it is building: {@code $a.$a} over a range of 100,000 would otherwise flatten 10^10 items between two steps.
     */
    @Override
    public void exit(Object result) {
        if (result instanceof List<?> l && l.size() > 64) {
            work(l.size() / 8);
            if (l.size() > 4096) {
                check();
            }
        } else if (result instanceof String s && s.length() > 4096) {
            check();
        }
    }

    @Override
    public String concat(Object lhs, Object rhs) {
        String left = lhs == null ? "" : SafeFunctions.string(this, lhs, false);
        String right = rhs == null ? "" : SafeFunctions.string(this, rhs, false);
        reserveChars((long) left.length() + right.length());
        return left.concat(right);
    }

    @Override
    public void range(long size) {
        if (size > MAX_RANGE) {
            exceed("a range of " + String.format("%,d", size) + " items (at most " + String.format("%,d", MAX_RANGE)
                    + ")");
        }
        work(size);
    }

    /** Charges {@code units} steps of work. */
    void work(long units) {
        if (exceeded != null) {
            throw new Exceeded(exceeded);
        }
        work += units;
        if (work > limits.work()) {
            exceed("more than " + String.format("%,d", limits.work()) + " steps of work");
        }
        sinceCheck += (int) Math.min(units, CHECK_EVERY);
        if (sinceCheck >= CHECK_EVERY) {
            sinceCheck = 0;
            check();
        }
    }

    /** Refuses, before it is made, a string of {@code chars} characters that would not fit the allocation left. */
    void reserveChars(long chars) {
        reserveBytes(chars * 2);
    }

    /** Refuses, before they are allocated, {@code bytes} that would not fit the allocation left. */
    void reserveBytes(long bytes) {
        if (bytes > 64 * 1024 && allocated() + bytes > limits.allocatedBytes()) {
            exceed("would allocate more than " + (limits.allocatedBytes() >> 20) + " MiB");
        }
    }

    /** Looks at the clock, the allocation and the stop flag now. */
    void check() {
        if (exceeded != null) {
            throw new Exceeded(exceeded);
        }
        String stop = stoppedBecause;
        if (stop != null) {
            exceed(stop);
        }
        if (THREADS.getCurrentThreadCpuTime() - cpuStart > limits.cpu().toNanos()) {
            exceed("used more than " + limits.cpu().toMillis() + " ms of CPU time");
        }
        if (allocated() > limits.allocatedBytes()) {
            exceed("allocated more than " + (limits.allocatedBytes() >> 20) + " MiB");
        }
        if (System.nanoTime() - wallDeadline > 0) {
            exceed("ran longer than " + limits.wall().toMillis() + " ms");
        }
    }

    private void exceed(String why) {
        if (exceeded == null) {
            exceeded = why;
        }
        throw new Exceeded(exceeded);
    }

    /**
     * {@code text} as a regular expression's matcher reads it: every 4,096 characters read (backtracking reads them
     * again and again) count as a step, so a catastrophic pattern meets the budget instead of holding the thread.
     */
    CharSequence chars(String text) {
        return new Metered(text, 0, text.length());
    }

    private final class Metered implements CharSequence {
        private final String text;
        private final int from;
        private final int to;
        private int reads;

        Metered(String text, int from, int to) {
            this.text = text;
            this.from = from;
            this.to = to;
        }

        @Override
        public int length() {
            return to - from;
        }

        @Override
        public char charAt(int index) {
            if ((++reads & 4095) == 0) {
                work(1);
            }
            return text.charAt(from + index);
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new Metered(text, from + start, from + end);
        }

        @Override
        public String toString() {
            return text.substring(from, to);
        }
    }

    /** The evaluation went over its budget; {@link #getMessage()} says which part. */
    static final class Exceeded extends JException {
        Exceeded(String why) {
            super(why, -1);
        }

        @Override
        public String getMessage() {
            return getError();
        }
    }
}
