package dev.kikonect.lifecycle;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionTemplate;

/** What a user does to a run's jobs: cancel it, retry it from its failure. */
@Repository
public class RunControl {

    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;

    public RunControl(JdbcClient jdbc, TransactionTemplate transactions) {
        this.jdbc = jdbc;
        this.transactions = transactions;
    }

    /**
     * Cancels a run of this user; true if it was cancelled. An untracked run can be cancelled while pending or
     * retrying: its job leaves the queue (deleted, which locks the row first), so a concurrent claim either took the job
     * (then this changes nothing) or never will. A tracked run can be cancelled until it ends: every step not yet sent
     * is cancelled; a step being sent right now finishes and records its attempt, and starts nothing after it. A job a
     * claim is taking at this very moment is skipped here and recognised by the claim (its run is cancelled), so it is
     * never sent either.
     */
    public boolean cancel(long workspaceId, long runId, Instant now) {
        Boolean tracked = jdbc.sql(
                        "SELECT open_steps IS NOT NULL FROM workflow_runs WHERE id = :run AND workspace_id = :workspace")
                .param("run", runId)
                .param("workspace", workspaceId)
                .query(Boolean.class)
                .optional()
                .orElse(null);
        if (tracked == null) {
            return false;
        }
        if (!tracked) {
            return jdbc.sql("""
                  WITH job AS (
                    DELETE FROM jobs
                     WHERE run_id = :run AND status = 'pending'
                       AND EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = :run AND r.workspace_id = :workspace)
                    RETURNING run_id
                  )
                  UPDATE workflow_runs r SET status = 'cancelled', ended_at = :now, next_attempt_at = NULL
                    FROM job WHERE r.id = job.run_id
                  """)
                            .param("now", Timestamp.from(now))
                            .param("run", runId)
                            .param("workspace", workspaceId)
                            .update()
                    == 1;
        }
        Boolean cancelled = transactions.execute(status -> {
            // The run's row first, as a completion takes it: the statement below then sees every step and job
            // that completions before it started.
            boolean open = lockRun(workspaceId, runId, new String[] {"pending", "running", "retrying"});
            if (!open) {
                return false;
            }
            jdbc.sql("""
                      WITH job AS (
                        DELETE FROM jobs
                         WHERE id IN (SELECT id FROM jobs WHERE run_id = :run AND status = 'pending' FOR UPDATE SKIP LOCKED)
                      ), step AS (
                        UPDATE run_steps SET status = 'cancelled', ended_at = :now, next_attempt_at = NULL
                         WHERE (run_id, key) IN (SELECT run_id, key FROM run_steps
                                                  WHERE run_id = :run AND status IN ('waiting', 'pending', 'retrying')
                                                    FOR UPDATE SKIP LOCKED)
                      )
                      UPDATE workflow_runs SET status = 'cancelled', ended_at = :now, next_attempt_at = NULL WHERE id = :run
                      """).param("now", Timestamp.from(now)).param("run", runId).update();
            return true;
        });
        if (Boolean.TRUE.equals(cancelled)) {
            // The runs its steps started (sub-workflows) are cancelled with it, and theirs with them.
            jdbc.sql("""
                  SELECT sr.child_run_id FROM sub_runs sr JOIN workflow_runs c ON c.id = sr.child_run_id
                   WHERE sr.parent_run_id = :run AND c.status IN ('pending', 'running', 'retrying')
                  """)
                    .param("run", runId)
                    .query(Long.class)
                    .list()
                    .forEach(child -> cancel(workspaceId, child, now));
        }
        return Boolean.TRUE.equals(cancelled);
    }

    /**
     * Locks the run's row (inside the caller's transaction) if it is this user's and in one of {@code statuses}: the
     * row a completion of its steps locks first, so that what follows never interleaves with one.
     */
    private boolean lockRun(long workspaceId, long runId, String[] statuses) {
        return jdbc.sql(
                        "SELECT 1 FROM workflow_runs WHERE id = :run AND workspace_id = :workspace AND status = ANY(:statuses::text[]) FOR UPDATE")
                .param("run", runId)
                .param("workspace", workspaceId)
                .param("statuses", statuses)
                .query(Integer.class)
                .optional()
                .isPresent();
    }

    /** Why a run cannot be retried from its failure, or empty when the retry was enqueued. */
    public enum RetryRefusal {
        NOT_FOUND,
        NOT_FAILED,
        FILTER_FAILED
    }

