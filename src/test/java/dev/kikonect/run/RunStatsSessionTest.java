package dev.kikonect.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.support.TestDatabase;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * {@code GET /stats} reads in one repeatable-read snapshot that belongs to its transaction alone: no session state on
 * the connection (pgbouncer in transaction mode runs a session command on whichever server connection it likes, and
 * leaves it there for the next client).
 */
class RunStatsSessionTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    /** What was done to the connections: method names, and the SQL of each statement prepared. */
    private final List<String> calls = new CopyOnWriteArrayList<>();

    private DataSource recording(DataSource real) {
        return (DataSource) Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                    Object result = invoke(real, method, args);
                    return result instanceof Connection c ? recording(c) : result;
                });
    }

    private Connection recording(Connection real) {
        InvocationHandler handler = (proxy, method, args) -> {
            calls.add(
                    method.getName().startsWith("prepare") && args != null && args.length > 0
                            ? "SQL " + args[0]
                            : method.getName());
            return invoke(real, method, args);
        };
        return (Connection)
                Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class}, handler);
    }

    private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @Test
    void stats_ask_for_repeatable_read_inside_their_transaction_and_set_nothing_on_the_session() {
        DataSource dataSource = recording(db.dataSource());
        RunStats stats = new RunStats(
                JdbcClient.create(dataSource), new TransactionTemplate(new DataSourceTransactionManager(dataSource)));

        RunStats.Stats read = stats.of(1, Instant.parse("2026-12-07T12:00:00Z"));

        assertThat(read.runs()).isZero();
        assertThat(calls)
                .as("no session-level isolation (the driver sends SET SESSION CHARACTERISTICS for it)")
                .doesNotContain("setTransactionIsolation");
        List<String> sql = calls.stream().filter(c -> c.startsWith("SQL ")).toList();
        assertThat(sql.get(0)).isEqualTo("SQL SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        assertThat(sql).hasSizeGreaterThan(1);
        assertThat(calls.indexOf("commit"))
                .as("all in one transaction")
                .isGreaterThan(calls.lastIndexOf(sql.getLast()));
    }
}
