package dev.kikonect.workflow;

import java.util.Arrays;
import java.util.Optional;

/** How a workflow is fired. The JSON and database spelling is the lower-case name. */
public enum TriggerType {
    MANUAL,
    WEBHOOK,
    INTERVAL,
    CRON,
    /** An error workflow: started when a run of a workflow it watches ends failed (issue 24). */
    RUN_FAILED;

    public String wire() {
        return name().toLowerCase();
    }

    public static Optional<TriggerType> fromWire(String value) {
        return Arrays.stream(values()).filter(t -> t.wire().equals(value)).findFirst();
    }

    public boolean scheduled() {
        return this == INTERVAL || this == CRON;
    }
}
