package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.common.Printable;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class SecretsTest {

    private static final String SECRET = "sk_live_0123456789abcdef";

    @Test
    void a_whole_secret_is_redacted_wherever_it_stands() {
        UnaryOperator<String> scrub = Secrets.scrubber(List.of(SECRET));
        assertThat(scrub.apply("unknown key " + SECRET + ", try again")).isEqualTo("unknown key [redacted], try again");
    }

    @Test
    void a_secret_split_by_the_4_kib_cut_shows_none_of_its_characters() {
        UnaryOperator<String> scrub = Secrets.scrubber(List.of(SECRET));
        String cut = "x".repeat(4075) + SECRET.substring(0, 21) + "\n[truncated to 4 KiB]";
        assertThat(scrub.apply(cut)).isEqualTo("x".repeat(4075) + "[redacted]\n[truncated to 4 KiB]");
        assertThat(scrub.apply("error: " + SECRET.substring(0, 10) + "…")).isEqualTo("error: [redacted]…");
    }

    @Test
    void a_secret_quoted_with_its_control_characters_escaped_is_found_too() {
        String odd = "abc\u0001defghij";
        UnaryOperator<String> scrub = Secrets.scrubber(List.of(odd, Printable.of(odd, Integer.MAX_VALUE)));
        assertThat(scrub.apply("header value " + Printable.of(odd, 200) + " refused"))
                .isEqualTo("header value [redacted] refused");
    }

    @Test
    void text_that_only_shares_a_letter_or_two_with_a_secret_is_left_alone() {
        UnaryOperator<String> scrub = Secrets.scrubber(List.of(SECRET));
        assertThat(scrub.apply("ends with sk")).isEqualTo("ends with sk");
        assertThat(scrub.apply(null)).isNull();
    }
}
