package dev.kikonect.workspace;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.db.EmbeddedDatabase;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/** V10 moves every object of a database made before workspaces into its owner's personal workspace. */
class WorkspaceMigrationTest {

    @Test
    void every_existing_workflow_run_credential_and_api_key_lands_in_its_owners_personal_workspace() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("target"), "migration-");
        try (EmbeddedPostgres postgres = EmbeddedDatabase.start(dir, 0)) {
            DataSource data = postgres.getPostgresDatabase();
            Flyway.configure()
                    .dataSource(data)
                    .locations("classpath:db/migration")
                    .target("9")
                    .load()
                    .migrate();
            JdbcClient jdbc = JdbcClient.create(data);
            jdbc.sql("""
              INSERT INTO users (email, password_hash, firstname, lastname, created_at)
              VALUES ('ada@example.com', 'x', 'Ada', 'L', now()), ('grace@example.com', 'x', 'Grace', 'H', now())
              """).update();
            long ada = jdbc.sql("SELECT id FROM users WHERE email = 'ada@example.com'")
                    .query(Long.class)
                    .single();
            long grace = jdbc.sql("SELECT id FROM users WHERE email = 'grace@example.com'")
                    .query(Long.class)
                    .single();
            for (long user : new long[] {ada, grace}) {
                jdbc.sql("""
                WITH w AS (
                  INSERT INTO workflows (user_id, name, trigger_type, action_url, steps, created_at, updated_at)
                  VALUES (:u, 'w', 'manual', 'https://example.com/', '[]', now(), now()) RETURNING id)
                INSERT INTO workflow_runs (workflow_id, user_id, status, trigger, payload, created_at)
                SELECT id, :u, 'succeeded', 'manual', '{}', now() FROM w
                """).param("u", user).update();
                jdbc.sql("""
                INSERT INTO credentials (user_id, name, type, fields, secret, key_id, created_at, updated_at)
                VALUES (:u, 'c', 'bearer', '{}', '\\x00', 'k', now(), now())
                """).param("u", user).update();
                jdbc.sql(
                                "INSERT INTO api_keys (user_id, name, key_hash, prefix, created_at) VALUES (:u, 'k', sha256(CAST(:u AS text)::bytea), 'kka_', now())")
                        .param("u", user)
                        .update();
            }

            Flyway.configure()
                    .dataSource(data)
                    .locations("classpath:db/migration")
                    .load()
                    .migrate();

            for (long user : new long[] {ada, grace}) {
                long personal = jdbc.sql("SELECT id FROM workspaces WHERE personal_of = :u")
                        .param("u", user)
                        .query(Long.class)
                        .single();
                assertThat(jdbc.sql("SELECT role FROM workspace_members WHERE workspace_id = :w AND user_id = :u")
                                .param("w", personal)
                                .param("u", user)
                                .query(String.class)
                                .single())
                        .isEqualTo("owner");
                for (String table : new String[] {"workflows", "workflow_runs", "credentials", "api_keys"}) {
                    assertThat(jdbc.sql("SELECT count(*) FROM " + table + " WHERE workspace_id = :w")
                                    .param("w", personal)
                                    .query(Integer.class)
                                    .single())
                            .as(table + " of user " + user)
                            .isEqualTo(1);
                }
            }
            // a workspace made after the migration does not collide with the migrated ids
            long next = jdbc.sql("INSERT INTO workspaces (name, created_at) VALUES ('new', now()) RETURNING id")
                    .query(Long.class)
                    .single();
            assertThat(next).isGreaterThan(Math.max(ada, grace));
        }
    }
}
