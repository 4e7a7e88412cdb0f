import { useCan } from '../workspace';
import { useState } from 'react';
import { api, ApiError } from '../api';
import { go } from '../App';
import { useLive } from '../query';
import { ErrorNote, Field, Loading, StatusBadge, when, useBusy } from '../ui';

/** One run: its payload and the timeline of its attempts; replay as is or with an edited payload; cancel. */
export function RunPage({ id }: { id: number }) {
  const canEdit = useCan('editor');
  const { data: run, error, reload } = useLive(['run', id], () => api.run(id), 2000);
  const [editing, setEditing] = useState(false);
  const [payload, setPayload] = useState('');
  const [payloadError, setPayloadError] = useState<string>();
  const [actionError, setActionError] = useState<unknown>();
  const [busy, once] = useBusy();

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

  return (
    <section>
      <div className="title-row">
        <h1>Run #{run.id} <StatusBadge status={run.status} /></h1>
        <a className="button secondary" href={`#/workflows/${run.workflow_id}`}>Workflow</a>
      </div>
      <dl className="facts">
        <dt>Trigger</dt><dd>{run.trigger}{run.replay_of ? ` (replay of #${run.replay_of})` : ''}</dd>
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
        <button type="button" className="secondary" onClick={() => { setEditing(!editing); setPayload(JSON.stringify(run.payload, null, 2)); }}>
          Replay with edited payload
        </button>
        {(run.status === 'pending' || run.status === 'retrying') && (
          <button type="button" className="danger" disabled={busy} onClick={() => once(() => api.cancel(id).then(reload, setActionError))}>Cancel run</button>
        )}
      </div>}
      {editing && (
        <div className="card">
          <Field label="Payload to send (JSON)" error={payloadError}>
            <textarea name="replay-payload" rows={6} value={payload} onChange={(e) => setPayload(e.target.value)} />
          </Field>
          <button type="button" disabled={busy} onClick={() => replay(true)}>Replay with this payload</button>
        </div>
      )}
      <h2>Payload</h2>
      <pre className="code">{JSON.stringify(run.payload, null, 2)}</pre>
      <h2>Attempts</h2>
      {(run.attempts ?? []).length === 0 && <p className="muted">No attempt yet.</p>}
      <ol className="timeline" data-testid="attempts">
        {(run.attempts ?? []).map((a) => (
          <li key={a.number} className={a.error ? 'failed' : 'ok'}>
            <div>
              <strong>Attempt {a.number}</strong> · {when(a.started_at)} · {a.duration_ms} ms ·{' '}
              {a.response_status !== null ? <span className="mono">HTTP {a.response_status}</span> : <span className="error">{a.error}</span>}
            </div>
            {a.error && a.response_status !== null && <div className="error">{a.error}</div>}
            {a.response_body ? <pre className="code small">{a.response_body}</pre> : null}
          </li>
        ))}
      </ol>
      {run.next_attempt_at && <p className="muted">Next attempt at {when(run.next_attempt_at)}.</p>}
    </section>
  );
}