    /**
     * Retries a failed run from its failure: an untracked run's step gets a new job (its attempt numbers going on);
     * a tracked run re-runs only its failed steps and those skipped because of a failure, each starting once the steps
     * it needs have succeeded, reusing the responses of the steps that succeeded (they are not sent again). Every
     * retried step gets a fresh attempt budget and keeps its webhook-id. Empty when it was enqueued.
     */
    public Optional<RetryRefusal> retry(long workspaceId, long runId, Instant now) {
        record Current(String status, boolean tracked, boolean filterFailed) {}
        Current current = jdbc.sql(
                        "SELECT status, open_steps IS NOT NULL AS tracked, filter_failed FROM workflow_runs WHERE id = :run AND workspace_id = :workspace")
                .param("run", runId)
                .param("workspace", workspaceId)
                .query((rs, n) ->
                        new Current(rs.getString("status"), rs.getBoolean("tracked"), rs.getBoolean("filter_failed")))
                .optional()
                .orElse(null);
        if (current == null) {
            return Optional.of(RetryRefusal.NOT_FOUND);
        }
        if (!"failed".equals(current.status())) {
            return Optional.of(RetryRefusal.NOT_FAILED);
        }
        if (current.filterFailed()) {
            return Optional.of(RetryRefusal.FILTER_FAILED);
        }
        if (!current.tracked()) {
            int updated = jdbc.sql("""
                  WITH run AS (
                    UPDATE workflow_runs SET status = 'pending', error = NULL, ended_at = NULL, next_attempt_at = NULL
                     WHERE id = :run AND workspace_id = :workspace AND status = 'failed' AND open_steps IS NULL
                    RETURNING id, workflow_id, attempts
                  )
                  INSERT INTO jobs (run_id, workflow_id, attempt_offset, run_at, created_at)
                  SELECT id, workflow_id, attempts, :now, :now FROM run
                  """)
                    .param("run", runId)
                    .param("workspace", workspaceId)
                    .param("now", Timestamp.from(now))
                    .update();
            return updated == 1 ? Optional.empty() : Optional.of(RetryRefusal.NOT_FAILED);
        }
        Boolean retried = transactions.execute(status -> {
            boolean failed = lockRun(workspaceId, runId, new String[] {"failed"});
            if (!failed) {
                return false;
            }
            jdbc.sql("""
                      WITH RECURSIVE again(run_id, key) AS (
                        -- The failed steps, those skipped because of a failure, and every step after them that ran
                        -- because of how they ended (a run_if step, such as an error path, and what follows it).
                        SELECT s.run_id, s.key FROM run_steps s
                         WHERE s.run_id = :run AND (s.status = 'failed' OR (s.status = 'skipped' AND s.after_failure))
                        UNION
                        SELECT c.run_id, c.key FROM again a JOIN run_steps c ON c.run_id = a.run_id AND a.key = ANY(c.needs)
                         WHERE c.item_of IS NULL -- an item runs again only when it failed itself, not after another
                      ), target AS (
                        -- What each waits for: its needs run again, and (without run_if) its needs not succeeded.
                        SELECT s.run_id, s.key,
                               (SELECT count(*) FROM unnest(s.needs) AS need(key)
                                  JOIN run_steps p ON p.run_id = s.run_id AND p.key = need.key
                                 WHERE p.key IN (SELECT key FROM again)
                                    OR (s.run_if IS NULL AND p.status <> 'succeeded')) AS waiting
                          FROM run_steps s JOIN again a ON a.run_id = s.run_id AND a.key = s.key
                      ), reset AS (
                        UPDATE run_steps s
                           SET status = CASE WHEN t.waiting = 0 THEN 'pending' ELSE 'waiting' END, waiting_for = t.waiting,
                               after_failure = false, handled = false, error = NULL, ended_at = NULL, next_attempt_at = NULL,
                               response_status = NULL, response_headers = NULL, response_body = NULL,
                               -- a failed wait waits anew: its callback URL takes one callback again, an approval
                               -- is asked again
                               resumed_at = NULL, approval_roles = NULL, approval_message = NULL, timed_out = false
                          FROM target t
                         WHERE s.run_id = t.run_id AND s.key = t.key
                        RETURNING s.run_id, s.key, s.status, s.attempts
                      ), job AS (
                        INSERT INTO jobs (run_id, workflow_id, step, attempt_offset, run_at, created_at)
                        SELECT reset.run_id, r.workflow_id, reset.key, reset.attempts, :now, :now
                          FROM reset JOIN workflow_runs r ON r.id = reset.run_id
                         WHERE reset.status = 'pending'
                      ), new_children AS (
                        -- a step that runs a workflow runs a new child when it runs again
                        DELETE FROM sub_runs sr USING reset
                         WHERE sr.parent_run_id = reset.run_id AND sr.parent_step = reset.key
                      )
                      UPDATE workflow_runs
                         SET status = 'pending', open_steps = (SELECT count(*) FROM reset), failed_steps = 0, error = NULL,
                             ended_at = NULL, next_attempt_at = NULL
                       WHERE id = :run
                      """).param("run", runId).param("now", Timestamp.from(now)).update();
            return true;
        });
        return Boolean.TRUE.equals(retried) ? Optional.empty() : Optional.of(RetryRefusal.NOT_FAILED);
    }
}
