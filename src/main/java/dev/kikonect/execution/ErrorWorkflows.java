package dev.kikonect.execution;

import dev.kikonect.common.PublicUrls;
import dev.kikonect.lifecycle.RunFailures;
import dev.kikonect.lifecycle.RunStatus;
import dev.kikonect.lifecycle.WorkSignal;
import dev.kikonect.steps.ExpressionSandbox;
import dev.kikonect.steps.Filters;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Starts the error workflows of a run that ended failed (trigger_type {@code run_failed}, {@link RunFailures}): one run
 * of each enabled workflow that watches its workflow, with a payload that says what failed, each through its own
 * filter. Called by the failure alerts loop, which retries it until it succeeds; starting is idempotent.
 *
 * <p>The payload: {@code run} {id, status, trigger, error, attempt_count, created_at, ended_at}, {@code workflow} {id,
 * name}, {@code failed_steps} [{key, error, attempts, response {status, headers, body}}] (the steps that failed and
 * that no error path handled; a one-step workflow's is {@code deliver} with its last response) and {@code link}. A
 * response body is parsed when it is JSON and at most {@value #MAX_BODY_CHARS} characters, else given as text cut to
 * that many (with {@code body_truncated}).
 */
@Component
class ErrorWorkflows {

    static final int MAX_BODY_CHARS = 65_536;

    private final RunFailures failures;
    private final Filters filters;
    private final JsonMapper json;
    private final PublicUrls urls;
    private final WorkSignal signal;
    private final Clock clock;

    ErrorWorkflows(
            RunFailures failures, Filters filters, JsonMapper json, PublicUrls urls, WorkSignal signal, Clock clock) {
        this.failures = failures;
        this.filters = filters;
        this.json = json;
        this.urls = urls;
        this.signal = signal;
        this.clock = clock;
    }

    /** Starts the error workflows of run {@code runId} if it failed; returns how many runs were started to be sent. */
    int start(long runId) {
        Optional<RunFailures.Failure> found = failures.failure(runId);
        if (found.isEmpty()) {
            return 0;
        }
        RunFailures.Failure failure = found.get();
        String payload = json.writeValueAsString(payload(failure));
        List<RunFailures.Start> starts = new ArrayList<>();
        for (RunFailures.Watcher watcher : failure.watchers()) {
            if (watcher.filter() == null) {
                starts.add(new RunFailures.Start(watcher, null, null));
                continue;
            }
            Filters.Verdict verdict = ExpressionSandbox.onBehalfOf(
                    watcher.workspaceId(),
                    () -> filters.evaluate(
                            watcher.filter(),
                            payload,
                            Map.of(),
                            Map.of(),
                            "run_failed",
                            watcher.workflowId(),
                            watcher.name()));
            starts.add(
                    verdict.passes()
                            ? new RunFailures.Start(watcher, null, null)
                            : new RunFailures.Start(
                                    watcher,
                                    verdict.error() == null ? RunStatus.FILTERED : RunStatus.FAILED,
                                    verdict.error()));
        }
        int started = failures.start(runId, payload, starts, clock.instant());
        if (started > 0) {
            signal.wake();
        }
        return started;
    }

    private Map<String, Object> payload(RunFailures.Failure failure) {
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("id", failure.runId());
        run.put("status", failure.status());
        run.put("trigger", failure.trigger());
        run.put("error", failure.error());
        run.put("attempt_count", failure.attempts());
        run.put("created_at", failure.createdAt().toString());
        run.put("ended_at", failure.endedAt() == null ? null : failure.endedAt().toString());
        Map<String, Object> workflow = new LinkedHashMap<>();
        workflow.put("id", failure.workflowId());
        workflow.put("name", failure.workflowName());
        List<Map<String, Object>> steps = new ArrayList<>();
        for (RunFailures.FailedStep step : failure.failedSteps()) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("key", step.key());
            s.put("error", step.error());
            s.put("attempts", step.attempts());
            s.put("response", response(step));
            steps.add(s);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("run", run);
        out.put("workflow", workflow);
        out.put("failed_steps", steps);
        out.put("link", urls.base() + "/runs/" + failure.runId());
        return out;
    }

    private Map<String, Object> response(RunFailures.FailedStep step) {
        if (step.responseStatus() == null) {
            return null;
        }
        Map<String, Object> response = new LinkedHashMap<>();
        response.put("status", step.responseStatus());
        response.put(
                "headers",
                step.responseHeaders() == null ? Map.of() : json.readValue(step.responseHeaders(), Map.class));
        String body = step.responseBody();
        if (body != null && body.length() > MAX_BODY_CHARS) {
            response.put("body", body.substring(0, MAX_BODY_CHARS));
            response.put("body_truncated", true);
        } else {
            response.put("body", AttemptRecords.parsedBody(json, body));
        }
        return response;
    }
}
