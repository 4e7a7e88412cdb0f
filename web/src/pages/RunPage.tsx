import { useCan, useWorkspace } from '../workspace';
import { useState } from 'react';
import { api, ApiError } from '../api';
import { go } from '../nav';
import { useLive } from '../query';
import { asCurl } from './StepsEditor';
import { CopyButton, ErrorNote, Field, Loading, StatusBadge, when, useBusy } from '../ui';
import { keys, queries } from '../queries';

/** One run: its payload and the timeline of its attempts; replay as is or with an edited payload; cancel. */
type SentRequest = { method: string; url: string; headers: Record<string, string>; body: string | null; body_is_payload: boolean; body_truncated?: boolean };
type AttemptRow = { step: string | null; number: number; started_at: string; duration_ms: number; response_status: number | null; response_headers: Record<string, unknown> | null; response_body: string | null; error: string | null; request: SentRequest | null };

/** What an attempt sent, as a curl command: the run's payload stands in for a body that was the payload byte for byte. */
export function attemptCurl(r: SentRequest, payload: unknown): string {
  const body = r.body_is_payload ? JSON.stringify(payload) : r.body;
  return asCurl({ method: r.method, url: r.url, headers: r.headers, body });
}

/**
 * Attempts as a timeline; each opens to what it sent (method, URL, headers with the signature, body; copy as curl)
 * and to its response: status, headers and body (the first 4 KiB).
 */
