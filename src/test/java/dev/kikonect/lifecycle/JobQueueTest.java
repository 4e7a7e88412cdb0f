package dev.kikonect.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The queue statements against the database, without HTTP in between. Jobs are enqueued 30 days ahead of the
 * shared clock, so the application's own executor (claiming at "now") never takes them from these tests. The
 * statements are not scoped to one workflow, so assertions look at this test's own jobs only: at "30 days ahead"
 * the executor's own in-flight leases have expired too.
 */
class JobQueueTest extends ApiTest {

  @Autowired JobQueue queue;
  @Autowired ScheduledRuns runs;
  @Autowired TransactionTemplate transactions;
  @Autowired JdbcClient jdbc;

  private Api.User user;
  private long workflow;
  private Instant later;

  @BeforeEach
  void workflow() {
    user = api.newUser();
    workflow = api.createWorkflow(user, "manual", "http://127.0.0.1:9/", Map.of()).path("id").asLong();
    later = clock.instant().plus(Duration.ofDays(30));
  }

  private void enqueue(int n, Instant at) {
    List<ScheduledRuns.Firing> firings = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      firings.add(new ScheduledRuns.Firing(workflow, api.personalWorkspace(user), "manual", "{\"n\":" + i + "}"));
    }
    transactions.executeWithoutResult(s -> runs.enqueueAll(firings, at));
  }

  /** Claims this test's jobs only (another test's far-future jobs may be due at the same instant). */
  private List<ClaimedJob> claim(Instant now, Duration lease) {
    return ours(queue.claim(1_000, now, lease, "test-node"));
  }

  private String runStatus(long runId) {
    return jdbc.sql("SELECT status FROM workflow_runs WHERE id = :id").param("id", runId).query(String.class).single();
  }

  private int jobs(long runId) {
    return jdbc.sql("SELECT count(*) FROM jobs WHERE run_id = :id").param("id", runId).query(Integer.class).single();
  }

  private static Attempt attempt(int number, Instant at, boolean ok) {
    return new Attempt(number, at, 3, ok, !ok, ok ? 200 : 503, "{}", "", ok ? null : "HTTP 503", null, null);
  }

  @Test
  void a_claim_takes_due_jobs_oldest_first_and_marks_their_runs_running_with_a_fresh_lease() {
    enqueue(3, later);

    List<ClaimedJob> claimed = claim(later, Duration.ofMinutes(1));

    assertThat(claimed).hasSize(3);
    assertThat(claimed).extracting(ClaimedJob::payload).containsExactly("{\"n\":0}", "{\"n\":1}", "{\"n\":2}");
    assertThat(claimed).extracting(ClaimedJob::attempt).containsOnly(1);
    assertThat(claimed).extracting(ClaimedJob::leaseToken).doesNotContainNull().doesNotHaveDuplicates();
    assertThat(claimed).allSatisfy(j -> assertThat(runStatus(j.runId())).isEqualTo("running"));
    assertThat(claim(later, Duration.ofMinutes(1))).as("a claimed job is not claimed again").isEmpty();
  }

  @Test
  void jobs_that_are_not_due_yet_are_not_claimed() {
    enqueue(1, later.plusSeconds(60));

    assertThat(claim(later, Duration.ofMinutes(1))).isEmpty();
    assertThat(claim(later.plusSeconds(60), Duration.ofMinutes(1))).hasSize(1);
  }

  @Test
  void a_success_ends_the_run_records_the_attempt_and_takes_the_job_out_of_the_queue() {
    enqueue(1, later);
    ClaimedJob job = claim(later, Duration.ofMinutes(1)).get(0);

    boolean done = queue.complete(job, attempt(1, later, true), JobQueue.Next.SUCCEEDED, null, later.plusSeconds(1));

    assertThat(done).isTrue();
    assertThat(runStatus(job.runId())).isEqualTo("succeeded");
    assertThat(jobs(job.runId())).isZero();
    assertThat(jdbc.sql("SELECT count(*) FROM attempts WHERE run_id = :id").param("id", job.runId()).query(Integer.class).single()).isEqualTo(1);
  }

  @Test
  void a_retry_puts_the_job_back_for_its_next_attempt_time_and_the_next_claim_is_attempt_two() {
    enqueue(1, later);
    ClaimedJob job = claim(later, Duration.ofMinutes(1)).get(0);

    queue.complete(job, attempt(1, later, false), JobQueue.Next.RETRY, later.plusSeconds(3600), later.plusSeconds(1));

    assertThat(runStatus(job.runId())).isEqualTo("retrying");
    assertThat(claim(later.plusSeconds(10), Duration.ofMinutes(1))).isEmpty();
    List<ClaimedJob> again = claim(later.plusSeconds(3600), Duration.ofMinutes(1));
    assertThat(again).extracting(ClaimedJob::attempt).containsExactly(2);
    assertThat(again.get(0).leaseToken()).isNotEqualTo(job.leaseToken());
  }

  @Test
  void a_claim_stops_where_the_payloads_would_pass_the_memory_budget_but_always_takes_one_job() {
    String blob = "{\"blob\":\"" + "x".repeat(100_000) + "\"}";
    List<ScheduledRuns.Firing> firings = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      firings.add(new ScheduledRuns.Firing(workflow, api.personalWorkspace(user), "manual", blob));
    }
    transactions.executeWithoutResult(s -> runs.enqueueAll(firings, later));

    // Other tests' jobs due by then come first in the claim: the budget leaves room for them.
    long others = jdbc.sql(
            """
            SELECT coalesce(sum(octet_length(r.payload::text)), 0) FROM jobs j JOIN workflow_runs r ON r.id = j.run_id
             WHERE j.status = 'pending' AND j.run_at <= :at AND j.workflow_id <> :wf
            """)
        .param("at", java.sql.Timestamp.from(later)).param("wf", workflow).query(Long.class).single();
    List<ClaimedJob> first = ours(queue.claim(1_000, others + 250_000, new long[0], later, Duration.ofMinutes(1), "test-node"));
    assertThat(first).as("two payloads of 100 kB fit in 250 kB, three do not").hasSize(2);

    List<ClaimedJob> single = queue.claim(1_000, 1, new long[0], later, Duration.ofMinutes(1), "test-node");
    assertThat(single).as("a job bigger than the budget is still claimed when it comes first, alone").hasSize(1);
    ours(single);
  }

  /** This test's jobs among {@code claimed}; the others go straight back. */
  private List<ClaimedJob> ours(List<ClaimedJob> claimed) {
    return claimed.stream()
        .filter(j -> {
          if (j.workflowId() == workflow) {
            return true;
          }
          queue.release(List.of(j), clock.instant());
          return false;
        })
        .toList();
  }

  @Test
  void an_expired_lease_returns_the_job_to_the_queue_and_logs_the_lost_attempt() {
    enqueue(1, later);
    ClaimedJob job = claim(later, Duration.ofSeconds(1)).get(0);

    int requeued = queue.requeueExpired(later.plusSeconds(2), 10_000);

    assertThat(requeued).isPositive();
    assertThat(runStatus(job.runId())).isEqualTo("retrying");
    assertThat(jdbc.sql("SELECT error FROM attempts WHERE run_id = :id").param("id", job.runId()).query(String.class).single())
        .startsWith("lease expired");
    assertThat(queue.complete(job, attempt(1, later, true), JobQueue.Next.SUCCEEDED, null, later.plusSeconds(3)))
        .as("the node that lost the lease cannot complete it any more")
        .isFalse();
  }

  @Test
  void renewing_extends_only_leases_still_held_with_the_same_token() {
    enqueue(1, later);
    ClaimedJob job = claim(later, Duration.ofSeconds(1)).get(0);

    assertThat(queue.renew(List.of(job), later.plusSeconds(60))).isEqualTo(1);
    queue.requeueExpired(later.plusSeconds(2), 10_000); // (other tests' in-flight jobs may expire at that instant)
    assertThat(runStatus(job.runId())).as("a renewed lease is not taken").isEqualTo("running");
    assertThat(queue.complete(job, attempt(1, later, true), JobQueue.Next.SUCCEEDED, null, later.plusSeconds(3))).isTrue();
    ClaimedJob impostor =
        new ClaimedJob(
            job.jobId(), job.runId(), job.workflowId(), 1, 0, 8, java.util.UUID.randomUUID(), null, "", null, "{}", "", null, null, "manual",
            later, null, null, "w", api.personalWorkspace(user), false);
    assertThat(queue.renew(List.of(impostor), later.plusSeconds(600))).isZero();
  }

  @Test
  void a_released_job_is_pending_again_as_if_it_had_never_been_claimed() {
    enqueue(1, later);
    ClaimedJob job = claim(later, Duration.ofMinutes(1)).get(0);

    assertThat(queue.release(List.of(job), later)).isEqualTo(1);

    assertThat(runStatus(job.runId())).isEqualTo("pending");
    assertThat(claim(later, Duration.ofMinutes(1))).extracting(ClaimedJob::attempt).containsExactly(1);
  }

  @Test
  void only_the_owner_cancels_and_only_a_run_that_is_not_being_delivered() {
    enqueue(2, later);
    long waiting = jdbc.sql("SELECT min(id) FROM workflow_runs WHERE workflow_id = :wf").param("wf", workflow).query(Long.class).single();
    Api.User stranger = api.newUser();

    assertThat(queue.cancel(api.personalWorkspace(stranger), waiting, later)).isFalse();
    assertThat(queue.cancel(api.personalWorkspace(user), waiting, later)).isTrue();
    assertThat(runStatus(waiting)).isEqualTo("cancelled");
    assertThat(jobs(waiting)).isZero();

    ClaimedJob running = claim(later, Duration.ofMinutes(1)).get(0);
    assertThat(queue.cancel(api.personalWorkspace(user), running.runId(), later)).isFalse();
    assertThat(runStatus(running.runId())).isEqualTo("running");
  }
}
