package dev.kikonect.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.support.TestDatabase;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.MvcResult;
import org.springframework.test.web.servlet.request.MockMvcRequestBuilders;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/** A database that cannot take work is a 503 the caller can retry, not a 500 with a stack trace. */
class DatabaseErrorsTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    /** A database of its own whose run ids have run past the last history partition (the nodes fell behind). */
    private static JdbcClient behind;

    @RestController
    static class Failing {
        @PostMapping("/runs")
        String insertRun() {
            behind.sql("""
                    INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, created_at)
                    VALUES (1, 1, 'pending', 'webhook', '{}', now())""").update();
            return "stored";
        }

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
    void a_run_whose_id_has_no_history_partition_yet_is_a_503_and_nothing_is_stored() throws Exception {
        behind = JdbcClient.create(db.isolated("kikonect_no_partition"));
        long top = behind.sql("""
                SELECT max(CAST(substring(pg_get_expr(c.relpartbound, c.oid) from 'TO \\(''?(\\d+)') AS bigint))
                  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'workflow_runs'::regclass
                """).query(Long.class).single();
        behind.sql("SELECT setval(pg_get_serial_sequence('workflow_runs', 'id'), :top)")
                .param("top", top)
                .query(Long.class)
                .single();

        MvcResult result = mvc.perform(MockMvcRequestBuilders.post("/runs")).andReturn();

        assertThat(result.getResponse().getStatus()).isEqualTo(503);
        assertThat(result.getResponse().getHeader("Retry-After")).isEqualTo("1");
        assertThat(result.getResponse().getContentAsString())
                .contains("database-unavailable")
                .doesNotContain("partition");
        assertThat(behind.sql("SELECT count(*) FROM workflow_runs")
                        .query(Integer.class)
                        .single())
                .isZero();
    }

    @Test
    void anything_else_is_still_a_500_without_details() throws Exception {
        MvcResult result = get("/bug");
        assertThat(result.getResponse().getStatus()).isEqualTo(500);
        assertThat(result.getResponse().getContentAsString()).doesNotContain("a bug");
    }
}
