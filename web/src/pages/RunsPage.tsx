import { useState } from 'react';
import { api, RUN_STATUSES, TRIGGER_TYPES } from '../api';
import { useLive } from '../query';
import { Empty, ErrorNote, Loading, StatusBadge, when } from '../ui';

/** Runs, newest first, refreshed every 2 seconds: new runs and status changes appear without a reload. */
export function RunsTable({ workflowId }: { workflowId?: number }) {
  const [status, setStatus] = useState('');
  const [trigger, setTrigger] = useState('');
  const { data, error } = useLive(['runs', { workflowId, status, trigger }], () => api.runs({ workflow_id: workflowId, status: status || undefined, trigger: trigger || undefined, limit: 50 }), 2000);
  return (
    <div>
      <div className="filters">
        <label className="inline">Status{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value)} aria-label="Filter by status">
            <option value="">all</option>
            {RUN_STATUSES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </label>
        <label className="inline">Trigger{' '}
          <select value={trigger} onChange={(e) => setTrigger(e.target.value)} aria-label="Filter by trigger">
            <option value="">all</option>
            {TRIGGER_TYPES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </label>
      </div>
      <ErrorNote error={error} />
      {!data && !error && <Loading />}
      {data && data.items.length === 0 && <Empty>No runs yet.</Empty>}
      {data && data.items.length > 0 && (
        <table className="list" data-testid="runs">
          <thead><tr><th>Run</th><th>Status</th><th>Trigger</th><th>Created</th><th>Attempts</th><th>Error</th></tr></thead>
          <tbody>
            {data.items.map((r) => (
              <tr key={r.id} data-run={r.id}>
                <td data-label="Run"><a href={`#/runs/${r.id}`}>#{r.id}</a>{r.replay_of ? <span className="muted"> (replay of #{r.replay_of})</span> : null}</td>
                <td data-label="Status"><StatusBadge status={r.status} /></td>
                <td data-label="Trigger">{r.trigger}</td>
                <td data-label="Created">{when(r.created_at)}</td>
                <td data-label="Attempts">{r.attempt_count}</td>
                <td data-label="Error" className="error-cell">{r.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function RunsPage() {
  return (
    <section>
      <h1>Runs</h1>
      <RunsTable />
    </section>
  );
}