function Attempts({ attempts, payload, testId }: { attempts: AttemptRow[]; payload: unknown; testId?: string }) {
  return (
    <ol className="timeline" data-testid={testId}>
      {attempts.map((a) => (
        <li key={`${a.step}-${a.number}`} className={a.error ? 'failed' : 'ok'}>
          <div>
            <strong>Attempt {a.number}</strong> · {when(a.started_at)} · {a.duration_ms} ms ·{' '}
            {a.response_status !== null ? <span className="mono">HTTP {a.response_status}</span> : <span className="error">{a.error}</span>}
          </div>
          {a.error && a.response_status !== null && <div className="error">{a.error}</div>}
          {a.request && (
            <details data-testid="attempt-request">
              <summary>Request</summary>
              <pre className="code small">{`${a.request.method} ${a.request.url}\n` + Object.entries(a.request.headers).map(([k, v]) => `${k}: ${v}`).join('\n')}</pre>
              {a.request.body_is_payload ? (
                <p className="muted">Body: the run's payload, byte for byte.</p>
              ) : a.request.body !== null ? (
                <pre className="code small">{a.request.body}{a.request.body_truncated ? '\n[truncated to 4 KiB]' : ''}</pre>
              ) : null}
              <CopyButton text={attemptCurl(a.request, payload)} label="Copy as curl" />
            </details>
          )}
          {(a.response_headers || a.response_body) && (
            <details>
              <summary>Response</summary>
              {a.response_headers && (
                <pre className="code small">{Object.entries(a.response_headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`).join('\n')}</pre>
              )}
              {a.response_body ? <pre className="code small">{a.response_body}</pre> : null}
            </details>
          )}
        </li>
      ))}
    </ol>
  );
}

/**
 * A for_each step's items are steps of the run keyed `<key>#<index>`: this folds them under their step, in item order,
 * leaving the run's own steps in `steps`.
 */
export function foldItems<T extends { key: string }>(all: T[]): { steps: T[]; items: Map<string, T[]> } {
  const steps: T[] = [];
  const items = new Map<string, T[]>();
  for (const st of all) {
    const at = st.key.indexOf('#');
    if (at < 0) {
      steps.push(st);
    } else {
      const of = st.key.slice(0, at);
      items.set(of, [...(items.get(of) ?? []), st]);
    }
  }
  const index = (st: T) => Number(st.key.slice(st.key.indexOf('#') + 1));
  items.forEach((list) => list.sort((a, b) => index(a) - index(b)));
  return { steps, items };
}

/** "198 succeeded · 2 failed": items counted by status, most common first. */
export function itemCounts(items: { status: string }[]): string {
  const counts = new Map<string, number>();
  items.forEach((i) => counts.set(i.status, (counts.get(i.status) ?? 0) + 1));
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([status, n]) => `${n} ${status}`).join(' · ');
}

type ItemStep = { key: string; status: string; attempt_count: number; error?: string | null; webhook_id: string; attempts: AttemptRow[] };
const ITEMS_PAGE = 20;

/** A loop's items under their step: counts by status, a filter by status, each item's attempts; 20 at a time. */
export function LoopItems({ items, payload }: { items: ItemStep[]; payload: unknown }) {
  const [status, setStatus] = useState('all');
  const [shown, setShown] = useState(ITEMS_PAGE);
  const statuses = [...new Set(items.map((i) => i.status))];
  const matching = status === 'all' ? items : items.filter((i) => i.status === status);
  return (
    <div className="loop-items" data-testid="loop-items">
      <p>
        <strong>{items.length} item{items.length === 1 ? '' : 's'}</strong>: {itemCounts(items)}
        {statuses.length > 1 && (
          <label className="inline">{' '}· show{' '}
            <select value={status} onChange={(e) => { setStatus(e.target.value); setShown(ITEMS_PAGE); }}>
              <option value="all">all</option>
              {statuses.map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
          </label>
        )}
      </p>
      <ul className="items">
        {matching.slice(0, shown).map((it) => (
          <li key={it.key}>
            <details data-item={it.key.slice(it.key.indexOf('#') + 1)} open={it.status === 'failed' && matching.length <= 3}>
              <summary>item {it.key.slice(it.key.indexOf('#') + 1)} <StatusBadge status={it.status} /> {it.attempt_count} attempt{it.attempt_count === 1 ? '' : 's'}{it.error ? <span className="error"> · {it.error}</span> : null}</summary>
              <p className="muted">webhook-id <code>{it.webhook_id}</code></p>
              <Attempts attempts={it.attempts} payload={payload} />
            </details>
          </li>
        ))}
      </ul>
      {matching.length > shown && (
        <button type="button" className="secondary" onClick={() => setShown(shown + ITEMS_PAGE)}>
          Show {Math.min(ITEMS_PAGE, matching.length - shown)} more of {matching.length - shown}
        </button>
      )}
    </div>
  );
}

/** Steps in columns by how deep their needs go. */
function stepColumns<T extends { key: string; needs: string[] }>(steps: T[]): T[][] {
  const byKey = new Map(steps.map((st) => [st.key, st]));
  const depth = (st: T, seen: Set<string>): number =>
    seen.has(st.key) ? 0 : 1 + Math.max(-1, ...st.needs.map((n) => byKey.get(n)).filter((n): n is T => !!n).map((n) => depth(n, new Set([...seen, st.key]))));
  const columns: T[][] = [];
  steps.forEach((st) => (columns[depth(st, new Set())] ??= []).push(st));
  return columns.filter(Boolean);
}

function prettyOr(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** A line diff (longest common subsequence): what an edited payload removes and adds. */
export function lineDiff(before: string, after: string): { kind: 'same' | 'added' | 'removed'; text: string }[] {
  const a = before.split('\n');
  const b = after.split('\n');
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: { kind: 'same' | 'added' | 'removed'; text: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) { out.push({ kind: 'same', text: a[i] }); i++; j++; }
    else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push({ kind: 'removed', text: a[i++] });
    else out.push({ kind: 'added', text: b[j++] });
  }
  while (i < n) out.push({ kind: 'removed', text: a[i++] });
  while (j < m) out.push({ kind: 'added', text: b[j++] });
  return out;
}

export function RunPage({ id }: { id: number }) {
  const canEdit = useCan('editor');
  const ws = useWorkspace().current?.id;
  const { data: run, error } = useLive(queries.run(ws, id), 2000);
  const [editing, setEditing] = useState(false);
  const [payload, setPayload] = useState('');
  const [payloadError, setPayloadError] = useState<string>();
  const [actionError, setActionError] = useState<unknown>();
  const [busy, once] = useBusy([keys.runs(ws), keys.run(ws, id), keys.stats(ws)]);
  const [confirming, setConfirming] = useState(false);

  if (!run) return error ? <ErrorNote error={error} /> : <Loading />;

  async function replay(edited: boolean) {
    setActionError(undefined);
    let body: unknown = undefined;
    if (edited) {
      try {
        body = JSON.parse(payload);
        setPayloadError(undefined);
      } catch (e) {
        setPayloadError('Not valid JSON: ' + (e as Error).message);
        return;
      }
      if (!confirming) {
        setConfirming(true); // show what changed first
        return;
      }
    }
    await once(async () => {
      try {
        const created = await api.replay(id, body);
        go(`/runs/${created.id}`);
      } catch (e) {
        setActionError(e as ApiError);
      }
    });
  }

  // a one-step run (the action_url shorthand, step "deliver") reads best as a plain attempt timeline
  const runSteps = run.steps ?? [];
  const showSteps = runSteps.length > 1 || (runSteps.length === 1 && runSteps[0].key !== 'deliver');
  const folded = foldItems(runSteps);
  // a loop step waits for its items once it has expanded: its needs as the workflow gives them leave those out
  const needs = (st: { needs: string[] }) => st.needs.filter((n) => !n.includes('#'));
  return (
    <section>
      <div className="title-row">
        <h1>Run #{run.id} <StatusBadge status={run.status} /></h1>
        <a className="button secondary" href={`#/workflows/${run.workflow_id}`}>Workflow</a>
      </div>
      <dl className="facts">
        <dt>Trigger</dt><dd>{run.trigger}{run.replay_of ? ` (replay of #${run.replay_of})` : ''}
          {run.parent_run_id != null && <> (a step of <a href={`#/runs/${run.parent_run_id}`}>run #{run.parent_run_id}</a>)</>}
          {run.caused_by_run_id != null && <> (the failure of <a href={`#/runs/${run.caused_by_run_id}`}>run #{run.caused_by_run_id}</a>)</>}</dd>
        <dt>Created</dt><dd>{when(run.created_at)}</dd>
        {run.scheduled_for && (<><dt>Scheduled for</dt><dd>{when(run.scheduled_for)}</dd></>)}
        <dt>Started</dt><dd>{when(run.started_at)}</dd>
        <dt>Ended</dt><dd>{when(run.ended_at)}</dd>
        {run.next_attempt_at && (<><dt>Next attempt</dt><dd>{when(run.next_attempt_at)}</dd></>)}
        {run.error && (<><dt>Error</dt><dd className="error">{run.error}</dd></>)}
      </dl>
      <ErrorNote error={actionError} />
      {canEdit && <div className="actions">
        <button type="button" disabled={busy} onClick={() => replay(false)}>Replay</button>
        {run.status === 'failed' && (
          <button type="button" className="secondary" disabled={busy} onClick={() => once(() => api.retry(id).catch(setActionError))}>
            Retry from the failure
          </button>
        )}
        <button type="button" className="secondary" onClick={() => { setEditing(!editing); setConfirming(false); setPayload(JSON.stringify(run.payload, null, 2)); }}>
          Replay with edited payload
        </button>
        {(run.status === 'pending' || run.status === 'retrying') && (
          <button type="button" className="danger" disabled={busy} onClick={() => once(() => api.cancel(id).catch(setActionError))}>Cancel run</button>
        )}
      </div>}
      {editing && (
        <div className="card">
          <Field label="Payload to send (JSON)" error={payloadError}>
            <textarea name="replay-payload" rows={6} value={payload} onChange={(e) => setPayload(e.target.value)} />
          </Field>
          {!confirming && <button type="button" disabled={busy} onClick={() => replay(true)}>Review changes</button>}
          {confirming && (
            <div data-testid="payload-diff">
              <p>What changes from the original payload:</p>
              <pre className="code diff">
                {lineDiff(JSON.stringify(run.payload, null, 2), prettyOr(payload)).map((l, i) => (
                  <span key={i} className={l.kind}>{l.kind === 'added' ? '+ ' : l.kind === 'removed' ? '- ' : '  '}{l.text}{'\n'}</span>
                ))}
              </pre>
              <div className="actions">
                <button type="button" disabled={busy} onClick={() => replay(true)}>Replay with this payload</button>
                <button type="button" className="secondary" onClick={() => setConfirming(false)}>Back to editing</button>
              </div>
            </div>
          )}
        </div>
      )}
      <h2>Payload</h2>
      <div className="copy-row"><pre className="code">{JSON.stringify(run.payload, null, 2)}</pre><CopyButton text={JSON.stringify(run.payload, null, 2)} /></div>
      {showSteps && (
        <>
          <h2>Steps</h2>
          <div className="graph" role="img" aria-label={`Steps: ${folded.steps.map((st) => `${st.key} ${st.status}`).join(', ')}`}>
            {stepColumns(folded.steps).map((column, level) => (
              <div className="graph-column" key={level}>
                {column.map((st) => (
                  <span key={st.key} className={`graph-node badge status-${st.status}`}>
                    {st.key}: {st.status}{folded.items.has(st.key) ? ` · ${folded.items.get(st.key)!.length} items` : ''}
                  </span>
                ))}
              </div>
            ))}
          </div>
          {folded.steps.map((st) => {
            const items = folded.items.get(st.key);
            return (
              <details key={st.key} className="card" open={st.status === 'failed'} data-step={st.key}>
                <summary><code>{st.key}</code> <StatusBadge status={st.status} />{' '}
                  {items ? `${items.length} item${items.length === 1 ? '' : 's'}` : `${st.attempt_count} attempt${st.attempt_count === 1 ? '' : 's'}`}
                  {st.error ? <span className="error"> · {st.error}</span> : null}
                  {st.timed_out ? <span className="muted"> · timed out: went on with no response</span> : null}</summary>
                <p className="muted">{items ? 'a loop: each item is sent with its own webhook-id' : <>webhook-id <code>{st.webhook_id}</code> (the same on every attempt)</>}{needs(st).length ? ` · needs ${needs(st).join(', ')}` : ''}
                  {st.child_run_id != null && <> · runs a workflow: <a href={`#/runs/${st.child_run_id}`}>run #{st.child_run_id}</a></>}</p>
                {items && <LoopItems items={items} payload={run.payload} />}
                {st.attempts.length > 0 && <Attempts attempts={st.attempts} payload={run.payload} />}
              </details>
            );
          })}
        </>
      )}
      {!showSteps && (
        <>
          <h2>Attempts</h2>
          {(run.attempts ?? []).length === 0 && <p className="muted">No attempt yet.</p>}
          <Attempts attempts={run.attempts ?? []} payload={run.payload} testId="attempts" />
        </>
      )}
      {run.next_attempt_at && <p className="muted">Next attempt at {when(run.next_attempt_at)}.</p>}
    </section>
  );
}
