package dev.kikonect.execution;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The parsed payloads of the runs that have steps in flight on this node, one per run, shared by its steps: a run of
 * 20 steps that read {@code payload} parses it once, and its parsed size is counted once in the memory budget. An
 * entry lives while a step of its run is in flight (so the map is bounded by the delivery slots) and holds the KiB
 * it was charged, given back by its last holder.
 */
final class SharedPayloads {

  private static final class Entry {
    final long kib;
    int holders;
    boolean parsed;
    Object tree;
    RuntimeException failure;

    Entry(long kib) {
      this.kib = kib;
    }
  }

  private final Map<Long, Entry> byRun = new ConcurrentHashMap<>();

  /**
   * One more step of {@code runId} holds its parsed payload; returns the KiB to charge: {@code estimateKib} for the
   * first holder, 0 when the run's payload is held already.
   */
  long hold(long runId, long estimateKib) {
    long[] charged = {0};
    byRun.compute(runId, (id, e) -> {
      if (e == null) {
        e = new Entry(estimateKib);
        charged[0] = estimateKib;
      }
      e.holders++;
      return e;
    });
    return charged[0];
  }

  /** A holder leaves; returns the KiB to give back (the entry's, when it was the last holder), else 0. */
  long release(long runId) {
    long[] freed = {0};
    byRun.computeIfPresent(runId, (id, e) -> {
      if (--e.holders > 0) {
        return e;
      }
      freed[0] = e.kib;
      return null;
    });
    return freed[0];
  }

  /** The run's parsed payload, parsed by the first step that asks (the others wait for it, then share it). */
  Object tree(long runId, Supplier<Object> parse) {
    Entry entry = byRun.get(runId);
    if (entry == null) {
      return parse.get(); // not held (cannot happen for a dispatched step): parse for this one only
    }
    synchronized (entry) {
      if (!entry.parsed) {
        try {
          entry.tree = parse.get();
        } catch (dev.kikonect.steps.ExpressionException e) {
          if (e.busy()) {
            throw e; // nothing was tried: the next step of the run may parse it
          }
          entry.failure = e;
        } catch (RuntimeException e) {
          entry.failure = e;
        }
        entry.parsed = true;
      }
      if (entry.failure != null) {
        throw entry.failure;
      }
      return entry.tree;
    }
  }

  /** Runs held now. */
  int size() {
    return byRun.size();
  }
}
