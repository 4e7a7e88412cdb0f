package dev.kikonect.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FieldsTest {

    @Test
    void strings_are_trimmed_and_checked_for_presence_type_length_and_nul() {
        Map<String, Object> body = new HashMap<>();
        body.put("name", "  Ann  ");
        body.put("short", "a");
        body.put("number", 5);
        body.put("nul", "a\u0000b");
        Fields fields = Fields.of(body);

        assertThat(fields.string("name", true, 1, 10)).isEqualTo("Ann");
        assertThat(fields.string("short", true, 2, 10)).isNull();
        assertThat(fields.string("number", true, 1, 10)).isNull();
        assertThat(fields.string("nul", true, 1, 10)).isNull();
        assertThat(fields.string("missing", true, 1, 10)).isNull();
        assertThat(fields.string("optional", false, 1, 10)).isNull();

        assertThat(fields.problems())
                .extracting(FieldProblem::field)
                .containsExactly("short", "number", "nul", "missing");
        assertThat(fields.problems().get(1).reason()).isEqualTo("must be a string");
        assertThat(fields.problems().get(3).reason()).isEqualTo("is required");
    }

    @Test
    void integers_are_checked_for_type_and_range() {
        Fields fields = Fields.of(Map.of("ok", 7, "big", 99, "text", "7"));

        assertThat(fields.integer("ok", true, 1, 10)).isEqualTo(7L);
        assertThat(fields.integer("big", true, 1, 10)).isNull();
        assertThat(fields.integer("text", true, 1, 10)).isNull();

        assertThat(fields.problems()).extracting(FieldProblem::field).containsExactly("big", "text");
    }

    @Test
    void nested_objects_report_their_fields_with_a_dotted_path_into_the_same_list() {
        Fields fields = Fields.of(Map.of("trigger_config", Map.of("interval_minutes", 0)));
        Fields nested = fields.nested("trigger_config", fields.object("trigger_config", true));

        nested.integer("interval_minutes", true, 1, 1440);

        assertThat(fields.problems())
                .extracting(FieldProblem::field)
                .containsExactly("trigger_config.interval_minutes");
    }

    @Test
    void every_problem_is_reported_at_once() {
        Fields fields = Fields.of(Map.of());
        fields.string("name", true, 1, 100);
        fields.string("action_url", true, 1, 100);

        assertThatThrownBy(fields::throwIfInvalid)
                .isInstanceOfSatisfying(
                        DomainException.InvalidInput.class,
                        e -> assertThat(e.problems())
                                .extracting(FieldProblem::field)
                                .containsExactly("name", "action_url"))
                .hasMessage("2 fields are invalid: name, action_url");
    }

    @Test
    void valid_input_throws_nothing() {
        Fields fields = Fields.of(Map.of("name", "x"));
        fields.string("name", true, 1, 10);

        fields.throwIfInvalid();

        assertThat(fields.valid()).isTrue();
    }
}
