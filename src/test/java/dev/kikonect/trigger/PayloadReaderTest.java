package dev.kikonect.trigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kikonect.common.DomainException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** A JSON body is checked without building it, and kept exactly as it came. */
class PayloadReaderTest {

    private final PayloadReader reader = new PayloadReader(JsonMapper.builder().build());

    private String read(String body) {
        return reader.toPayload(body.getBytes(StandardCharsets.UTF_8), "application/json");
    }

    @Test
    void valid_json_is_kept_byte_for_byte_and_an_empty_body_is_an_empty_object() {
        assertThat(read("{\"b\":1.50,  \"a\":[0,0,0]}")).isEqualTo("{\"b\":1.50,  \"a\":[0,0,0]}");
        assertThat(read("  42 ")).isEqualTo("  42 ");
        assertThat(read("   ")).isEqualTo("{}");
        assertThat(read("[0" + ",0".repeat(400_000) + "]")).hasSize(800_003);
    }

    @Test
    void malformed_truncated_or_doubled_json_is_refused_as_malformed() {
        for (String bad :
                new String[] {"{\"a\":", "[1,2", "{\"a\":1}x", "[1] [2]", "{\"a\" 1}", "nul", "[01]", "{'a':1}"}) {
            assertThatThrownBy(() -> read(bad))
                    .as(bad)
                    .isInstanceOfSatisfying(
                            DomainException.InvalidRequest.class,
                            e -> assertThat(e.type()).isEqualTo("malformed-json"));
        }
    }

    @Test
    void nesting_beyond_the_parser_limit_is_refused_not_a_stack_overflow() {
        assertThatThrownBy(() -> read("[".repeat(100_000) + "]".repeat(100_000)))
                .isInstanceOf(DomainException.InvalidRequest.class);
    }
}
