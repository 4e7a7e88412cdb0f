package dev.kikonect.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.support.Plans;
import dev.kikonect.support.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * Stage 3's router check (issue 26, docs/scaling.md), the part that runs here: {@code workflow_runs} hash-partitioned
 * by {@code workspace_id} into four partitions, as Citus would distribute it, and the queue's hot statements run
 * against it through the real stores with the runs of four workspaces. A statement Citus could route to one node reads
 * one partition; the others read several. The figure is pinned so that a change to it is seen: today none of the
 * queue's statements that read runs (the claim, the completions, the lease sweep, the release) reads only one
 * workspace's partition, because each reaches runs by id from {@code jobs}, which carries no {@code workspace_id};
 * what would change is in docs/scaling.md.
 */
class RouterCheckTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static final int WORKSPACES = 4;

    private final Instant now = Instant.parse("2026-12-07T10:00:00Z");

    @Test
    void with_runs_distributed_by_workspace_no_hot_queue_statement_that_reads_runs_reads_one_workspace_today() {
        Plans plans = new Plans(db, "kikonect_router");
        JdbcClient plain = plans.plain();
        // Distributed by workspace: the key joins the primary key, and the foreign keys to runs go (Citus needs the
        // distribution column in both as well).
        plain.sql("""
            CREATE TABLE runs_shape (LIKE workflow_runs INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED
                                     INCLUDING IDENTITY)""").update();
        plain.sql("DROP TABLE workflow_runs CASCADE").update();
        plain.sql("""
            CREATE TABLE workflow_runs (LIKE runs_shape INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED
                                        INCLUDING IDENTITY) PARTITION BY HASH (workspace_id)""").update();
        plain.sql("DROP TABLE runs_shape").update();
        plain.sql("ALTER TABLE workflow_runs ADD PRIMARY KEY (workspace_id, id)")
                .update();
        plain.sql("CREATE INDEX ON workflow_runs (workflow_id, id DESC)").update();
        plain.sql("CREATE INDEX ON workflow_runs (id)").update();
        for (int r = 0; r < WORKSPACES; r++) {
            plain.sql(
                            "CREATE TABLE workflow_runs_p%d PARTITION OF workflow_runs FOR VALUES WITH (MODULUS %d, REMAINDER %d)"
                                    .formatted(r, WORKSPACES, r))
                    .update();
        }

        List<ScheduledRuns.Firing> firings = new ArrayList<>();
        for (int w = 0; w < WORKSPACES; w++) {
            long workspace = plain.sql("INSERT INTO workspaces (name, created_at) VALUES ('w', now()) RETURNING id")
                    .query(Long.class)
                    .single();
            long oneStep = TestDatabase.workflowIn(plain, workspace, "http://127.0.0.1:9/", "[]");
            long twoSteps = TestDatabase.workflowIn(plain, workspace, null, """
                [{"key": "a", "url": "http://127.0.0.1:9/a"}, {"key": "b", "url": "http://127.0.0.1:9/b", "needs": ["a"]}]""");
            firings.add(new ScheduledRuns.Firing(oneStep, workspace, "manual", "{}"));
            firings.add(new ScheduledRuns.Firing(twoSteps, workspace, "manual", "{}"));
        }
        assertThat(plain.sql("SELECT count(DISTINCT tableoid) FROM workflow_runs")
                        .query(Integer.class)
                        .single())
                .isZero();

        JdbcClient jdbc = plans.jdbc();
        Claims claims = new Claims(jdbc, 3);
        Completions completions = new Completions(jdbc);
        Leases leases = new Leases(jdbc, 3, new long[] {100, 200});
        plans.transactions().executeWithoutResult(s -> new ScheduledRuns(jdbc).enqueueAll(firings, now));
        assertThat(plain.sql("SELECT count(DISTINCT tableoid) FROM workflow_runs")
                        .query(Integer.class)
                        .single())
                .as("the runs of four workspaces spread over the partitions")
                .isGreaterThan(1);

        plans.clear();
        List<ClaimedJob> claimed = claims.claim(100, now, Duration.ofMinutes(1), "node-a");
        assertThat(claimed).hasSize(2 * WORKSPACES);
        completions.completeAll(
                claimed.stream()
                        .map(j -> new Completions.Completion(
                                j,
                                new Attempt(j.number(), now, 3, true, false, 200, "{}", "", null, null, null),
                                Next.SUCCEEDED,
                                null))
                        .toList(),
                now.plusSeconds(1));
        List<ClaimedJob> second = claims.claim(100, now.plusSeconds(2), Duration.ofSeconds(5), "node-a");
        assertThat(second).hasSize(WORKSPACES);
        assertThat(leases.requeueExpired(now.plusSeconds(60), 500)).isEqualTo(WORKSPACES);
        leases.release(claims.claim(100, now.plusSeconds(120), Duration.ofMinutes(1), "node-a"), now.plusSeconds(121));

        Map<String, Integer> read = new TreeMap<>();
        for (JsonNode plan : plans.plans()) {
            int partitions = Plans.partitionsRead(plan, "workflow_runs").size();
            if (partitions > 0) {
                String text = plan.path("Query Text").asString().strip().replaceAll("\\s+", " ");
                read.merge(text.substring(0, Math.min(50, text.length())), partitions, Math::max);
            }
        }
        long routable = read.values().stream().filter(n -> n == 1).count();
        System.out.printf(
                "Router check: %d of %d hot queue statements that read runs read one workspace's partition: %s%n",
                routable, read.size(), read);
        assertThat(read).as("statements that read runs").hasSizeGreaterThanOrEqualTo(4);
        assertThat(routable).as("single-workspace statements today: " + read).isZero();
    }
}
