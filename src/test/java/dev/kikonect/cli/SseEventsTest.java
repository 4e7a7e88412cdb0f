package dev.kikonect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The event stream read as the HTML standard says, including what the old line reader got wrong. */
class SseEventsTest {

    private static List<SseEvents.Event> read(String... lines) {
        SseEvents events = new SseEvents();
        List<SseEvents.Event> out = new ArrayList<>();
        for (String line : lines) {
            SseEvents.Event e = events.line(line);
            if (e != null) {
                out.add(e);
            }
        }
        return out;
    }

    @Test
    void data_lines_are_joined_with_newlines_and_only_one_leading_space_is_dropped() {
        assertThat(read("event: delivery", "data: {\"a\":", "data:  \"b c\"}", ""))
                .containsExactly(new SseEvents.Event("delivery", "{\"a\":\n \"b c\"}"));
    }

    @Test
    void comments_ids_and_retries_are_skipped_and_an_event_without_a_type_is_a_message() {
        assertThat(read(": keep-alive", "id: 7", "retry: 1000", "data:x", "", ": again", ""))
                .containsExactly(new SseEvents.Event("message", "x"));
    }

    @Test
    void an_event_without_data_is_not_dispatched_and_its_type_does_not_leak_into_the_next() {
        assertThat(read("event: ping", "", "data: y", "")).containsExactly(new SseEvents.Event("message", "y"));
    }

    @Test
    void a_field_without_a_colon_has_an_empty_value() {
        assertThat(read("data", "data", "")).containsExactly(new SseEvents.Event("message", "\n"));
    }
}
