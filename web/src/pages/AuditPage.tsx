import { FormEvent, useState } from 'react';
import { useInfiniteQuery } from '@tanstack/react-query';
import { AuditEntry } from '../api';
import { Empty, ErrorNote, Loading, when } from '../ui';
import { useWorkspace } from '../workspace';
import { queries } from '../queries';

type Filters = { actor: string; action: string; object: string; from: string; to: string };
const NONE: Filters = { actor: '', action: '', object: '', from: '', to: '' };

export function describeChanges(changes: unknown): string {
  if (!changes || typeof changes !== 'object') return '';
  return Object.entries(changes as Record<string, unknown>)
    .map(([field, change]) => {
      if (change && typeof change === 'object' && ('before' in change || 'after' in change)) {
        const c = change as { before?: unknown; after?: unknown };
        const show = (v: unknown) => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));
        return `${field}: ${show(c.before)} → ${show(c.after)}`;
      }
      return `${field}: ${typeof change === 'string' ? change : JSON.stringify(change)}`;
    })
    .join('; ');
}

/** Who changed what in this workspace, newest first, with filters; owners and admins only. */
export function AuditPage() {
  const [draft, setDraft] = useState<Filters>(NONE);
  const [filters, setFilters] = useState<Filters>(NONE);
  const time = (local: string) => (local ? new Date(local).toISOString() : undefined);
  const ws = useWorkspace().current?.id;
  const query = useInfiniteQuery(
    queries.auditPages(ws, { actor: filters.actor, action: filters.action, object: filters.object, from: time(filters.from), to: time(filters.to) }),
  );
  const entries: AuditEntry[] = query.data?.pages.flatMap((p) => p.items) ?? [];
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value });

  function apply(e: FormEvent) {
    e.preventDefault();
    setFilters(draft);
  }

  return (
    <section>
      <h1>Audit log</h1>
      <form className="card filters" onSubmit={apply} aria-label="Audit filters">
        <label className="field"><span>Action</span><input name="audit-action" placeholder="workflow or workflow.updated" value={draft.action} onChange={set('action')} /></label>
        <label className="field"><span>Actor</span><input name="audit-actor" placeholder="email, user id or key:ID" value={draft.actor} onChange={set('actor')} /></label>
        <label className="field"><span>Object</span><input name="audit-object" placeholder="workflow:42" value={draft.object} onChange={set('object')} /></label>
        <label className="field"><span>From</span><input name="audit-from" type="datetime-local" value={draft.from} onChange={set('from')} /></label>
        <label className="field"><span>To</span><input name="audit-to" type="datetime-local" value={draft.to} onChange={set('to')} /></label>
        <button type="submit">Filter</button>
      </form>
      <ErrorNote error={query.error} />
      {query.isPending && <Loading />}
      {!query.isPending && entries.length === 0 && <Empty>Nothing recorded for these filters.</Empty>}
      {entries.length > 0 && (
        <table className="list">
          <thead><tr><th>When</th><th>Who</th><th>Action</th><th>Object</th><th>What changed</th><th>From</th></tr></thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td data-label="When">{when(e.at)}</td>
                <td data-label="Who">{e.actor.name}</td>
                <td data-label="Action"><code>{e.action}</code></td>
                <td data-label="Object">{e.object_type}{e.object_id ? ` ${e.object_id}` : ''}</td>
                <td data-label="What changed" className="changes">{describeChanges(e.changes)}</td>
                <td data-label="From" className="mono">{e.client ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {query.hasNextPage && (
        <button type="button" className="secondary" disabled={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
          {query.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}
