import { useCan, useWorkspace } from '../workspace';
import { useState } from 'react';
import { Stats, TriggerType, Workflow } from '../api';
import { useLive } from '../query';
import { Empty, ErrorNote, Loading, StatusBadge, when, whenIn } from '../ui';
import { queries } from '../queries';

/** Succeeded of finished runs in the last 24 hours, counted by the database; a dash without finished runs. */
export function successRate(w: Workflow, stats: Stats | undefined): string {
  const figures = stats?.workflows.find((s) => s.workflow_id === w.id);
  if (!figures || figures.success_rate === null) return '—';
  return `${Math.round(figures.success_rate * 1000) / 10}%`;
}

/** The workflow list: trigger, state, next run, last run and the success rate of the last 24 hours. */
export function WorkflowsPage() {
  const canEdit = useCan('editor');
  const [type, setType] = useState<TriggerType | ''>('');
  const ws = useWorkspace().current?.id;
  const list = useLive(queries.workflows(ws, type), 5000);
  const stats = useLive(queries.stats(ws), 10_000);
  const data = list.data && { workflows: list.data.items };
  const error = list.error;

  return (
    <section>
      <div className="title-row">
        <h1>Workflows</h1>
        {canEdit && <a className="button" href="#/workflows/new">New workflow</a>}
      </div>
      <label className="inline">
        Trigger{' '}
        <select value={type} onChange={(e) => setType(e.target.value as TriggerType | '')} aria-label="Filter by trigger">
          <option value="">all</option>
          <option value="webhook">webhook</option>
          <option value="manual">manual</option>
          <option value="interval">interval</option>
          <option value="cron">cron</option>
          <option value="run_failed">error workflow</option>
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
            <tr><th>Name</th><th>Trigger</th><th>State</th><th>Next run</th><th>Last run</th><th>Success (24 h)</th></tr>
          </thead>
          <tbody>
            {data.workflows.map((w) => (
              <tr key={w.id}>
                <td data-label="Name"><a href={`#/workflows/${w.id}`}>{w.name}</a></td>
                <td data-label="Trigger">{w.trigger_type}</td>
                <td data-label="State">{w.enabled ? 'active' : 'paused'}</td>
                <td data-label="Next run">{w.next_run_at ? whenIn(w.next_run_at, (w.trigger_config as Record<string, unknown>).timezone as string | undefined) : '—'}</td>
                <td data-label="Last run"><StatusBadge status={w.last_run_status} /> {w.last_run_at ? when(w.last_run_at) : ''}</td>
                <td data-label="Success">{successRate(w, stats.data)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
