package dev.kikonect.execution;

import dev.kikonect.lifecycle.Attempt;
import dev.kikonect.lifecycle.ClaimedJob;
import dev.kikonect.lifecycle.Completions;
import dev.kikonect.lifecycle.Items;
import dev.kikonect.lifecycle.Next;
import dev.kikonect.steps.BoundedJson;
import dev.kikonect.steps.StepDefinitions;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.json.JsonMapper;

/**
 * A step with {@code for_each}: its first claim evaluates the items and expands the step into one step per item
 * ({@link Items#expand}), and gives its job up; each item is then sent as a step of its own (with {@code item} and
 * {@code index} in its expressions); once every item finished, the step is claimed again and gathers them: it succeeds
 * when every item succeeded and fails otherwise, its response the array of the items' responses in item order.
 */
final class Loops {

    /** The kept response of a loop step: {responses: [...], items: [...]} (see {@link StepContext}). */
    static final String RESPONSES = "responses";

    static final String ITEMS = "items";

    /** The database side ({@link Items}); an interface so the pipeline's unit tests need no database. */
    interface Store {
        boolean expand(ClaimedJob job, String itemsJson, int concurrency, Instant now);

        List<Items.Item> of(long runId, String step);

        Optional<String> value(long runId, String itemKey);
    }

    static final Store NONE = new Store() {
        @Override
        public boolean expand(ClaimedJob job, String itemsJson, int concurrency, Instant now) {
            throw new IllegalStateException("no loops here");
        }

        @Override
        public List<Items.Item> of(long runId, String step) {
            return List.of();
        }

        @Override
        public Optional<String> value(long runId, String itemKey) {
            return Optional.empty();
        }
    };

    private final Store store;
    private final Clock clock;
    private final JsonMapper json;
    /** The most items a for_each may give ({@code kikonect.steps.max-items}). */
    private final int maxItems;
    /** The most characters its items may take as JSON ({@code kikonect.steps.max-items-size}). */
    private final long maxItemsChars;

    Loops(Store store, Clock clock, JsonMapper json, int maxItems, long maxItemsChars) {
        this.store = store;
        this.clock = clock;
        this.json = json;
        this.maxItems = maxItems;
        this.maxItemsChars = maxItemsChars;
    }

    /** Whether {@code job} is an item of a for_each step ({@code <step>#<index>}). */
    static boolean isItem(ClaimedJob job) {
        return job.step() != null && job.step().contains(StepDefinitions.ITEM_SEPARATOR);
    }

    /** The item's index and value, for its expressions ({@code index}, {@code item}). */
    Map<String, Object> itemContext(ClaimedJob job) {
        String key = job.step();
        int index = Integer.parseInt(key.substring(key.indexOf(StepDefinitions.ITEM_SEPARATOR) + 1));
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("index", index);
        extra.put(
                "item",
                store.value(job.runId(), key)
                        .map(b -> AttemptRecords.parsedBody(json, b))
                        .orElse(null));
        return extra;
    }

    /** The items gathered, when the step has expanded; empty at its first claim. */
    Optional<AttemptPipeline.Outcome> gather(ClaimedJob job, Instant started) {
        List<Items.Item> items = store.of(job.runId(), job.step());
        if (items.isEmpty()) {
            return Optional.empty();
        }
        List<Object> responses = new ArrayList<>();
        List<Object> states = new ArrayList<>();
        List<Items.Item> failed = new ArrayList<>();
        for (Items.Item item : items) {
            Map<String, Object> response = new LinkedHashMap<>();
            response.put("status", item.responseStatus());
            // past kikonect.steps.max-gathered-response, an item's headers and body are left out (response_cut)
            response.put(
                    "headers",
                    item.responseHeaders() == null ? Map.of() : json.readValue(item.responseHeaders(), Map.class));
            response.put("body", AttemptRecords.parsedBody(json, item.responseBody()));
            responses.add(response);
            Map<String, Object> state = new LinkedHashMap<>();
            state.put("index", item.index());
            state.put("status", item.status());
            state.put("error", item.error());
            state.put("response", response);
            if (item.cut()) {
                state.put("response_cut", true);
            }
            states.add(state);
            if (!"succeeded".equals(item.status())) {
                failed.add(item);
            }
        }
        // what the steps after it read: steps.<key>.response (the responses) and steps.<key>.items (each item's state)
        Map<String, Object> gathered = new LinkedHashMap<>();
        gathered.put(RESPONSES, responses);
        gathered.put(ITEMS, states);
        Completions.KeptResponse kept = new Completions.KeptResponse(200, "{}", json.writeValueAsString(gathered));
        if (failed.isEmpty()) {
            return Optional.of(new AttemptPipeline.Outcome.Complete(Next.SUCCEEDED, null, null, kept));
        }
        Items.Item first = failed.get(0);
        String error = failed.size() + " of " + items.size() + " items did not succeed (item " + first.index() + ": "
                + (first.error() == null ? first.status() : first.error()) + ")";
        Attempt attempt = AttemptRecords.failedBeforeSending(job, started, clock.instant(), error);
        return Optional.of(new AttemptPipeline.Outcome.Complete(Next.FAILED, attempt, null, kept));
    }

    /**
     * What a for_each gave ({@code value}: a list, one value, or nothing), as the expansion stores it: its count and
     * its JSON text, or why it cannot expand (too many items, or too large). Called in the expression sandbox: the
     * text is written there, under a ceiling ({@code kikonect.steps.max-items-size}), so that a thousand references to
     * one large payload are refused before their text is made.
     */
    Listed list(Object value) {
        List<?> items = value == null ? List.of() : value instanceof List<?> list ? list : List.of(value);
        if (items.size() > maxItems) {
            return new Listed(
                    items.size(),
                    null,
                    "for_each: gives " + items.size() + " items; at most " + maxItems + " (kikonect.steps.max-items)");
        }
        try {
            return new Listed(items.size(), BoundedJson.write(json, items, maxItemsChars), null);
        } catch (BoundedJson.TooLarge e) {
            return new Listed(
                    items.size(),
                    null,
                    "for_each: its " + items.size() + " items are larger than " + BoundedJson.size(maxItemsChars)
                            + " as JSON (kikonect.steps.max-items-size)");
        }
    }

    /** The items of a for_each: {@code json} their text, or {@code error} why they cannot expand. */
    record Listed(int count, String json, String error) {}

    /**
     * The outcome of the first claim: no items succeeds at once with {@code []}; too many or too large fails; else the
     * step expands and waits.
     */
    AttemptPipeline.Outcome expand(ClaimedJob job, StepDefinitions.Step step, Listed items, Instant started) {
        if (items.error() != null) {
            Attempt attempt = AttemptRecords.failedBeforeSending(job, started, clock.instant(), items.error());
            return new AttemptPipeline.Outcome.Complete(Next.FAILED, attempt, null, null);
        }
        if (items.count() == 0) {
            return new AttemptPipeline.Outcome.Complete(
                    Next.SUCCEEDED,
                    null,
                    null,
                    new Completions.KeptResponse(200, "{}", "{\"" + RESPONSES + "\":[],\"" + ITEMS + "\":[]}"));
        }
        boolean expanded = store.expand(job, items.json(), step.itemConcurrency(), clock.instant());
        return expanded ? new AttemptPipeline.Outcome.Parked() : new AttemptPipeline.Outcome.Abandon();
    }
}
