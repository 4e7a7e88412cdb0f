package dev.kikonect.scheduling;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.BackgroundLoop;
import dev.kikonect.lifecycle.ScheduledRuns;
import dev.kikonect.lifecycle.WorkSignal;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The interval/cron loop of the seed. Each tick, in ONE transaction: lock due workflows with FOR UPDATE SKIP LOCKED,
 * insert their runs and jobs, advance next_run_at. A crash before commit fires nothing; after commit everything is
 * fired exactly once; a second scheduler on the same database skips the rows this one holds, and a unique index on
 * (workflow, slot) makes a second run for one slot impossible anyway.
 *
 * <p>Misfires (a firing later than kikonect.scheduler.misfire-threshold, or one whose next slot is already past too:
 * downtime, a pause) follow the workflow's policy: {@code fire_once} fires once now, {@code skip} does not fire;
 * either way the schedule continues with its first slot after now, never with a burst of catch-up runs. With
 * {@code overlap: skip}, a firing while an earlier run is unfinished is recorded as a skipped run.
 */
@Component
public class Scheduler extends BackgroundLoop {

    private static final Logger log = LoggerFactory.getLogger(Scheduler.class);
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

    private final ScheduleStore store;
    private final ScheduledRuns runs;
    private final TransactionTemplate transactions;
    private final WorkSignal signal;
    private final Clock clock;
    private final JsonMapper json;
    private final KiKonectProperties.Scheduler settings;

    private final Timer lag;

    Scheduler(
            ScheduleStore store,
            ScheduledRuns runs,
            TransactionTemplate transactions,
            WorkSignal signal,
            Clock clock,
            JsonMapper json,
            KiKonectProperties properties,
            MeterRegistry meters) {
        super("kikonect-scheduler", properties.scheduler().enabled() && properties.hasRole("scheduler"));
        this.store = store;
        this.runs = runs;
        this.transactions = transactions;
        this.signal = signal;
        this.clock = clock;
        this.json = json;
        this.settings = properties.scheduler();
        this.lag = Timer.builder("kikonect.scheduler.lag")
                .description("How late scheduled firings are: fire time minus due time")
                .publishPercentileHistogram()
                .register(meters);
    }

    /** Fires every workflow due at the clock's now, batch by batch; returns how many fired. */
    public int fireDue() {
        int total = 0;
        while (true) {
            Integer fired = transactions.execute(status -> fireBatch(clock.instant()));
            total += fired == null ? 0 : fired;
            if (fired == null || fired < settings.batchSize()) {
                break;
            }
        }
        if (total > 0) {
            signal.wake();
        }
        return total;
    }

    private int fireBatch(Instant now) {
        List<ScheduleStore.Due> due = store.claimDue(now, settings.batchSize());
        if (due.isEmpty()) {
            return 0;
        }
        List<ScheduledRuns.Firing> firings = new ArrayList<>(due.size());
        long[] ids = new long[due.size()];
        String[] nexts = new String[due.size()];
        boolean[] fired = new boolean[due.size()];
        for (int i = 0; i < due.size(); i++) {
            ScheduleStore.Due workflow = due.get(i);
            ids[i] = workflow.id();
            Schedule schedule;
            try {
                schedule = Schedule.of(workflow.triggerType(), json.readValue(workflow.triggerConfig(), MAP));
            } catch (RuntimeException e) {
                log.error(
                        "Workflow {} has an unusable schedule; it will not fire again until edited", workflow.id(), e);
                nexts[i] = null;
                continue;
            }
            Instant slot = workflow.nextRunAt();
            if (slot.isAfter(now)) {
                // Never fire early (the claim compares in microseconds; this is the last word in Java's terms).
                nexts[i] = slot.toString();
                continue;
            }
            Instant next = schedule.nextAfter(slot, now);
            nexts[i] = next == null ? null : next.toString();
            Instant following = schedule.nextAfter(slot, slot);
            boolean misfired = Duration.between(slot, now).compareTo(settings.misfireThreshold()) > 0
                    || (following != null && !following.isAfter(now));
            if (misfired && "skip".equals(workflow.misfire())) {
                log.info(
                        "Workflow {} missed its firing due {}; misfire policy skip: next at {}",
                        workflow.id(),
                        slot,
                        next);
                continue;
            }
            fired[i] = true;
            lag.record(Duration.between(slot, now));
            String skip = workflow.busy()
                    ? "skipped: an earlier run of this workflow is still pending, running or retrying (overlap: skip)"
                    : null;
            firings.add(new ScheduledRuns.Firing(
                    workflow.id(), workflow.workspaceId(), workflow.triggerType(), workflow.payload(), slot, skip));
        }
        runs.enqueueAll(firings, now);
        store.advance(ids, nexts, fired, now);
        return due.size();
    }

    @Override
    protected Duration runOnce() {
        fireDue();
        return settings.pollInterval();
    }
}
