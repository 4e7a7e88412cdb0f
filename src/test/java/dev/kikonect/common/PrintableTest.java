package dev.kikonect.common;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PrintableTest {

    @Test
    void line_breaks_and_terminal_escapes_from_outside_cannot_forge_log_lines() {
        String forged = "Unexpected status line: HTTP/1.1 200\r\n2026-01-01 INFO admin logged in\u001b[31m";

        String safe = Printable.of(forged, 500);

        assertThat(safe).doesNotContain("\r").doesNotContain("\n").doesNotContain("\u001b");
        assertThat(safe).contains("\\u000d\\u000a2026-01-01 INFO").endsWith("\\u001b[31m");
    }

    @Test
    void long_text_is_cut_with_an_ellipsis_and_ordinary_text_is_kept_as_it_is() {
        assertThat(Printable.of("x".repeat(1000), 10)).isEqualTo("xxxxxxxxxx…");
        assertThat(Printable.of("café ünïcode", 100)).isEqualTo("café ünïcode");
        assertThat(Printable.of(null, 10)).isNull();
    }
}
