package dev.kikonect.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kikonect.support.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * History's partitions against a database of their own (the shared one must keep its partitions): partitions of 10
 * run ids, two kept ahead.
 */
class RunPartitionsTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private JdbcClient jdbc;
    private DataSource data;
    private long first;
    private RunPartitions partitions;
    private long workflow;
    private long workspace;
    private final Instant now = Instant.parse("2026-12-07T10:00:00Z");
    private final Instant succeededBefore = now.minusSeconds(30 * 86_400);
    private final Instant failedBefore = now.minusSeconds(90 * 86_400);

    @BeforeEach
    void database() {
        data = db.isolated("kikonect_partitions");
        jdbc = JdbcClient.create(data);
        partitions = new RunPartitions(
                new JdbcTemplate(data), new TransactionTemplate(new DataSourceTransactionManager(data)), 10, 2, false);
        workspace = jdbc.sql("INSERT INTO workspaces (name, created_at) VALUES ('w', now()) RETURNING id")
                .query(Long.class)
                .single();
        workflow = jdbc.sql("""
            INSERT INTO workflows (workspace_id, name, trigger_type, action_url, steps, tracked, signing_secret,
                                   created_at, updated_at)
            VALUES (:workspace, 'wf', 'manual', 'http://127.0.0.1:9/', '[]', false, 'whsec_dGVzdA==', now(), now())
            RETURNING id""").param("workspace", workspace).query(Long.class).single();
        // past the migration's first partition of 1,000,000 ids, into partitions of 10
        jdbc.sql("SELECT setval(pg_get_serial_sequence('workflow_runs', 'id'), 1000000)")
                .query(Long.class)
                .single();
        partitions.ensureAhead();
        first = partitions.nextRunId();
        partitions.dropDue(succeededBefore, failedBefore); // the empty legacy and first partitions
    }

    /** {@code n} runs ended {@code daysAgo} with {@code status}, each with one attempt and one step row. */
    private List<Long> runs(int n, String status, int daysAgo) {
        List<Long> ids = jdbc.sql("""
            INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, created_at, ended_at)
            SELECT :wf, :ws, :status, 'manual', '{}', CAST(:ended AS timestamptz), CAST(:ended AS timestamptz)
              FROM generate_series(1, :n)
            RETURNING id""")
                .param("wf", workflow)
                .param("ws", workspace)
                .param("status", status)
                .param("ended", Timestamp.from(now.minusSeconds(daysAgo * 86_400L)))
                .param("n", n)
                .query(Long.class)
                .list();
        jdbc.sql("""
            INSERT INTO attempts (run_id, number, started_at, duration_ms, response_status)
            SELECT id, 1, created_at, 3, 200 FROM workflow_runs WHERE id = ANY (:ids)""").param("ids", ids.toArray(Long[]::new)).update();
        jdbc.sql("""
            INSERT INTO run_steps (run_id, key, position, needs, waiting_for, status, created_at)
            SELECT id, 'a', 1, '{}', 0, 'succeeded', created_at FROM workflow_runs WHERE id = ANY (:ids)""").param("ids", ids.toArray(Long[]::new)).update();
        return ids;
    }

    private String partitionOf(String table, String column, long runId) {
        return jdbc.sql("SELECT tableoid::regclass::text FROM " + table + " WHERE " + column + " = :id LIMIT 1")
                .param("id", runId)
                .query(String.class)
                .single();
    }

    private int count(String table, List<Long> runIds) {
        return jdbc.sql("SELECT count(*) FROM " + table + " WHERE " + (table.equals("workflow_runs") ? "id" : "run_id")
                        + " = ANY (:ids)")
                .param("ids", runIds.toArray(Long[]::new))
                .query(Integer.class)
                .single();
    }

    private boolean tableExists(String name) {
        return jdbc.sql("SELECT to_regclass(:name) IS NOT NULL")
                .param("name", name)
                .query(Boolean.class)
                .single();
    }

    @Test
    void runs_attempts_and_steps_of_one_run_land_in_partitions_of_the_same_range_and_two_stay_ahead() {
        List<Long> ids = new ArrayList<>(runs(15, "succeeded", 1));
        assertThat(partitions.ensureAhead()).isPositive();
        ids.addAll(runs(10, "succeeded", 1));

        assertThat(ids).allSatisfy(id -> {
            String suffix = partitionOf("workflow_runs", "id", id).substring("workflow_runs_".length());
            assertThat(partitionOf("attempts", "run_id", id)).isEqualTo("attempts_" + suffix);
            assertThat(partitionOf("run_steps", "run_id", id)).isEqualTo("run_steps_" + suffix);
        });
        assertThat(ids.stream()
                        .map(id -> partitionOf("workflow_runs", "id", id))
                        .distinct())
                .as("25 runs in partitions of 10")
                .hasSizeGreaterThanOrEqualTo(3);

        assertThat(partitions.ensureAhead()).isPositive();
        long next = partitions.nextRunId();
        List<RunPartitions.Partition> ahead = partitions.partitions().stream()
                .filter(p -> p.from() != null && p.from() > next)
                .toList();
        assertThat(ahead).hasSizeGreaterThanOrEqualTo(2);
        assertThat(partitions.ensureAhead()).as("nothing more to make").isZero();
    }

    @Test
    void retention_drops_a_partition_whose_runs_are_all_due_with_their_attempts_and_steps() {
        List<Long> old = runs(10, "succeeded", 31);
        partitions.rollOver();
        List<Long> recent = runs(3, "succeeded", 1);
        String dropped = partitionOf("workflow_runs", "id", old.getFirst()).substring("workflow_runs_".length());

        RunPartitions.Dropped result = partitions.dropDue(succeededBefore, failedBefore);

        assertThat(result.runs()).isEqualTo(10);
        assertThat(count("workflow_runs", old)).isZero();
        assertThat(count("attempts", old)).isZero();
        assertThat(count("run_steps", old)).isZero();
        assertThat(tableExists("workflow_runs_" + dropped)).isFalse();
        assertThat(tableExists("attempts_" + dropped)).isFalse();
        assertThat(tableExists("run_steps_" + dropped)).isFalse();
        assertThat(count("workflow_runs", recent)).isEqualTo(3);
        assertThat(count("attempts", recent)).isEqualTo(3);
    }

    @Test
    void a_partition_with_an_open_run_a_job_or_a_failure_within_its_retention_is_kept() {
        List<Long> open = runs(10, "succeeded", 31);
        jdbc.sql("UPDATE workflow_runs SET status = 'running', ended_at = NULL WHERE id = :id")
                .param("id", open.get(4))
                .update();
        partitions.rollOver();
        List<Long> withJob = runs(10, "failed", 91);
        jdbc.sql("INSERT INTO jobs (run_id, workflow_id, run_at, created_at) VALUES (:run, :wf, now(), now())")
                .param("run", withJob.get(2))
                .param("wf", workflow)
                .update();
        partitions.rollOver();
        List<Long> failedRecently = new ArrayList<>(runs(9, "succeeded", 40));
        failedRecently.addAll(runs(1, "failed", 60));
        partitions.rollOver();
        List<Long> due = runs(10, "failed", 91);
        partitions.rollOver();

        RunPartitions.Dropped result = partitions.dropDue(succeededBefore, failedBefore);

        assertThat(result.partitions()).as("only the last one").isEqualTo(1);
        assertThat(result.runs()).isEqualTo(10);
        assertThat(count("workflow_runs", due)).isZero();
        assertThat(count("workflow_runs", open)).isEqualTo(10);
        assertThat(count("workflow_runs", withJob)).isEqualTo(10);
        assertThat(count("workflow_runs", failedRecently)).isEqualTo(10);
    }

    @Test
    void a_pass_stops_at_the_first_partition_with_a_run_that_succeeded_within_its_retention() {
        List<Long> recent = runs(10, "succeeded", 2);
        partitions.rollOver();
        List<Long> due = runs(10, "succeeded", 31);
        partitions.rollOver();

        assertThat(partitions.dropDue(succeededBefore, failedBefore).partitions())
                .isZero();
        assertThat(count("workflow_runs", recent) + count("workflow_runs", due)).isEqualTo(20);
    }

    @Test
    void a_partition_whose_last_run_is_still_open_is_kept_and_the_pass_goes_on_to_the_next() {
        List<Long> open = runs(10, "failed", 91);
        jdbc.sql("UPDATE workflow_runs SET status = 'running', ended_at = NULL WHERE id = :id")
                .param("id", open.getLast())
                .update();
        partitions.rollOver();
        List<Long> due = runs(10, "failed", 91);
        partitions.rollOver();

        assertThat(partitions.dropDue(succeededBefore, failedBefore).runs()).isEqualTo(10);
        assertThat(count("workflow_runs", open)).isEqualTo(10);
        assertThat(count("workflow_runs", due)).isZero();
    }

    @Test
    void making_partitions_gives_way_to_an_open_delivery_transaction_instead_of_deadlocking_it() throws Exception {
        List<Long> ids = runs(10, "succeeded", 1);
        try (Connection delivery = data.getConnection();
                ExecutorService background = Executors.newSingleThreadExecutor()) {
            delivery.setAutoCommit(false);
            Future<Integer> made;
            try (Statement statement = delivery.createStatement()) {
                // as a completion does: the attempt first, then the run
                statement.executeUpdate("INSERT INTO attempts (run_id, number, started_at, duration_ms) VALUES ("
                        + ids.getFirst() + ", 2, now(), 1)");
                made = background.submit(partitions::ensureAhead);
                Awaitility.await()
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> jdbc.sql("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted)")
                                .query(Boolean.class)
                                .single());
                statement.executeUpdate("UPDATE workflow_runs SET attempts = 2 WHERE id = " + ids.getFirst());
            }
            delivery.commit();
            assertThat(made.get(30, TimeUnit.SECONDS))
                    .as("the DDL gave up while the delivery held its locks, and made its partition after")
                    .isPositive();
        }
        assertThat(count("attempts", List.of(ids.getFirst())))
                .as("the delivery's writes committed")
                .isEqualTo(2);
    }

    @Test
    void a_drop_a_stopped_node_left_half_way_is_finished_by_the_next_pass() {
        List<Long> ids = runs(10, "failed", 91);
        String suffix = partitionOf("workflow_runs", "id", ids.getFirst()).substring("workflow_runs_".length());
        partitions.rollOver();
        // as if the node stopped after dropping the children and detaching the run partition
        jdbc.sql("DROP TABLE attempts_" + suffix + ", run_steps_" + suffix).update();
        jdbc.sql("ALTER TABLE workflow_runs DETACH PARTITION workflow_runs_" + suffix)
                .update();
        assertThat(tableExists("workflow_runs_" + suffix)).isTrue();

        partitions.dropDue(succeededBefore, failedBefore);

        assertThat(tableExists("workflow_runs_" + suffix)).isFalse();
    }

    @Test
    void a_partition_whose_runs_are_still_being_inserted_is_not_dropped() throws Exception {
        try (Connection loader = data.getConnection()) {
            loader.setAutoCommit(false);
            try (Statement statement = loader.createStatement()) {
                statement.executeUpdate("""
                    INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, created_at, ended_at)
                    SELECT %d, %d, 'failed', 'manual', '{}', now() - interval '100 days', now() - interval '100 days'
                      FROM generate_series(1, 10)""".formatted(workflow, workspace));
            }
            assertThat(partitions.nextRunId())
                    .as("the sequence is past the partition")
                    .isEqualTo(first + 10);

            assertThat(partitions.dropDue(succeededBefore, failedBefore).partitions())
                    .as("its rows are not committed yet: it only looks empty")
                    .isZero();
            loader.commit();
        }
        assertThat(jdbc.sql("SELECT count(*) FROM workflow_runs")
                        .query(Integer.class)
                        .single())
                .isEqualTo(10);
    }

    @Test
    void the_partition_being_filled_is_never_dropped() {
        List<Long> ids = runs(3, "succeeded", 31);

        assertThat(partitions.dropDue(succeededBefore, failedBefore).partitions())
                .isZero();
        assertThat(count("workflow_runs", ids)).isEqualTo(3);
    }

    @Test
    void a_run_with_a_failure_alert_and_a_sub_run_is_dropped_with_them() {
        List<Long> ids = runs(10, "failed", 91);
        jdbc.sql("INSERT INTO failure_alerts (run_id, next_at, created_at) VALUES (:id, now(), now())")
                .param("id", ids.getFirst())
                .update();
        jdbc.sql("""
            INSERT INTO sub_runs (parent_run_id, parent_step, child_run_id, depth, created_at)
            VALUES (:parent, 'a', :child, 1, now())""").param("parent", ids.getFirst()).param("child", ids.get(1)).update();
        partitions.rollOver();

        assertThat(partitions.dropDue(succeededBefore, failedBefore).runs()).isEqualTo(10);
        assertThat(jdbc.sql("SELECT count(*) FROM failure_alerts")
                        .query(Integer.class)
                        .single())
                .isZero();
        assertThat(jdbc.sql("SELECT count(*) FROM sub_runs")
                        .query(Integer.class)
                        .single())
                .isZero();
    }

    @Test
    void the_foreign_key_from_jobs_refuses_to_detach_a_partition_that_still_has_a_job() {
        List<Long> ids = runs(10, "succeeded", 31);
        jdbc.sql("INSERT INTO jobs (run_id, workflow_id, run_at, created_at) VALUES (:run, :wf, now(), now())")
                .param("run", ids.getFirst())
                .param("wf", workflow)
                .update();
        String suffix = partitionOf("workflow_runs", "id", ids.getFirst()).substring("workflow_runs_".length());

        assertThatThrownBy(() -> jdbc.sql("ALTER TABLE workflow_runs DETACH PARTITION workflow_runs_" + suffix)
                        .update())
                .hasMessageContaining("violates foreign key constraint");
    }

    @Test
    void slots_of_old_schedules_and_causes_of_dropped_runs_are_pruned() {
        jdbc.sql("INSERT INTO schedule_slots (workflow_id, scheduled_for) VALUES (:wf, :old), (:wf, :recent)")
                .param("wf", workflow)
                .param("old", Timestamp.from(now.minusSeconds(100 * 86_400L)))
                .param("recent", Timestamp.from(now.minusSeconds(86_400L)))
                .update();
        List<Long> due = runs(10, "failed", 91);
        partitions.rollOver();
        jdbc.sql("INSERT INTO run_failed_causes (workflow_id, caused_by_run_id) VALUES (:wf, :gone), (:wf, :kept)")
                .param("wf", workflow)
                .param("gone", due.getFirst())
                .param("kept", partitions.nextRunId() + 5)
                .update();
        assertThat(partitions.dropDue(succeededBefore, failedBefore).runs()).isEqualTo(10);
        assertThat(partitions.partitions().getFirst().from()).isGreaterThan(due.getLast());

        assertThat(partitions.pruneKeys(failedBefore)).isEqualTo(2);
        assertThat(jdbc.sql("SELECT count(*) FROM schedule_slots")
                        .query(Integer.class)
                        .single())
                .isEqualTo(1);
        assertThat(jdbc.sql("SELECT count(*) FROM run_failed_causes")
                        .query(Integer.class)
                        .single())
                .isEqualTo(1);
    }
}
