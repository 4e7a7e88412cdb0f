package dev.kikonect.support;

import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * The plans the database really executed, statement by statement: a database of its own ({@link
 * TestDatabase#isolated}) whose sessions load {@code auto_explain} with {@code log_analyze} and send each plan to the
 * client as a NOTICE in JSON; {@link #jdbc()} is a {@link JdbcClient} for the application's own stores that keeps
 * those notices. So a test runs the real statements of the real classes and reads which partitions each one touched.
 */
public final class Plans {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<JsonNode> captured = Collections.synchronizedList(new ArrayList<>());
    private final DataSource data;
    private final JdbcClient jdbc;
    private final JdbcClient plain;

    public Plans(TestDatabase db, String name) {
        data = db.isolated(name);
        plain = JdbcClient.create(data);
        for (String setting : List.of(
                "session_preload_libraries = 'auto_explain'",
                "auto_explain.log_min_duration = 0",
                "auto_explain.log_analyze = on",
                "auto_explain.log_timing = off",
                "auto_explain.log_format = json",
                "auto_explain.log_level = notice")) {
            plain.sql("ALTER DATABASE " + name + " SET " + setting).update();
        }
        JdbcTemplate template = new JdbcTemplate(data) {
            @Override
            protected void handleWarnings(Statement statement) throws SQLException {
                for (SQLWarning w = statement.getWarnings(); w != null; w = w.getNextWarning()) {
                    String message = w.getMessage();
                    int start = message.indexOf('{');
                    if (message.contains("duration:") && start >= 0) {
                        captured.add(JSON.readTree(message.substring(start)));
                    }
                }
            }
        };
        jdbc = JdbcClient.create(new NamedParameterJdbcTemplate(template));
    }

    /** For the stores under test: every statement's executed plan is kept. */
    public JdbcClient jdbc() {
        return jdbc;
    }

    /** For setting up data without keeping plans (its sessions still explain, to no one). */
    public JdbcClient plain() {
        return plain;
    }

    /** A plain template on the same database, for code that takes one. */
    public JdbcTemplate template() {
        return new JdbcTemplate(data);
    }

    public TransactionTemplate transactions() {
        return new TransactionTemplate(new DataSourceTransactionManager(data));
    }

    /** Forgets the plans kept so far. */
    public void clear() {
        captured.clear();
    }

    /** The plans kept since the last {@link #clear()}, one per statement, with their text. */
    public List<JsonNode> plans() {
        synchronized (captured) {
            return List.copyOf(captured);
        }
    }

    /**
     * The partitions of {@code table} ({@code <table>_p<first id>} or {@code <table>_legacy}) that a plan's nodes
     * read at least once.
     */
    public static Set<String> partitionsRead(JsonNode plan, String table) {
        Set<String> read = new TreeSet<>();
        collect(plan.path("Plan"), table + "_", read);
        return read;
    }

    private static void collect(JsonNode node, String prefix, Set<String> read) {
        String relation = node.path("Relation Name").asString("");
        if (relation.startsWith(prefix)
                && relation.substring(prefix.length()).matches("p\\d+|legacy")
                && node.path("Actual Loops").asLong(0) > 0) {
            read.add(relation);
        }
        for (JsonNode child : node.path("Plans")) {
            collect(child, prefix, read);
        }
    }
}
