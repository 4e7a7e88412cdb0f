import { useState } from 'react';
import { api, Run, Workflow } from '../api';
import { Empty, ErrorNote, Loading, StatusBadge, usePolling, when } from '../ui';

/** The workflow list: trigger, state, next run, last run and the success rate of recent runs. */
export function WorkflowsPage() {
  const [type, setType] = useState('');
  const { data, error } = usePolling(async () => {
    const page = await api.workflows({ trigger_type: type || undefined, limit: 100 });
    const recent = await api.runs({ limit: 200 });
    return { workflows: page.items, recent: recent.items };
  }, 5000, [type]);

  const rate = (w: Workflow, runs: Run[]) => {
    const finished = runs.filter((r) => r.workflow_id === w.id && (r.status === 'succeeded' || r.status === 'failed'));
    if (finished.length === 0) return '—';
    return `${Math.round((100 * finished.filter((r) => r.status === 'succeeded').length) / finished.length)}%`;
  };

  return (
    <section>
      <div className="title-row">
        <h1>Workflows</h1>
        <a className="button" href="#/workflows/new">New workflow</a>
      </div>
      <label className="inline">
        Trigger{' '}
        <select value={type} onChange={(e) => setType(e.target.value)} aria-label="Filter by trigger">
          <option value="">all</option>
          <option value="webhook">webhook</option>
          <option value="manual">manual</option>
          <option value="interval">interval</option>
          <option value="cron">cron</option>
        </select>
      </label>
      <ErrorNote error={error} />
      {!data && !error && <Loading />}
      {data && data.workflows.length === 0 && (
        <Empty>
          No workflows yet. <a href="#/workflows/new">Create the first one</a>: a webhook URL that forwards what it receives.
        </Empty>
      )}
      {data && data.workflows.length > 0 && (
        <table className="list">
          <thead>
            <tr><th>Name</th><th>Trigger</th><th>State</th><th>Next run</th><th>Last run</th><th>Success (recent)</th></tr>
          </thead>
          <tbody>
            {data.workflows.map((w) => (
              <tr key={w.id}>
                <td data-label="Name"><a href={`#/workflows/${w.id}`}>{w.name}</a></td>
                <td data-label="Trigger">{w.trigger_type}</td>
                <td data-label="State">{w.enabled ? 'active' : 'paused'}</td>
                <td data-label="Next run">{when(w.next_run_at)}</td>
                <td data-label="Last run"><StatusBadge status={w.last_run_status} /> {w.last_run_at ? when(w.last_run_at) : ''}</td>
                <td data-label="Success">{rate(w, data.recent)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
