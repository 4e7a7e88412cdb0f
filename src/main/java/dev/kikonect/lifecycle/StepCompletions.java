package dev.kikonect.lifecycle;

import dev.kikonect.lifecycle.Completions.Completion;
import dev.kikonect.lifecycle.Completions.Done;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Completes steps of tracked runs with ONE statement. Per completion: the attempt row (if one was made), the job
 * (deleted, or back to pending for a retry) and the step's new state. A step that succeeded starts each step that
 * needs it once all its needs have succeeded: the decrement of the child's {@code waiting_for} is a row update, so
 * of two parents finishing at the same instant (on two nodes) exactly one sees it reach 0 and inserts the child's
 * job. A step that failed for good (or was skipped) marks every step that needs it, directly or indirectly,
 * skipped ("needs ticket, which failed"). The run counts its open steps down; the completion that takes them to 0
 * ends it: failed when any step failed, succeeded otherwise. The run's row is locked first, so a cancel or a retry
 * of the run never interleaves with a completion (a completion for a cancelled run records its attempt and starts
 * nothing).
 */
final class StepCompletions {

    private final JdbcClient jdbc;

    StepCompletions(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    Map<Long, Done> complete(List<Completion> batch, Instant now) {
        Columns<Completion> columns = Completions.columns(batch)
                .bigints("runs", c -> c.job().runId())
                .texts("steps", c -> c.job().step())
                .texts("outcomes", c -> switch (c.next()) {
                    case SUCCEEDED -> "succeeded";
                    case RETRY -> "retrying";
                    case FAILED -> "failed";
                    case SKIPPED -> "skipped";
                    case CANCELLED -> "cancelled";
                })
                .integers("kept_status", c -> c.kept() == null ? null : c.kept().status())
                .texts("kept_headers", c -> c.kept() == null ? null : c.kept().headers())
                .texts("kept_bodies", c -> c.kept() == null ? null : c.kept().body());
        Map<Long, Done> result = new HashMap<>();
        jdbc.sql("""
            WITH RECURSIVE input AS (
              SELECT * FROM unnest(:ids::bigint[], :tokens::uuid[], :runs::bigint[], :steps::text[], :outcomes::text[],
                                   :next_at::timestamptz[], :errors::text[], :numbers::int[], :started_at::timestamptz[],
                                   :durations::bigint[], :response_status::int[], :response_headers::jsonb[],
                                   :response_bodies::text[], :kept_status::int[], :kept_headers::jsonb[], :kept_bodies::text[],
                                   :workflows::bigint[], :requests::jsonb[])
                AS t(job_id, token, run_id, step, outcome, next_at, error, number, started_at, duration_ms, response_status,
                     response_headers, response_body, kept_status, kept_headers, kept_body, workflow_id, request)
            ), locked AS (
              SELECT r.id, r.status FROM workflow_runs r WHERE r.id IN (SELECT run_id FROM input) ORDER BY r.id FOR UPDATE
            ), finished AS (
              DELETE FROM jobs j USING input i, locked l
               WHERE j.id = i.job_id AND j.status = 'processing' AND j.lease_token = i.token AND l.id = i.run_id
                 AND (i.outcome <> 'retrying' OR l.status = 'cancelled')
              RETURNING j.id
            ), retried AS (
              UPDATE jobs j
                 SET status = 'pending', run_at = i.next_at, error = i.error, lease_token = NULL, lease_expires_at = NULL
                FROM input i, locked l
               WHERE j.id = i.job_id AND j.status = 'processing' AND j.lease_token = i.token AND l.id = i.run_id
                 AND i.outcome = 'retrying' AND l.status <> 'cancelled'
              RETURNING j.id
            ), done AS (
              SELECT i.*, l.status = 'cancelled' AS run_cancelled,
                     CASE WHEN l.status = 'cancelled' AND i.outcome = 'retrying' THEN 'cancelled' ELSE i.outcome END AS result
                FROM input i JOIN locked l ON l.id = i.run_id
               WHERE i.job_id IN (SELECT id FROM finished UNION ALL SELECT id FROM retried)
            ), attempt AS (
              INSERT INTO attempts (run_id, step, number, started_at, duration_ms, response_status, response_headers,
                                    response_body, error, request)
              SELECT run_id, step, number, started_at, duration_ms, response_status, response_headers, response_body, error,
                     request
                FROM done WHERE number IS NOT NULL
              ON CONFLICT (run_id, step, number) DO NOTHING
              RETURNING run_id
            ), step_row AS (
              UPDATE run_steps s
                 SET status = d.result, attempts = coalesce(d.number, s.attempts),
                     -- a run_if step skipped at its claim says why (a skip by its own when leaves no reason)
                     error = coalesce(d.error, CASE
                       WHEN d.result = 'skipped' AND s.run_if = 'any_succeeded' AND NOT EXISTS (
                         SELECT 1 FROM run_steps n WHERE n.run_id = s.run_id AND n.key = ANY(s.needs) AND n.status = 'succeeded')
                       THEN 'no step it needs succeeded'
                       WHEN d.result = 'skipped' AND s.run_if = 'any_failed' AND NOT EXISTS (
                         SELECT 1 FROM run_steps n WHERE n.run_id = s.run_id AND n.key = ANY(s.needs) AND n.status = 'failed')
                       THEN 'no step it needs failed' END),
                     ended_at = CASE WHEN d.result = 'retrying' THEN NULL ELSE CAST(:now AS timestamptz) END,
                     next_attempt_at = CASE WHEN d.result = 'retrying' THEN d.next_at END,
                     response_status = d.kept_status, response_headers = d.kept_headers, response_body = d.kept_body
                FROM done d
               WHERE s.run_id = d.run_id AND s.key = d.step AND s.status IN ('running', 'pending', 'retrying')
              RETURNING s.run_id, s.key, s.status, s.run_if, s.needs
            ), doomed(run_id, key, reason, after_failure) AS (
              -- Every step that needs a failed (or skipped) step, directly or through others, and starts only when all
              -- its needs succeeded (no run_if): skipped. A run_if step counts the finish instead (ready).
              SELECT c.run_id, c.key,
                     'needs ' || d.step || CASE WHEN d.result = 'failed' THEN ', which failed' ELSE ', which was skipped' END,
                     d.result = 'failed'
                FROM done d JOIN run_steps c ON c.run_id = d.run_id AND d.step = ANY(c.needs)
               WHERE d.result IN ('failed', 'skipped') AND NOT d.run_cancelled AND c.run_if IS NULL
              UNION
              SELECT c.run_id, c.key, 'needs ' || dm.key || ', which was skipped', dm.after_failure
                FROM doomed dm JOIN run_steps c ON c.run_id = dm.run_id AND dm.key = ANY(c.needs)
               WHERE c.run_if IS NULL
            ), ended_steps AS (
              -- The steps this statement ends (succeeded, failed or skipped), as the steps that need them see them.
              SELECT run_id, step AS key, result = 'succeeded' AS succeeded FROM done
               WHERE result IN ('succeeded', 'failed', 'skipped') AND NOT run_cancelled
              UNION ALL
              SELECT DISTINCT run_id, key, false FROM doomed
            ), ready AS (
              -- One fewer need to wait for; at 0 the step starts. A step without run_if waits for its needs to succeed (a
              -- failed or skipped need skips it: doomed); a run_if step waits for them to finish, and its job decides at
              -- the claim whether its condition holds. The decrement reads the row's newest version (a concurrent
              -- completion's decrement counts), so exactly one completion starts it.
              UPDATE run_steps c
                 SET waiting_for = c.waiting_for - p.parents,
                     status = CASE WHEN c.waiting_for - p.parents = 0 THEN 'pending' ELSE c.status END
                FROM (SELECT c2.run_id, c2.key, count(*) AS parents
                        FROM ended_steps f JOIN run_steps c2 ON c2.run_id = f.run_id AND f.key = ANY(c2.needs)
                       WHERE f.succeeded OR c2.run_if IS NOT NULL
                       GROUP BY c2.run_id, c2.key) p
               WHERE c.run_id = p.run_id AND c.key = p.key AND c.status = 'waiting'
                 AND NOT EXISTS (SELECT 1 FROM doomed dm WHERE dm.run_id = c.run_id AND dm.key = c.key)
              RETURNING c.run_id, c.key, c.status
            ), child_job AS (
              INSERT INTO jobs (run_id, workflow_id, step, run_at, created_at)
              SELECT ready.run_id, w.workflow_id, ready.key, :now, :now
                FROM ready JOIN (SELECT DISTINCT run_id, workflow_id FROM done) w ON w.run_id = ready.run_id
               WHERE ready.status = 'pending'
            ), handled AS (
              -- An any_failed step that succeeded handled the failures of the steps it needs: they fail the run no more.
              UPDATE run_steps p SET handled = true
                FROM step_row h
               WHERE h.status = 'succeeded' AND h.run_if = 'any_failed'
                 AND p.run_id = h.run_id AND (p.key = ANY(h.needs) OR p.item_of = ANY(h.needs))
                 AND p.status = 'failed' AND NOT p.handled
              RETURNING p.run_id
            ), skipped AS (
              UPDATE run_steps c
                 SET status = 'skipped', after_failure = x.after_failure, error = x.reason, ended_at = :now
                FROM (SELECT DISTINCT ON (run_id, key) * FROM doomed ORDER BY run_id, key, after_failure DESC) x
               WHERE c.run_id = x.run_id AND c.key = x.key AND c.status = 'waiting'
              RETURNING c.run_id
            ), tally AS (
              SELECT run_id, sum(ended) AS ended, sum(failed) AS failed, sum(attempts) AS attempts,
                     min(error) FILTER (WHERE failed = 1) AS error
                FROM (SELECT run_id, (result <> 'retrying')::int AS ended, (result = 'failed')::int AS failed,
                             (number IS NOT NULL)::int AS attempts, step || ': ' || coalesce(error, 'failed') AS error
                        FROM done
                      UNION ALL
                      SELECT run_id, 1, 0, 0, NULL FROM skipped
                      UNION ALL
                      SELECT run_id, 0, -1, 0, NULL FROM handled) x
               GROUP BY run_id
            ), logged AS (
              -- the attempt rows this statement wrote, per run (a lost last attempt's verdict writes none: the sweeper
              -- logged and counted it)
              SELECT run_id, count(*) AS n FROM attempt GROUP BY run_id
            ), run AS (
              UPDATE workflow_runs r
                 SET open_steps = r.open_steps - t.ended, failed_steps = r.failed_steps + t.failed,
                     attempts = r.attempts + coalesce(l.n, 0),
                     status = CASE WHEN r.status = 'cancelled' THEN r.status
                                   WHEN r.open_steps - t.ended > 0 THEN 'running'
                                   WHEN r.failed_steps + t.failed > 0 THEN 'failed'
                                   ELSE 'succeeded' END,
                     ended_at = CASE WHEN r.status <> 'cancelled' AND r.open_steps - t.ended <= 0 THEN CAST(:now AS timestamptz)
                                     ELSE r.ended_at END,
                     error = CASE WHEN r.failed_steps + t.failed > 0 THEN coalesce(r.error, t.error) END
                FROM tally t LEFT JOIN logged l ON l.run_id = t.run_id
               WHERE r.id = t.run_id
              RETURNING r.id, r.status, r.workflow_id, r.open_steps, (SELECT l.status FROM locked l WHERE l.id = r.id) AS was
            ), alert AS (
              INSERT INTO failure_alerts (run_id, next_at, created_at)
              SELECT run.id, :now, :now FROM run JOIN workflows w ON w.id = run.workflow_id
               WHERE run.status = 'failed' AND run.was <> 'failed'
                 AND (w.on_failure_url IS NOT NULL
                      OR EXISTS (SELECT 1 FROM push_subscriptions p WHERE p.workflow_ids @> ARRAY[w.id])
                      OR """ + RunFailures.WATCHED + """
                 )
              ON CONFLICT (run_id) DO NOTHING
            )
            SELECT d.job_id, CASE WHEN run.was NOT IN ('succeeded', 'failed', 'cancelled')
                                   AND run.status IN ('succeeded', 'failed') THEN run.status END AS ended
              FROM done d LEFT JOIN run ON run.id = d.run_id
            """)
                .params(columns.params())
                .param("now", Timestamp.from(now))
                .query((rs, i) -> {
                    String ended = rs.getString("ended");
                    result.put(rs.getLong("job_id"), new Done(true, ended == null ? null : RunStatus.of(ended)));
                    return null;
                })
                .list();
        // A run that ended is reported once, with the first of its completions in the batch.
        Set<Long> reported = new HashSet<>();
        for (Completion c : batch) {
            Done d = result.get(c.job().jobId());
            if (d != null && d.runEnded() != null && !reported.add(c.job().runId())) {
                result.put(c.job().jobId(), new Done(true, null));
            }
        }
        return result;
    }
}
