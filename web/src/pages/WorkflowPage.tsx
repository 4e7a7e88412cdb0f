import { useCan, useWorkspace } from '../workspace';
import { useState } from 'react';
import { api, ApiError } from '../api';
import { go } from '../nav';
import { useLive } from '../query';
import { confirmed, CopyButton, ErrorNote, Field, Loading, StatusBadge, useBusy, when, whenIn } from '../ui';
import { sessionSecret } from './WorkflowFormPage';
import { RunsTable } from './RunsPage';
import { NotifyToggle } from '../push';
import { keys, queries } from '../queries';

/** One workflow: its webhook URL and curl example, secret, manual trigger, pause/resume, delete, and its runs. */
export function WorkflowPage({ id }: { id: number }) {
  const canEdit = useCan('editor');
  const ws = useWorkspace().current?.id;
  const { data: w, error } = useLive(queries.workflow(ws, id), 5000);
  const [secret, setSecret] = useState<string | undefined>(() => sessionSecret.get(id));
  const [revealed, setRevealed] = useState(false);
  const [payload, setPayload] = useState('{\n  "hello": "world"\n}');
  const [payloadError, setPayloadError] = useState<string>();
  const [message, setMessage] = useState<string>();
  const [actionError, setActionError] = useState<unknown>();
  // a trigger adds a run; a pause, a rotation or a delete changes the workflow and the list
  const [busy, once] = useBusy([keys.workflow(ws, id), keys.workflows(ws), keys.runs(ws), keys.stats(ws)]);

  if (!w) return error ? <ErrorNote error={error} /> : <Loading />;

  async function act(action: () => Promise<unknown>, done: string) {
    setActionError(undefined);
    await once(async () => {
      try {
        await action();
        setMessage(done);
      } catch (e) {
        setActionError(e);
      }
    });
  }

  function trigger() {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload || '{}');
      setPayloadError(undefined);
    } catch (e) {
      setPayloadError('Not valid JSON: ' + (e as Error).message);
      return;
    }
    act(() => api.trigger(id, parsed), 'Run started.');
  }

  const curl = w.webhook_url ? `curl -X POST '${w.webhook_url}' -H 'Content-Type: application/json' -d '{"hello":"world"}'` : '';
  return (
    <section>
      <div className="title-row">
        <h1>{w.name}</h1>
        {canEdit && <a className="button secondary" href={`#/workflows/${id}/edit`}>Edit</a>}
      </div>
      <dl className="facts">
        <dt>Trigger</dt><dd>{w.trigger_type}{w.trigger_type === 'cron' ? ` — ${String(w.trigger_config.expression)} (${String(w.trigger_config.timezone)})` : ''}{w.trigger_type === 'interval' ? ` — every ${String(w.trigger_config.interval_minutes)} min` : ''}{w.trigger_type === 'run_failed' ? ` — when a run of ${w.trigger_config.workflows === 'all' ? 'any workflow' : `workflow ${([] as unknown[]).concat(w.trigger_config.workflows).join(', ')}`} fails` : ''}</dd>
        {w.action_url ? (
          <><dt>Action URL</dt><dd className="mono">{w.action_url}</dd></>
        ) : (
          <><dt>Steps</dt><dd><ol className="mono">{(w.steps ?? []).map((s) => (
            <li key={s.key}>{s.key}: {s.method ?? 'POST'} {s.url}{s.needs?.length ? ` (after ${s.needs.join(', ')})` : ''}</li>
          ))}</ol></dd></>
        )}
        <dt>State</dt><dd>{w.enabled ? 'active' : 'paused'}</dd>
        <dt>Next run</dt><dd>{whenIn(w.next_run_at, (w.trigger_config as Record<string, unknown>).timezone as string | undefined)}</dd>
        <dt>Last run</dt><dd><StatusBadge status={w.last_run_status} /> {when(w.last_run_at)}</dd>
        <dt>Retries</dt><dd>up to {w.max_attempts ?? 8} attempts</dd>
      </dl>
      {message && <p className="note" role="status">{message}</p>}
      <ErrorNote error={actionError} />

      {w.webhook_url && (
        <div className="card">
          <h2>Webhook URL</h2>
          <div className="copy-row">
            <code className="mono" data-testid="webhook-url">{w.webhook_url}</code>
            <CopyButton text={w.webhook_url} />
          </div>
          <p className="muted">Try it:</p>
          <div className="copy-row"><code className="mono">{curl}</code><CopyButton text={curl} label="Copy curl" /></div>
          {canEdit && (
            <button type="button" className="secondary" disabled={busy} onClick={() => confirmed('The current URL stops working at once. Rotate?') && act(() => api.rotateToken(id), 'New webhook URL issued.')}>
              New URL
            </button>
          )}
        </div>
      )}

      {canEdit && (<>
      <div className="card">
        <h2>Signing secret</h2>
        <p className="muted">Deliveries carry Standard Webhooks signatures made with this secret.</p>
        {secret ? (
          <div className="copy-row">
            <code className="mono" data-testid="secret">{revealed ? secret : 'whsec_' + '•'.repeat(24)}</code>
            <button type="button" className="secondary" onClick={() => setRevealed(!revealed)}>{revealed ? 'Hide' : 'Reveal'}</button>
            <CopyButton text={secret} />
          </div>
        ) : (
          <p className="muted">Shown only when created or rotated.</p>
        )}
        <button
          type="button"
          className="secondary"
          disabled={busy}
          onClick={() =>
            confirmed('Issue a new signing secret? The old one keeps signing too for 24 hours.') &&
            act(async () => { const r = await api.rotateSecret(id); sessionSecret.set(id, r.signing_secret); setSecret(r.signing_secret); }, 'New signing secret issued; the old one still signs for 24 hours.')
          }
        >
          Rotate secret
        </button>
      </div>

      <div className="card">
        <h2>Run it now</h2>
        <Field label="Payload (JSON)" error={payloadError}>
          <textarea name="manual-payload" rows={4} value={payload} onChange={(e) => setPayload(e.target.value)} />
        </Field>
        <div className="actions">
          <button type="button" onClick={trigger} disabled={!w.enabled || busy}>Trigger</button>
          <button type="button" className="secondary" disabled={busy} onClick={() => act(() => api.updateWorkflow(id, { enabled: !w.enabled }), w.enabled ? 'Paused.' : 'Resumed.')}>
            {w.enabled ? 'Pause' : 'Resume'}
          </button>
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={() => confirmed(`Delete "${w.name}" with all its runs? This cannot be undone.`) && once(() => api.deleteWorkflow(id).then(() => go('/workflows'), (e: ApiError) => setActionError(e)))}
          >
            Delete
          </button>
        </div>
      </div>
      </>)}

      <h2>Runs</h2>
      <NotifyToggle workflowId={id} />
      <RunsTable workflowId={id} />
    </section>
  );
}
