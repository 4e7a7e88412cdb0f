package dev.kikonect.execution;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.kikonect.lifecycle.ClaimedJob;
import dev.kikonect.steps.StepDefinitions;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/**
 * Compiled step lists, by their JSON text (shared by every run of a workflow), budgeted at 16 MiB of text: what the
 * executor asks of a claimed job's step before and while it sends it.
 */
final class CompiledSteps {

    private final JsonMapper json;
    private final Cache<String, StepDefinitions.Definition> definitions = Caffeine.newBuilder()
            .maximumWeight(16L * 1024 * 1024)
            .weigher((String text, StepDefinitions.Definition d) -> 64 + 16 * text.length())
            .build();

    CompiledSteps(JsonMapper json) {
        this.json = json;
    }

    /** The job's workflow's steps, compiled (the job must have steps); throws when they do not compile. */
    StepDefinitions.Definition definition(ClaimedJob job) {
        return definitions.get(job.steps(), this::compile);
    }

    /** The job's step in {@code definition}, or null when the workflow no longer has it. */
    static StepDefinitions.Step step(ClaimedJob job, StepDefinitions.Definition definition) {
        if (job.step() == null) {
            return definition.steps().get(0);
        }
        // an item of a for_each step ("lines#3") is sent as its step ("lines")
        int item = job.step().indexOf(StepDefinitions.ITEM_SEPARATOR);
        return definition
                .step(item < 0 ? job.step() : job.step().substring(0, item))
                .orElse(null);
    }

    /** Whether the job's step has expressions, which read the parsed payload (a definition that does not compile: no). */
    boolean readsPayload(ClaimedJob job) {
        if (job.steps() == null) {
            return false;
        }
        try {
            StepDefinitions.Step step = step(job, definition(job));
            return step != null && step.dynamic();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Whether some step needs this job's step, so its response is kept (a definition that does not compile counts as
     * yes: the larger reserve).
     */
    boolean keepsResponse(ClaimedJob job) {
        if (!job.tracked() || job.steps() == null) {
            return false;
        }
        try {
            return definition(job).needed(job.step());
        } catch (RuntimeException e) {
            return true;
        }
    }

    @SuppressWarnings("unchecked")
    private StepDefinitions.Definition compile(String steps) {
        return StepDefinitions.parse(Map.of("steps", json.readValue(steps, List.class)));
    }
}
