package dev.kikonect.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.common.SecureTokens;
import dev.kikonect.support.Api;
import dev.kikonect.support.Sink;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A client that keeps guessing webhook URLs is stopped at the door, per address, and the right URLs still work. */
class HookGateTest extends ApiTest {

    private final Sink sink = new Sink();

    @AfterEach
    void closeSink() {
        sink.close();
    }

    @Test
    void an_address_that_keeps_guessing_gets_429_while_known_hooks_and_other_addresses_go_on() {
        Api.User user = api.newUser();
        String known = URI.create(api.createWorkflow(user, "webhook", sink.url(), Map.of())
                        .path("webhook_url")
                        .asString())
                .getPath();
        assertThat(api.send("POST", known, null, "application/json", "{}").status())
                .as("read once, so remembered")
                .isEqualTo(202);
        Api guesser = api.from("127.0.0.3");

        Api.Response refused = null;
        int misses = 0;
        for (int i = 0; i < 2_000 && refused == null; i++) {
            String path = "/hooks/" + (i % 2 == 0 ? SecureTokens.random("", 24) : "x".repeat(7_800));
            Api.Response answer = guesser.send("POST", path, null, "application/json", "{}");
            if (answer.status() == 429) {
                refused = answer;
            } else {
                assertThat(answer.status()).as("a guess").isEqualTo(404);
                misses++;
            }
        }

        assertThat(refused).as("429 after some misses").isNotNull();
        assertThat(misses).as("the burst: ten seconds' worth").isGreaterThanOrEqualTo(200);
        assertThat(refused.contentType()).startsWith("application/problem+json");
        assertThat(refused.json().path("status").asInt()).isEqualTo(429);
        assertThat(Long.parseLong(refused.header("Retry-After"))).isPositive();
        // Still refused: the bucket refills at 20 a second, so of the next guesses at most that many get through,
        // however slowly a loaded machine sends them.
        long started = System.nanoTime();
        int through = 0;
        for (int i = 0; i < 20; i++) {
            if (guesser.send("POST", "/hooks/" + SecureTokens.random("", 24), null, "application/json", "{}")
                            .status()
                    != 429) {
                through++;
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        assertThat(through)
                .as("guesses past the limit in %.2f s", seconds)
                .isLessThanOrEqualTo(1 + (int) Math.ceil(20 * seconds));
        assertThat(guesser.send("POST", known, null, "application/json", "{\"from\":\"guesser\"}")
                        .status())
                .as("a hook this node knows still passes")
                .isEqualTo(202);
        assertThat(api.send("POST", "/hooks/" + SecureTokens.random("", 24), null, "application/json", "{}")
                        .status())
                .as("another address is not affected")
                .isEqualTo(404);
    }

    @Test
    void an_implausible_token_gets_the_same_404_problem_as_an_unknown_one() {
        Api other = api.from("127.0.0.4");
        Api.Response implausible = other.send("POST", "/hooks/" + "x".repeat(7_800), null, "application/json", "{}");
        Api.Response unknown =
                other.send("POST", "/hooks/" + SecureTokens.random("", 24), null, "application/json", "{}");

        assertThat(implausible.status()).isEqualTo(404);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(implausible.contentType()).isEqualTo(unknown.contentType());
        for (String field : new String[] {"type", "title", "status", "detail"}) {
            assertThat(implausible.json().path(field))
                    .as(field)
                    .isEqualTo(unknown.json().path(field));
        }
        assertThat(implausible.body()).as("the 7.8 KB path is not echoed").hasSizeLessThan(300);
        assertThat(implausible.header("X-Content-Type-Options")).isEqualTo("nosniff");
    }

    @Test
    void an_ipv6_client_is_counted_by_its_64_so_rotating_addresses_inside_it_buys_nothing() {
        assertThat(HookGateFilter.client("2001:db8:1:2:aaaa::1"))
                .isEqualTo(HookGateFilter.client("2001:db8:1:2:ffff:1:2:3"));
        assertThat(HookGateFilter.client("2001:db8:1:2::1")).isNotEqualTo(HookGateFilter.client("2001:db8:1:3::1"));
        assertThat(HookGateFilter.client("127.0.0.3")).isEqualTo("127.0.0.3");
    }
}
