package dev.kikonect.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.DataIntegrityViolationException;

class DatabaseHealthTest {

    private final DatabaseHealth health = new DatabaseHealth(Duration.ofMillis(300));

    @Test
    void a_write_refused_for_a_full_disk_marks_the_database_down_for_a_while_and_then_it_is_tried_again() {
        health.observe(new DataAccessResourceFailureException(
                "insert failed", new SQLException("could not extend file: No space left on device", "53100")));

        assertThat(health.isUp()).isFalse();
        assertThat(health.reason()).contains("53100");
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(health::isUp);
    }

    @Test
    void a_read_only_server_counts_and_an_ordinary_data_error_does_not() {
        health.observe(
                new DataIntegrityViolationException("duplicate key", new SQLException("duplicate key", "23505")));
        assertThat(health.isUp()).isTrue();

        health.observe(
                new RuntimeException(new SQLException("cannot execute INSERT in a read-only transaction", "25006")));
        assertThat(health.isUp()).isFalse();
    }
}
