package dev.kikonect.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.MvcResult;
import org.springframework.test.web.servlet.request.MockMvcRequestBuilders;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** A database that cannot take work is a 503 the caller can retry, not a 500 with a stack trace. */
class DatabaseErrorsTest {

    @RestController
    static class Failing {
        @GetMapping("/no-connection")
        String noConnection() {
            throw new CannotGetJdbcConnectionException(
                    "Failed to obtain JDBC Connection", new SQLException("Connection refused"));
        }

        @GetMapping("/timeout")
        String timeout() {
            throw new QueryTimeoutException("canceling statement due to statement timeout");
        }

        @GetMapping("/bug")
        String bug() {
            throw new IllegalStateException("a bug");
        }
    }

    private final MockMvc mvc = MockMvcBuilders.standaloneSetup(new Failing())
            .setControllerAdvice(new ProblemHandler())
            .build();

    private MvcResult get(String path) throws Exception {
        return mvc.perform(MockMvcRequestBuilders.get(path)).andReturn();
    }

    @Test
    void no_database_connection_and_a_transient_failure_are_503_with_retry_after() throws Exception {
        for (String path : new String[] {"/no-connection", "/timeout"}) {
            MvcResult result = get(path);
            assertThat(result.getResponse().getStatus()).as(path).isEqualTo(503);
            assertThat(result.getResponse().getHeader("Retry-After")).isEqualTo("1");
            assertThat(result.getResponse().getContentType()).contains("application/problem+json");
            assertThat(result.getResponse().getContentAsString())
                    .contains("database-unavailable")
                    .doesNotContain("Connection refused");
        }
    }

    @Test
    void anything_else_is_still_a_500_without_details() throws Exception {
        MvcResult result = get("/bug");
        assertThat(result.getResponse().getStatus()).isEqualTo(500);
        assertThat(result.getResponse().getContentAsString()).doesNotContain("a bug");
    }
}
