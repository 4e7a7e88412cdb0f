package dev.kikonect.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.lifecycle.AttemptView;
import dev.kikonect.lifecycle.Run;
import dev.kikonect.lifecycle.RunFilter;
import dev.kikonect.support.Plans;
import dev.kikonect.support.TestDatabase;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * The run page's reads (run by id, its attempts, its steps) touch the one history partition that holds the run, and
 * the first page of the run list only the newest: four partitions of 5,000 runs each, analyzed, read through {@link
 * Plans} (the plans the database executed).
 */
class RunReadPlansTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static final int PER_PARTITION = 5_000;

    private Plans plans;
    private RunStore store;
    private long workspace;

    @BeforeEach
    void history() {
        plans = new Plans(db, "kikonect_read_plans");
        store = new RunStore(plans.jdbc());
        JdbcClient plain = plans.plain();
        workspace = plain.sql("INSERT INTO workspaces (name, created_at) VALUES ('w', now()) RETURNING id")
                .query(Long.class)
                .single();
        long workflow = plain.sql("""
            INSERT INTO workflows (workspace_id, name, trigger_type, steps, tracked, signing_secret, created_at, updated_at)
            VALUES (:ws, 'wf', 'manual', '[{"key": "a", "url": "http://127.0.0.1:9/a"}, {"key": "b", "url": "http://127.0.0.1:9/b"}]',
                    true, 'whsec_dGVzdA==', now(), now())
            RETURNING id""").param("ws", workspace).query(Long.class).single();
        // four partitions of PER_PARTITION ids above the migration's first one, each filled with finished runs
        long first = 1_000_001;
        for (int p = 0; p < 4; p++) {
            long from = first + (long) p * PER_PARTITION;
            for (String table : List.of("workflow_runs", "attempts", "run_steps")) {
                plain.sql("CREATE TABLE %1$s_p%2$d PARTITION OF %1$s FOR VALUES FROM (%2$d) TO (%3$d)"
                                .formatted(table, from, from + PER_PARTITION))
                        .update();
            }
        }
        plain.sql("SELECT setval(pg_get_serial_sequence('workflow_runs', 'id'), 1000000)")
                .query(Long.class)
                .single();
        plain.sql("""
            WITH run AS (
              INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, created_at, ended_at, open_steps)
              SELECT :wf, :ws, 'succeeded', 'manual', '{}', now(), now(), 0 FROM generate_series(1, :n)
              RETURNING id
            ), attempt AS (
              INSERT INTO attempts (run_id, step, number, started_at, duration_ms, response_status)
              SELECT run.id, k, 1, now(), 3, 200 FROM run, unnest(ARRAY['a', 'b']) k
            )
            INSERT INTO run_steps (run_id, key, position, needs, waiting_for, status, created_at)
            SELECT run.id, k, 1, '{}', 0, 'succeeded', now() FROM run, unnest(ARRAY['a', 'b']) k
            """)
                .param("wf", workflow)
                .param("ws", workspace)
                .param("n", 4 * PER_PARTITION)
                .update();
        plain.sql("ANALYZE").update();
    }

    private static String partition(String table, long runId) {
        return table + "_p" + (1_000_001 + (runId - 1_000_001) / PER_PARTITION * PER_PARTITION);
    }

    private void assertEachRead(String table, Set<String> expected) {
        List<JsonNode> kept = plans.plans();
        assertThat(kept).isNotEmpty();
        for (JsonNode plan : kept) {
            assertThat(Plans.partitionsRead(plan, table))
                    .as("partitions of " + table + " read by\n"
                            + plan.path("Query Text").asString())
                    .isSubsetOf(expected);
        }
    }

    @Test
    void a_run_its_attempts_and_its_steps_are_read_from_the_one_partition_that_holds_it() {
        for (long id : new long[] {1_000_001 + PER_PARTITION + 17, 1_000_000 + 4 * PER_PARTITION}) {
            plans.clear();
            Run run = store.findOwned(workspace, id).orElseThrow();
            List<AttemptView> log = store.attempts(id);
            assertThat(log).hasSize(2);
            assertThat(store.steps(run, log)).hasSize(2);

            assertThat(plans.plans()).hasSizeGreaterThanOrEqualTo(3);
            for (String table : List.of("workflow_runs", "attempts", "run_steps")) {
                assertEachRead(table, Set.of(partition(table, id)));
            }
            assertThat(plans.plans().stream()
                            .mapToInt(p ->
                                    Plans.partitionsRead(p, "workflow_runs").size())
                            .sum())
                    .as("the run by id read its partition")
                    .isEqualTo(1);
        }
    }

    @Test
    void the_first_page_of_the_run_list_reads_only_the_newest_partition() {
        plans.clear();
        List<Run> page = store.list(workspace, new RunFilter(null, null, null, null, null), Long.MAX_VALUE, 50);

        assertThat(page).hasSize(51);
        assertEachRead("workflow_runs", Set.of(partition("workflow_runs", 1_000_000 + 4 * PER_PARTITION)));
    }
}
