package dev.kikonect.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.support.Plans;
import dev.kikonect.support.TestDatabase;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * Every hot statement of the queue touches one history partition: three partitions of finished history (5,000 run
 * ids each, analyzed) lie below the one the new runs are in, and the plans the database executed for the claim, the
 * completions (one-step and with steps), the lease sweep and the release read at most that one partition of
 * {@code workflow_runs}, {@code attempts} and {@code run_steps} ({@link Plans}: auto_explain with analyze).
 */
class HotStatementPlansTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private Plans plans;
    private Claims claims;
    private Completions completions;
    private Leases leases;
    private ScheduledRuns runs;
    private RunPartitions partitions;
    private long workspace;
    private long oneStep;
    private long twoSteps;
    private final Instant now = Instant.parse("2026-12-07T10:00:00Z");

    /** Runs per partition: enough history that the planner weighs it as it would in production. */
    private static final int HISTORY = 5_000;

    @BeforeEach
    void history() {
        plans = new Plans(db, "kikonect_plans");
        JdbcClient jdbc = plans.jdbc();
        claims = new Claims(jdbc, 3);
        completions = new Completions(jdbc);
        leases = new Leases(jdbc, 3, new long[] {100, 200});
        runs = new ScheduledRuns(jdbc);
        partitions = new RunPartitions(plans.template(), plans.transactions(), HISTORY, 2, false);
        JdbcClient plain = plans.plain();
        workspace = plain.sql("INSERT INTO workspaces (name, created_at) VALUES ('w', now()) RETURNING id")
                .query(Long.class)
                .single();
        oneStep = TestDatabase.workflowIn(plain, workspace, "http://127.0.0.1:9/", "[]");
        twoSteps = TestDatabase.workflowIn(plain, workspace, null, """
            [{"key": "a", "url": "http://127.0.0.1:9/a"}, {"key": "b", "url": "http://127.0.0.1:9/b", "needs": ["a"]}]""");
        plain.sql("SELECT setval(pg_get_serial_sequence('workflow_runs', 'id'), 1000000)")
                .query(Long.class)
                .single();
        partitions.ensureAhead();
        for (int p = 0; p < 3; p++) {
            finishedHistory(HISTORY);
            partitions.ensureAhead();
        }
        plain.sql("ANALYZE").update(); // as autovacuum would have: the planner sees history as large as it is
        assertThat(partitions.partitions()).hasSizeGreaterThanOrEqualTo(5);
    }

    /** {@code n} finished runs of both workflows, with their attempts and steps, filling one partition. */
    private void finishedHistory(long n) {
        JdbcClient plain = plans.plain();
        plain.sql("""
            WITH run AS (
              INSERT INTO workflow_runs (workflow_id, workspace_id, status, trigger, payload, created_at, ended_at, open_steps)
              SELECT CASE WHEN g % 2 = 0 THEN :one ELSE :two END, :ws, 'succeeded', 'manual', '{}', now(), now(),
                     CASE WHEN g % 2 = 0 THEN NULL ELSE 0 END
                FROM generate_series(1, :n) g
              RETURNING id, workflow_id, open_steps
            ), attempt AS (
              INSERT INTO attempts (run_id, step, number, started_at, duration_ms, response_status)
              SELECT run.id, CASE WHEN run.open_steps IS NULL THEN NULL ELSE k END, 1, now(), 3, 200
                FROM run, unnest(ARRAY['a', 'b']) k WHERE run.open_steps IS NOT NULL OR k = 'a'
            )
            INSERT INTO run_steps (run_id, key, position, needs, waiting_for, status, created_at)
            SELECT run.id, k, 1, '{}', 0, 'succeeded', now() FROM run, unnest(ARRAY['a', 'b']) k WHERE run.open_steps IS NOT NULL
            """)
                .param("one", oneStep)
                .param("two", twoSteps)
                .param("ws", workspace)
                .param("n", n)
                .update();
    }

    /** Each kept plan's partitions read, by table; and the statement's first line. */
    private List<String> touched() {
        List<String> lines = new ArrayList<>();
        for (JsonNode plan : plans.plans()) {
            Map<String, Set<String>> read = new TreeMap<>();
            for (String table : RunPartitions.TABLES) {
                Set<String> partitionsRead = Plans.partitionsRead(plan, table);
                if (!partitionsRead.isEmpty()) {
                    read.put(table, partitionsRead);
                }
            }
            String text = plan.path("Query Text").asString().strip();
            lines.add(text.substring(0, Math.min(60, text.length())).replace('\n', ' ') + " -> " + read);
        }
        return lines;
    }

    private static Attempt ok(ClaimedJob job, Instant at) {
        return new Attempt(job.number(), at, 3, true, false, 200, "{}", "", null, null, null);
    }

    private void assertOnePartitionEach(String what) {
        List<JsonNode> kept = plans.plans();
        assertThat(kept).as(what + ": plans kept").isNotEmpty();
        if (System.getenv("PLANS_DUMP") != null) {
            kept.forEach(k -> System.out.println("PLAN " + what + " " + k.toPrettyString()));
        }
        for (JsonNode plan : kept) {
            for (String table : RunPartitions.TABLES) {
                assertThat(Plans.partitionsRead(plan, table))
                        .as(what + ": partitions of " + table + " read by\n"
                                + plan.path("Query Text").asString() + "\nall: " + touched())
                        .hasSizeLessThanOrEqualTo(1)
                        .allSatisfy(p -> assertThat(p).endsWith("_p" + newest()));
            }
        }
    }

    private long newest() {
        long next = partitions.nextRunId();
        return partitions.partitions().stream()
                .filter(p -> p.from() != null && p.from() <= next - 1 && next - 1 < p.to())
                .findFirst()
                .orElseThrow()
                .from();
    }

    @Test
    void the_claim_completions_lease_sweep_and_release_each_touch_only_the_newest_partition() {
        plans.transactions()
                .executeWithoutResult(s -> runs.enqueueAll(
                        List.of(
                                new ScheduledRuns.Firing(oneStep, workspace, "manual", "{\"n\":1}"),
                                new ScheduledRuns.Firing(oneStep, workspace, "manual", "{\"n\":2}"),
                                new ScheduledRuns.Firing(twoSteps, workspace, "manual", "{\"n\":3}"),
                                new ScheduledRuns.Firing(twoSteps, workspace, "manual", "{\"n\":4}")),
                        now));

        plans.clear();
        List<ClaimedJob> claimed = claims.claim(100, now, Duration.ofMinutes(1), "node-a");
        assertThat(claimed).hasSize(4);
        assertOnePartitionEach("claim");

        plans.clear();
        completions.completeAll(
                claimed.stream()
                        .map(j -> new Completions.Completion(j, ok(j, now), Next.SUCCEEDED, null))
                        .toList(),
                now.plusSeconds(1));
        assertOnePartitionEach("completions");

        plans.clear();
        List<ClaimedJob> second = claims.claim(100, now.plusSeconds(2), Duration.ofSeconds(5), "node-a");
        assertThat(second).as("the two runs' step b").hasSize(2);
        assertThat(leases.requeueExpired(now.plusSeconds(60), 500)).isEqualTo(2);
        assertOnePartitionEach("claim and lease sweep");

        plans.clear();
        List<ClaimedJob> third = claims.claim(100, now.plusSeconds(120), Duration.ofMinutes(1), "node-a");
        assertThat(third).hasSize(2);
        leases.release(third, now.plusSeconds(121));
        assertThat(plans.plain()
                        .sql("SELECT count(*) FROM jobs WHERE status = 'pending' AND lease_token IS NULL")
                        .query(Integer.class)
                        .single())
                .as("both handed back")
                .isEqualTo(2);
        assertOnePartitionEach("release");
    }

    @Test
    void a_statement_without_the_run_id_reads_every_partition_so_the_check_can_fail() {
        plans.clear();
        plans.jdbc()
                .sql("SELECT count(*) FROM workflow_runs WHERE created_at < :t")
                .param("t", Timestamp.from(Instant.now().plusSeconds(60)))
                .query(Long.class)
                .single();

        assertThat(Plans.partitionsRead(plans.plans().getFirst(), "workflow_runs"))
                .hasSizeGreaterThanOrEqualTo(3);
    }
}
