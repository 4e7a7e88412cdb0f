import { useMemo, useState } from 'react';
import { useInfiniteQuery } from '@tanstack/react-query';
import { api, ApiError, ReplayFilter, RUN_STATUSES, RunSummary, TRIGGER_TYPES } from '../api';
import { go } from '../nav';
import { useLive } from '../query';
import { confirmed, Empty, ErrorNote, Loading, StatusBadge, useBusy, when } from '../ui';
import { useCan, useWorkspace } from '../workspace';
import { keys, queries } from '../queries';

/** Runs, newest first, refreshed every 2 seconds: new runs and status changes appear without a reload. */
export function RunsTable({ workflowId }: { workflowId?: number }) {
  const [status, setStatus] = useState('');
  const [trigger, setTrigger] = useState('');
  const ws = useWorkspace().current?.id;
  const { data, error } = useLive(queries.runs(ws, { workflow_id: workflowId, status: status || undefined, trigger: trigger || undefined, limit: 50 }), 2000);
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
      {data && data.items.length > 0 && <RunRows runs={data.items} />}
    </div>
  );
}

function RunRows({ runs, names, selected, toggle }: { runs: RunSummary[]; names?: Map<number, string>; selected?: Set<number>; toggle?: (id: number) => void }) {
  return (
    <table className="list" data-testid="runs">
      <thead>
        <tr>
          {toggle && <th><span className="visually-hidden">Select</span></th>}
          <th>Run</th>{names && <th>Workflow</th>}<th>Status</th><th>Trigger</th><th>Created</th><th>Attempts</th><th>Error</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id} data-run={r.id}>
            {toggle && (
              <td>
                <input type="checkbox" aria-label={`Select run ${r.id}`} checked={selected?.has(r.id) ?? false} onChange={() => toggle(r.id)} />
              </td>
            )}
            <td data-label="Run"><a href={`#/runs/${r.id}`}>#{r.id}</a>{r.replay_of ? <span className="muted"> (replay of #{r.replay_of})</span> : null}</td>
            {names && <td data-label="Workflow"><a href={`#/workflows/${r.workflow_id}`}>{names.get(r.workflow_id) ?? `#${r.workflow_id}`}</a></td>}
            <td data-label="Status"><StatusBadge status={r.status} /></td>
            <td data-label="Trigger">{r.trigger}</td>
            <td data-label="Created">{when(r.created_at)}</td>
            <td data-label="Attempts">{r.attempt_count}</td>
            <td data-label="Error" className="error-cell">{r.error ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const RANGES: Record<string, { label: string; ms?: number }> = {
  all: { label: 'any time' },
  '1h': { label: 'last hour', ms: 3_600_000 },
  '24h': { label: 'last 24 hours', ms: 86_400_000 },
  '7d': { label: 'last 7 days', ms: 7 * 86_400_000 },
  '30d': { label: 'last 30 days', ms: 30 * 86_400_000 },
  custom: { label: 'custom' },
};

/** The runs explorer's filters, all in the URL (#/runs?workflow=3&status=failed&range=24h): Back, reload and a shared link keep them. */
export function runFilters(query: URLSearchParams, now: number) {
  const range = RANGES[query.get('range') ?? ''] ? (query.get('range') as string) : 'all';
  const ms = RANGES[range].ms;
  const local = (v: string | null) => (v ? new Date(v).toISOString() : undefined);
  return {
    range,
    params: {
      workflow_id: Number(query.get('workflow')) || undefined,
      status: query.get('status') || undefined,
      trigger: query.get('trigger') || undefined,
      created_after: ms ? new Date(now - ms).toISOString() : range === 'custom' ? local(query.get('from')) : undefined,
      created_before: range === 'custom' ? local(query.get('to')) : undefined,
    },
  };
}

/** The list's filters as bulk replay takes them: all of them, typed by the API's own schema. */
export function replayFilter(params: ReturnType<typeof runFilters>['params']): ReplayFilter {
  const { workflow_id, status, trigger, created_after, created_before } = params;
  return { workflow_id, status, trigger: trigger as ReplayFilter['trigger'], created_after, created_before };
}

/**
 * Every run of the workspace: filters by workflow, status, trigger and time kept in the URL; pages of 50 through
 * the API's cursor ("Older runs"); live updates every 2 s that can be paused; replay or cancel of the selection, and
 * replay of everything the filters match after a count to confirm.
 */
export function RunsPage({ query = new URLSearchParams() }: { query?: URLSearchParams }) {
  const canEdit = useCan('editor');
  const key = query.toString();
  // relative ranges start from when the filter was chosen, so that the list does not slide under the reader
  const filters = useMemo(() => runFilters(new URLSearchParams(key), Date.now()), [key]);
  const [live, setLive] = useState(true);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [message, setMessage] = useState<string>();
  const [actionError, setActionError] = useState<unknown>();
  const ws = useWorkspace().current?.id;
  const [busy, once] = useBusy([keys.runs(ws), keys.stats(ws)]);
  const workflows = useLive(queries.workflowNames(ws), 30000);
  const names = useMemo(() => new Map((workflows.data?.items ?? []).map((w) => [w.id, w.name])), [workflows.data]);
  const runs = useInfiniteQuery({ ...queries.runPages(ws, filters.params), refetchInterval: live ? 2000 : false });
  const items = runs.data?.pages.flatMap((p) => p.items) ?? [];

  const set = (name: string, value: string) => {
    const next = new URLSearchParams(key);
    if (value) next.set(name, value);
    else next.delete(name);
    if (name === 'range' && value !== 'custom') {
      next.delete('from');
      next.delete('to');
    }
    setSelected(new Set());
    const text = next.toString();
    go('/runs' + (text ? `?${text}` : ''));
  };
  const toggle = (id: number) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const failure = (e: unknown) => setActionError(e instanceof ApiError ? e : new ApiError(0, '', 'Network error', String(e), []));

  async function forSelected(verb: 'replay' | 'cancel') {
    setActionError(undefined);
    await once(async () => {
      let done = 0;
      const refused: string[] = [];
      for (const id of selected) {
        try {
          if (verb === 'replay') await api.replay(id);
          else await api.cancel(id);
          done++;
        } catch (e) {
          refused.push(`#${id}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      setSelected(new Set());
      setMessage(`${verb === 'replay' ? 'Replayed' : 'Cancelled'} ${done} run${done === 1 ? '' : 's'}.` + (refused.length ? ` Not done: ${refused.join('; ')}` : ''));
    });
  }

  async function replayAllMatching() {
    setActionError(undefined);
    await once(async () => {
      // every filter of the list, and only those: the replay takes exactly the runs the list shows
      const body = replayFilter(filters.params);
      try {
        const count = await api.countReplay(body);
        if (count.matching === 0) {
          setMessage('No run matches these filters.');
          return;
        }
        if (count.replayable > count.limit) {
          setMessage(`More than ${count.limit} runs match; narrow the filters first.`);
          return;
        }
        const paused = count.matching - count.replayable;
        if (count.replayable === 0) {
          setMessage(`The ${count.matching} matching run${count.matching === 1 ? ' belongs' : 's belong'} to paused workflows; resume them to replay.`);
          return;
        }
        const skipped = paused > 0 ? ` (${paused} of paused workflows are skipped)` : '';
        if (!confirmed(`Replay ${count.replayable} of the ${count.matching} matching run${count.matching === 1 ? '' : 's'}${skipped}?`)) return;
        const done = await api.replayMany(body);
        setMessage(`Replayed ${done.replayed} run${done.replayed === 1 ? '' : 's'}.`);
      } catch (e) {
        failure(e);
      }
    });
  }

  const p = filters.params;
  const anyFilter = Object.values(replayFilter(p)).some(Boolean);
  return (
    <section>
      <h1>Runs</h1>
      <div className="filters card" role="group" aria-label="Run filters">
        <label className="field"><span>Workflow</span>
          <select name="filter-workflow" value={query.get('workflow') ?? ''} onChange={(e) => set('workflow', e.target.value)}>
            <option value="">all workflows</option>
            {(workflows.data?.items ?? []).map((w) => <option key={w.id} value={w.id}>{w.name}</option>)}
          </select>
        </label>
        <label className="field"><span>Status</span>
          <select name="filter-status" value={query.get('status') ?? ''} onChange={(e) => set('status', e.target.value)}>
            <option value="">all</option>
            {RUN_STATUSES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </label>
        <label className="field"><span>Trigger</span>
          <select name="filter-trigger" value={query.get('trigger') ?? ''} onChange={(e) => set('trigger', e.target.value)}>
            <option value="">all</option>
            {TRIGGER_TYPES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </label>
        <label className="field"><span>Time</span>
          <select name="filter-range" value={filters.range} onChange={(e) => set('range', e.target.value === 'all' ? '' : e.target.value)}>
            {Object.entries(RANGES).map(([k, r]) => <option key={k} value={k}>{r.label}</option>)}
          </select>
        </label>
        {filters.range === 'custom' && (
          <>
            <label className="field"><span>From</span><input name="filter-from" type="datetime-local" value={query.get('from') ?? ''} onChange={(e) => set('from', e.target.value)} /></label>
            <label className="field"><span>To</span><input name="filter-to" type="datetime-local" value={query.get('to') ?? ''} onChange={(e) => set('to', e.target.value)} /></label>
          </>
        )}
        <label className="check"><input type="checkbox" name="live" checked={live} onChange={(e) => setLive(e.target.checked)} /> Live updates</label>
      </div>
      {canEdit && (
        <div className="actions">
          <button type="button" disabled={busy || selected.size === 0} onClick={() => forSelected('replay')}>Replay selected ({selected.size})</button>
          <button type="button" className="secondary" disabled={busy || selected.size === 0} onClick={() => forSelected('cancel')}>Cancel selected ({selected.size})</button>
          <button type="button" className="secondary" disabled={busy || !anyFilter} title={anyFilter ? undefined : 'Choose a filter first'} onClick={replayAllMatching}>Replay all matching…</button>
        </div>
      )}
      {message && <p className="note" role="status">{message}</p>}
      <ErrorNote error={actionError ?? runs.error} />
      {runs.isPending && <Loading />}
      {!runs.isPending && items.length === 0 && <Empty>No runs match.</Empty>}
      {items.length > 0 && <RunRows runs={items} names={names} selected={canEdit ? selected : undefined} toggle={canEdit ? toggle : undefined} />}
      {runs.hasNextPage && (
        <button type="button" className="secondary" disabled={runs.isFetchingNextPage} onClick={() => void runs.fetchNextPage()}>
          {runs.isFetchingNextPage ? 'Loading…' : 'Older runs'}
        </button>
      )}
    </section>
  );
}
