package dev.kikonect.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.kikonect.support.TestDatabase;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A pooled connection whose server refuses writes as read-only (SQLSTATE 25006, as an old primary does after a
 * failover) is closed by the pool and replaced, instead of failing every statement that borrows it.
 */
class ReadOnlyEvictionTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static HikariDataSource pool(String override) {
        HikariDataSource pool = new HikariDataSource();
        pool.setDataSource(db.dataSource());
        pool.setMaximumPoolSize(1);
        pool.setMinimumIdle(1);
        pool.setExceptionOverrideClassName(override);
        return pool;
    }

    /** The backend of the pool's one connection, after making it read-only and failing a write on it. */
    private static int[] backendBeforeAndAfterARefusedWrite(HikariDataSource pool) throws SQLException {
        int before;
        try (Connection c = pool.getConnection();
                Statement s = c.createStatement()) {
            var rs = s.executeQuery("SELECT pg_backend_pid()");
            rs.next();
            before = rs.getInt(1);
            // the session now behaves as a connection to a standby does: every write is refused with 25006
            s.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
            assertThatThrownBy(() -> s.execute("CREATE TEMP TABLE t (x int)"))
                    .isInstanceOfSatisfying(
                            SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25006"));
        }
        try (Connection c = pool.getConnection();
                Statement s = c.createStatement()) {
            var rs = s.executeQuery("SELECT pg_backend_pid()");
            rs.next();
            return new int[] {before, rs.getInt(1)};
        }
    }

    @Test
    void a_connection_refused_a_write_as_read_only_is_replaced() throws SQLException {
        try (HikariDataSource pool = pool(ReadOnlyEviction.class.getName())) {
            int[] backends = backendBeforeAndAfterARefusedWrite(pool);
            assertThat(backends[1]).as("a new connection").isNotEqualTo(backends[0]);
        }
    }

    @Test
    void without_it_the_pool_would_keep_the_read_only_connection() throws SQLException {
        try (HikariDataSource pool = pool(null)) {
            int[] backends = backendBeforeAndAfterARefusedWrite(pool);
            assertThat(backends[1]).as("HikariCP's own rules keep it").isEqualTo(backends[0]);
        }
    }

    @Test
    void the_application_configures_it() throws Exception {
        Properties properties = new Properties();
        try (InputStream in = getClass().getResourceAsStream("/application.properties")) {
            properties.load(in);
        }
        assertThat(properties.getProperty("spring.datasource.hikari.exception-override-class-name"))
                .isEqualTo(ReadOnlyEviction.class.getName());
    }
}
