package dev.kikonect.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The database harness for store and queue tests, without the application: an embedded PostgreSQL (one per test JVM,
 * started at first use, as db-scheduler's {@code EmbeddedPostgresqlExtension} does), migrated by the same Flyway
 * scripts, and every table emptied before each test. No executor, scheduler or other test runs on it, so a test
 * enqueues at "now" and owns every row it sees.
 *
 * <pre>{@code @RegisterExtension static final TestDatabase db = new TestDatabase();}</pre>
 */
public final class TestDatabase implements BeforeEachCallback {

    private static final class Server {
        static final EmbeddedPostgres POSTGRES = start();
        static final List<String> TABLES = JdbcClient.create(POSTGRES.getPostgresDatabase())
                .sql("""
                    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                       AND c.relname <> 'flyway_schema_history'
                    """)
                .query(String.class)
                .list();

        private static EmbeddedPostgres start() {
            try {
                EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                        .setServerConfig("fsync", "off") // a test database: nothing here must survive a crash
                        .setServerConfig("synchronous_commit", "off")
                        .setServerConfig("full_page_writes", "off")
                        .start();
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        postgres.close();
                    } catch (IOException e) {
                        // the JVM is exiting; the temporary directory goes with the process's cleanup
                    }
                }));
                Flyway.configure()
                        .dataSource(postgres.getPostgresDatabase())
                        .locations("classpath:db/migration")
                        .load()
                        .migrate();
                return postgres;
            } catch (IOException e) {
                throw new UncheckedIOException("starting the embedded PostgreSQL for the database tests failed", e);
            }
        }
    }

    public DataSource dataSource() {
        return Server.POSTGRES.getPostgresDatabase();
    }

    public JdbcClient jdbc() {
        return JdbcClient.create(dataSource());
    }

    /**
     * A database of its own on the same server, freshly migrated and empty ({@code name} is dropped first): for tests
     * that change the schema's shape, such as dropping history partitions, which the shared database must keep.
     */
    public DataSource isolated(String name) {
        synchronized (Server.class) {
            JdbcClient admin = jdbc();
            if (admin.sql("SELECT count(*) FROM pg_database WHERE datname = 'kikonect_migrated'")
                            .query(Integer.class)
                            .single()
                    == 0) {
                admin.sql("CREATE DATABASE kikonect_migrated").update();
                Flyway.configure()
                        .dataSource(Server.POSTGRES.getDatabase("postgres", "kikonect_migrated"))
                        .locations("classpath:db/migration")
                        .load()
                        .migrate();
            }
            admin.sql("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").update();
            admin.sql("CREATE DATABASE " + name + " TEMPLATE kikonect_migrated").update();
            return Server.POSTGRES.getDatabase("postgres", name);
        }
    }

    public TransactionTemplate transactions() {
        return new TransactionTemplate(new DataSourceTransactionManager(dataSource()));
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        jdbc().sql("TRUNCATE " + String.join(", ", Server.TABLES) + " RESTART IDENTITY CASCADE")
                .update();
    }

    /**
     * A workspace and its manual workflow with {@code steps} (a JSON array; tracked, as the workflow store decides, when it
     * has more than one step or a step with a when, a for_each or a workflow) or the one-step {@code actionUrl} (then {@code steps} is "[]").
     */
    public Workflow workflow(String actionUrl, String steps) {
        JdbcClient jdbc = jdbc();
        long workspace = jdbc.sql("INSERT INTO workspaces (name, created_at) VALUES ('w', now()) RETURNING id")
                .query(Long.class)
                .single();
        return new Workflow(workspace, workflowIn(jdbc, workspace, actionUrl, steps));
    }

    /** As {@link #workflow(String, String)}, in {@code workspace} of the database {@code jdbc} reaches; returns its id. */
    public static long workflowIn(JdbcClient jdbc, long workspace, String actionUrl, String steps) {
        return jdbc.sql("""
            INSERT INTO workflows (workspace_id, name, trigger_type, action_url, steps, tracked, signing_secret, created_at, updated_at)
            VALUES (:workspace, 'wf', 'manual', :url, CAST(:steps AS jsonb),
                    jsonb_array_length(CAST(:steps AS jsonb)) > 1
                      OR jsonb_path_exists(CAST(:steps AS jsonb), '$[*] ? (exists(@.when) || exists(@.for_each) || exists(@.workflow))'),
                    'whsec_dGVzdA==', now(), now())
            RETURNING id""")
                .param("workspace", workspace)
                .param("url", actionUrl)
                .param("steps", steps)
                .query(Long.class)
                .single();
    }

    public record Workflow(long workspace, long id) {}
}
