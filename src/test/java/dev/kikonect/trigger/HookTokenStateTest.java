package dev.kikonect.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.common.SecureTokens;
import dev.kikonect.support.Api;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** A scan of hook URLs, by an unauthenticated caller, leaves nothing behind in memory. */
class HookTokenStateTest extends ApiTest {

    @Autowired
    HookRateLimiter limiter;

    @Test
    void unknown_and_implausible_hook_tokens_get_404_and_cost_no_rate_limit_state() {
        long before = limiter.size();
        Api api = this.api.from("127.0.0.5"); // under this address's miss limit (HookGateTest)

        for (int i = 0; i < 150; i++) {
            String unknown = SecureTokens.random("", 24); // well-formed, but nobody's
            assertThat(api.send("POST", "/hooks/" + unknown, null, "application/json", "{}")
                            .status())
                    .isEqualTo(404);
        }
        for (String implausible : new String[] {"x".repeat(1_000), "not%20a%20token", "a.b"}) {
            assertThat(api.send("POST", "/hooks/" + implausible, null, "application/json", "{}")
                            .status())
                    .as(implausible)
                    .isEqualTo(404);
        }

        assertThat(limiter.size()).isLessThanOrEqualTo(before);
    }

    @Test
    void only_short_url_safe_base64_can_be_a_hook_token() {
        assertThat(HookLookup.plausible(SecureTokens.random("", 24))).isTrue();
        assertThat(HookLookup.plausible("x".repeat(HookLookup.MAX_TOKEN_LENGTH + 1)))
                .isFalse();
        assertThat(HookLookup.plausible("")).isFalse();
        assertThat(HookLookup.plausible("abc/def")).isFalse();
        assertThat(HookLookup.plausible("abc def")).isFalse();
    }
}
