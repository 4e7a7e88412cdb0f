package dev.kikonect.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import java.io.InputStream;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SequencedSet;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.ClassPathResource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * Generated requests for every operation in openapi.yaml: malformed JSON, wrong types for every described field,
 * huge strings, strange Unicode, odd path and query values. Whatever the input, the answer is never a 5xx.
 */
class FuzzTest extends ApiTest {

    private static final String HUGE = "x".repeat(200_000);
    private static final List<Object> WEIRD_VALUES = List.of(
            "",
            " ",
            HUGE,
            "\u0000nul\u0000",
            "\u202Eright-to-left\u202C",
            "😀🔥👩‍👩‍👧‍👦",
            "\uD800lone surrogate",
            "' OR 1=1 --",
            "../../etc/passwd",
            "%00%ff",
            -1,
            0,
            Long.MAX_VALUE,
            new BigInteger("123456789012345678901234567890"),
            1.5,
            -0.0,
            1e308,
            true,
            false,
            List.of(),
            List.of(1, "two", Map.of()),
            Map.of(),
            Map.of("\u0000", "\u0000"),
            Map.of("nested", Map.of("deeper", List.of(Map.of("x", HUGE)))));
    private static final List<String> RAW_BODIES = List.of(
            "",
            "{",
            "}",
            "null",
            "[]",
            "\"string\"",
            "123",
            "{\"a\":}",
            "{'single':'quotes'}",
            "{\"a\":1,}",
            "\uFEFF{}",
            "[".repeat(2000) + "]".repeat(2000),
            "{\"a\":\"\\ud800\"}",
            "{\"a\":\"\\u0000\"}",
            "{\"name\":" + "9".repeat(5000) + "}");
    private static final List<String> PATH_VALUES =
            List.of("1", "0", "-1", "abc", "99999999999999999999", "%F0%9F%98%80", "1.5", "%00");
    private static final List<String> QUERY_VALUES =
            List.of("", "0", "-5", "abc", "201", "99999999999999999999", "true", "%00", "2026-13-45T99:00:00Z");

    @Test
    @SuppressWarnings("unchecked")
    void no_generated_request_gets_a_5xx() throws Exception {
        Map<String, Object> spec;
        try (InputStream in = new ClassPathResource("openapi.yaml").getInputStream()) {
            spec = new Yaml(new LoaderOptions()).load(in);
        }
        Api.User user = api.newUser();
        long workflow = api.createWorkflow(user, "webhook", "https://example.com/in", Map.of())
                .path("id")
                .asLong();
        String token = api.get("/workflows/" + workflow, user.token())
                .json()
                .path("trigger_config")
                .path("token")
                .asString();
        Random random = new Random(20261126);
        List<String> failures = new ArrayList<>();
        int requests = 0;

        for (Map.Entry<String, Object> path : ((Map<String, Object>) spec.get("paths")).entrySet()) {
            for (Map.Entry<String, Object> op : ((Map<String, Object>) path.getValue()).entrySet()) {
                if (op.getKey().equals("parameters")) {
                    continue;
                }
                String method = op.getKey().toUpperCase();
                Map<String, Object> operation = (Map<String, Object>) op.getValue();
                // (a path without parameters is one URL, not one per odd value: /register was sent everything nine
                // times)
                SequencedSet<String> urls = new LinkedHashSet<>();
                for (String value : PATH_VALUES) {
                    // (a listener name stays invalid: a valid one would open a 10-minute stream)
                    urls.add(path.getKey()
                            .replace("{id}", value)
                            .replace("{token}", value)
                            .replace("{user_id}", value)
                            .replace("{key}", value)
                            .replace("{name}", "Not_A_Name" + value.replaceAll("[^A-Za-z0-9]", "")));
                }
                urls.addFirst(path.getKey()
                        .replace("{id}", Long.toString(workflow))
                        .replace("{token}", token)
                        .replace("{user_id}", Long.toString(workflow))
                        .replace("{key}", "review")
                        .replace("{name}", "Not_A_Name"));
                for (String url : urls) {
                    for (String q : QUERY_VALUES) {
                        String query = "?limit=" + q + "&cursor=" + q + "&status=" + q + "&created_after=" + q
                                + "&enabled=" + q + "&count=" + q + "&workflow_id=" + q;
                        requests++;
                        record(failures, method, url + query, api.send(method, url + query, user.token(), null, null));
                    }
                    for (String raw : RAW_BODIES) {
                        requests++;
                        record(failures, method, url, api.send(method, url, user.token(), "application/json", raw));
                    }
                    for (String type : List.of(
                            "text/plain",
                            "application/x-www-form-urlencoded",
                            "application/xml",
                            "multipart/form-data",
                            "garbage")) {
                        requests++;
                        record(failures, method, url, api.send(method, url, user.token(), type, "a=1&b=%zz&c"));
                    }
                    if (!url.equals(urls.getFirst()) && !url.equals(urls.getLast())) {
                        continue; // property-by-property bodies go to a real object and one odd id: past the path, only
                        // the body differs
                    }
                    for (Map<String, Object> body : generatedBodies(spec, operation, random)) {
                        requests++;
                        record(
                                failures,
                                method,
                                url,
                                api.send(
                                        method,
                                        url,
                                        user.token(),
                                        "application/json",
                                        Api.JSON.writeValueAsString(body)));
                    }
                }
            }
        }
        assertThat(requests).isGreaterThan(5000);
        assertThat(failures).as("requests answered with a 5xx").isEmpty();
    }

    private static void record(List<String> failures, String method, String url, Api.Response response) {
        if (response != null && response.status() >= 500) {
            failures.add(method + " " + (url.length() > 120 ? url.substring(0, 120) + "..." : url) + " -> "
                    + response.status() + " " + response.body());
        }
    }

    /** For each described request property: the body with that property set to each weird value. */
    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> generatedBodies(
            Map<String, Object> spec, Map<String, Object> operation, Random random) {
        List<Map<String, Object>> bodies = new ArrayList<>();
        Map<String, Object> requestBody = (Map<String, Object>) operation.get("requestBody");
        if (requestBody == null) {
            bodies.add(Map.of("unexpected", "body"));
            return bodies;
        }
        Map<String, Object> content = (Map<String, Object>) requestBody.get("content");
        Map<String, Object> json = (Map<String, Object>) content.get("application/json");
        Map<String, Object> schema =
                json == null ? Map.of() : resolve(spec, (Map<String, Object>) json.getOrDefault("schema", Map.of()));
        Map<String, Object> properties = (Map<String, Object>) schema.getOrDefault("properties", Map.of());
        Map<String, Object> example =
                json != null && json.get("example") instanceof Map<?, ?> e ? (Map<String, Object>) e : Map.of();
        for (String property : properties.keySet()) {
            for (Object value : WEIRD_VALUES) {
                Map<String, Object> body = new LinkedHashMap<>(example);
                body.put(property, value);
                if (random.nextInt(3) == 0) {
                    body.put(
                            "trigger_config",
                            Map.of(
                                    "interval_minutes",
                                    value,
                                    "expression",
                                    value,
                                    "timezone",
                                    value,
                                    "payload",
                                    value,
                                    "verify",
                                    value));
                }
                bodies.add(body);
            }
        }
        return bodies;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> resolve(Map<String, Object> spec, Map<String, Object> node) {
        Object ref = node.get("$ref");
        if (ref == null) {
            return node;
        }
        Object target = spec;
        for (String part : ref.toString().substring(2).split("/")) {
            target = ((Map<String, Object>) target).get(part);
        }
        return (Map<String, Object>) target;
    }
}
