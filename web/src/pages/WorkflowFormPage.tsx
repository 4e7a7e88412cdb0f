import { FormEvent, useEffect, useMemo, useState } from 'react';
import { api, ApiError, SchedulePreview, Workflow } from '../api';
import { go, warnBeforeLeaving } from '../nav';
import { ErrorNote, Field, Loading, useBusy } from '../ui';
import { fromSteps, newStep, StepDraft, StepsEditor, toSteps } from './StepsEditor';
import { useWorkspace } from '../workspace';
import { queryClient } from '../query';
import { keys, queries } from '../queries';
import { useQuery } from '@tanstack/react-query';

const ZONES: string[] = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? ['UTC'];

interface FormState {
  name: string;
  trigger_type: string;
  action_url: string;
  interval_minutes: string;
  expression: string;
  timezone: string;
  payload: string;
  max_attempts: string;
  misfire: string;
  overlap: string;
  on_failure_url: string;
  /** One URL (the shorthand: the payload POSTed as received) or steps. */
  mode: 'url' | 'steps';
  steps: StepDraft[];
  filter: string;
  /** What a run answers a workflow that runs it (a JSONata expression; empty: its last step's response). */
  output: string;
  /** run_failed: every workflow of the workspace, or the ones in {@link watched}. */
  watch_all: boolean;
  watched: number[];
  /** webhook: also take GET (and HEAD), for senders that verify an endpoint with a GET. */
  get_too: boolean;
  /** webhook: the answer to the caller (trigger_config.respond), a JSONata body ('' for none) and its status. */
  respond_body: string;
  respond_status: string;
  /** webhook: answer at once from the request ('immediate') or once a step has finished ('step', its key, the hold's timeout). */
  respond_mode: 'immediate' | 'step';
  respond_step: string;
  respond_timeout: string;
  /** webhook: the stored trigger_config, carried so that a save keeps what the form does not show (verify...). */
  original_config: Record<string, unknown>;
}

function toForm(w?: Workflow): FormState {
  const c = (w?.trigger_config ?? {}) as Record<string, unknown>;
  return {
    name: w?.name ?? '',
    trigger_type: w?.trigger_type ?? 'webhook',
    action_url: w?.action_url ?? '',
    interval_minutes: c.interval_minutes ? String(c.interval_minutes) : '15',
    expression: (c.expression as string) ?? '0 9 * * MON-FRI',
    timezone: (c.timezone as string) ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC',
    payload: c.payload === undefined ? '' : JSON.stringify(c.payload, null, 2),
    max_attempts: w?.max_attempts ? String(w.max_attempts) : '',
    misfire: w?.misfire ?? 'fire_once',
    overlap: w?.overlap ?? 'allow',
    on_failure_url: w?.on_failure_url ?? '',
    mode: w && !w.action_url ? 'steps' : 'url',
    steps: w && !w.action_url ? fromSteps((w.steps ?? []) as unknown as Record<string, unknown>[]) : [newStep([])],
    filter: w?.filter ?? '',
    output: w?.output ?? '',
    watch_all: c.workflows === undefined || c.workflows === 'all',
    watched: Array.isArray(c.workflows) ? (c.workflows as number[]) : [],
    get_too: Array.isArray(c.methods) && c.methods.includes('GET'),
    respond_body: ((c.respond as Record<string, unknown> | undefined)?.body as string) ?? '',
    respond_status: respondStatus(c.respond as Record<string, unknown> | undefined),
    respond_mode: (c.respond as Record<string, unknown> | undefined)?.mode === 'step' ? 'step' : 'immediate',
    respond_step: ((c.respond as Record<string, unknown> | undefined)?.step as string) ?? '',
    respond_timeout: ((c.respond as Record<string, unknown> | undefined)?.timeout as string) ?? '10s',
    original_config: c,
  };
}

/** An answer's status as the form shows it: '' for "the step's own" (mode step without one), else the number. */
function respondStatus(respond?: Record<string, unknown>): string {
  if (respond?.mode === 'step') return respond.status == null ? '' : String(respond.status);
  return String((respond?.status as number) ?? 200);
}

/** Builds the trigger_config of the chosen type; returns an error message for a payload that is not JSON. */
export function triggerConfig(f: FormState): { config: Record<string, unknown>; payloadError?: string } {
  const config: Record<string, unknown> = {};
  if (f.trigger_type === 'interval' || f.trigger_type === 'cron') {
    if (f.payload.trim()) {
      try {
        config.payload = JSON.parse(f.payload);
      } catch (e) {
        return { config, payloadError: 'Payload is not valid JSON: ' + (e as Error).message };
      }
    }
  }
  if (f.trigger_type === 'interval') config.interval_minutes = Number(f.interval_minutes);
  if (f.trigger_type === 'cron') {
    config.expression = f.expression;
    config.timezone = f.timezone;
  }
  if (f.trigger_type === 'run_failed') config.workflows = f.watch_all ? 'all' : f.watched;
  if (f.trigger_type === 'webhook') {
    // what the form does not show (verify, secret, header_name) is kept; the token is the server's
    Object.entries(f.original_config).forEach(([k, v]) => { if (k !== 'token' && k !== 'methods' && k !== 'respond') config[k] = v; });
    if (f.get_too) config.methods = ['POST', 'GET'];
    const before = (f.original_config.respond ?? {}) as Record<string, unknown>;
    if (f.respond_mode === 'step' && f.respond_step.trim()) {
      config.respond = {
        mode: 'step',
        step: f.respond_step.trim(),
        timeout: f.respond_timeout.trim() || '10s',
        status: f.respond_status.trim() ? Number(f.respond_status) : null,
        headers: before.headers ?? {},
        body: f.respond_body.trim() ? f.respond_body : null,
      };
    } else if (f.respond_mode === 'immediate' && f.respond_body.trim()) {
      config.respond = { mode: 'immediate', status: Number(f.respond_status) || 200, headers: before.headers ?? {}, body: f.respond_body };
    }
  }
  return { config };
}

/** Whether the webhook's answer settings differ from the stored ones (only then does a save send trigger_config). */
function answerChanged(f: FormState): boolean {
  const c = f.original_config;
  const before = (c.respond ?? {}) as Record<string, unknown>;
  return f.get_too !== (Array.isArray(c.methods) && c.methods.includes('GET'))
    || f.respond_body !== ((before.body as string) ?? '')
    || f.respond_status !== respondStatus(before)
    || f.respond_mode !== (before.mode === 'step' ? 'step' : 'immediate')
    || f.respond_step !== ((before.step as string) ?? '')
    || f.respond_timeout !== ((before.timeout as string) ?? '10s');
}

/** Create and edit, one form per trigger type, with a live preview of the next fire times. */
export function WorkflowFormPage({ id }: { id?: number }) {
  const [form, setForm] = useState<FormState | null>(id ? null : toForm());
  const [error, setError] = useState<ApiError | null>(null);
  const [payloadError, setPayloadError] = useState<string>();
  const [preview, setPreview] = useState<SchedulePreview | null>(null);
  const [previewError, setPreviewError] = useState<string>();
  const ws = useWorkspace().current?.id;
  // saving changes this workflow and the list (its name, trigger, state)
  const [busy, once] = useBusy([keys.workflows(ws), ...(id ? [keys.workflow(ws, id)] : [])]);

  const [loaded, setLoaded] = useState<string | null>(id ? null : JSON.stringify(form));
  useEffect(() => {
    // read once, fresh (a form is not refreshed under the user's hands)
    if (id) queryClient.fetchQuery({ ...queries.workflow(ws, id), staleTime: 0 }).then((w) => { const f = toForm(w); setForm(f); setLoaded(JSON.stringify(f)); }, setError);
  }, [id, ws]);

  // Unsaved changes: the app asks before leaving the form (a link, Back, a reload).
  const dirty = form !== null && loaded !== null && JSON.stringify(form) !== loaded;
  useEffect(() => {
    warnBeforeLeaving(dirty ? 'Leave without saving? Your changes to this workflow will be lost.' : null);
    return () => warnBeforeLeaving(null);
  }, [dirty]);

  // What the schedule preview asks for, as text: the effect below runs when it changes, not on every keystroke elsewhere.
  const previewRequest = useMemo(() => {
    if (!form || (form.trigger_type !== 'interval' && form.trigger_type !== 'cron')) return null;
    const { config, payloadError } = triggerConfig(form);
    return payloadError ? undefined : JSON.stringify({ trigger_type: form.trigger_type, trigger_config: config, count: 5 });
  }, [form]);
  useEffect(() => {
    if (previewRequest === null) {
      setPreview(null);
      return;
    }
    if (previewRequest === undefined) return;
    const timer = setTimeout(() => {
      api.preview(JSON.parse(previewRequest)).then(
        (p) => { setPreview(p); setPreviewError(undefined); },
        (e: ApiError) => { setPreview(null); setPreviewError(e.errors[0]?.reason ?? e.message); },
      );
    }, 300);
    return () => clearTimeout(timer);
  }, [previewRequest]);

  if (!form) return error ? <ErrorNote error={error} /> : <Loading />;
  const set = (k: keyof FormState) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const fe = (f: string) => error?.fieldError(f);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!form) return;
    const { config, payloadError } = triggerConfig(form);
    setPayloadError(payloadError);
    if (payloadError) return;
    const body: Record<string, unknown> = {
      name: form.name,
      misfire: form.misfire,
      overlap: form.overlap,
      max_attempts: form.max_attempts ? Number(form.max_attempts) : null,
      on_failure_url: form.on_failure_url || null,
    };
    if (form.mode === 'url') body.action_url = form.action_url;
    else body.steps = toSteps(form.steps);
    if (form.filter.trim()) body.filter = form.filter;
    else if (id) body.filter = null;
    if (form.output.trim()) body.output = form.output;
    else if (id) body.output = null;
    if (form.trigger_type !== 'webhook' && form.trigger_type !== 'manual') body.trigger_config = config;
    if (form.trigger_type === 'webhook' && answerChanged(form)) body.trigger_config = config;
    setError(null);
    await once(async () => {
    try {
      let saved: Workflow;
      if (id) {
        saved = await api.updateWorkflow(id, body);
      } else {
        body.trigger_type = form.trigger_type;
        if (body.max_attempts === null) delete body.max_attempts;
        if (body.on_failure_url === null) delete body.on_failure_url;
        body.trigger_config = form.trigger_type === 'manual' ? {} : config;
        saved = await api.createWorkflow(body);
        if (saved.signing_secret) sessionSecret.set(saved.id, saved.signing_secret);
      }
      warnBeforeLeaving(null); // saved: nothing to lose
      go(`/workflows/${saved.id}`);
    } catch (err) {
      setError(err as ApiError);
    }
    });
  }

  const scheduled = form.trigger_type === 'interval' || form.trigger_type === 'cron';
  return (
    <section>
      <h1>{id ? 'Edit workflow' : 'New workflow'}</h1>
      {/* Enter in a one-line field does not save the form: only the Save button does (or Enter on it). */}
      <form onSubmit={submit} className="card" aria-label="Workflow"
        onKeyDown={(e) => { if (e.key === 'Enter' && e.target instanceof HTMLInputElement) e.preventDefault(); }}>
        <Field label="Name" error={fe('name')}>
          <input name="name" required value={form.name} onChange={set('name')} />
        </Field>
        <Field label="Trigger" error={fe('trigger_type')}>
          <select name="trigger_type" value={form.trigger_type} onChange={set('trigger_type')} disabled={!!id}>
            <option value="webhook">Webhook — a URL that fires it</option>
            <option value="manual">Manual — fired from here or the API</option>
            <option value="interval">Interval — every N minutes</option>
            <option value="cron">Cron — on a calendar schedule</option>
            <option value="run_failed">Error workflow — when a run of another workflow fails</option>
          </select>
        </Field>
        {form.trigger_type === 'webhook' && (
          <fieldset className="answer">
            <legend>Answer to the caller (optional)</legend>
            <label className="check">
              <input type="checkbox" name="get_too" checked={form.get_too} onChange={(e) => setForm({ ...form, get_too: e.target.checked })} />
              Also take GET (and HEAD), for senders that verify the URL with a GET (Meta, Microsoft Graph); its query is the payload
            </label>
            <div className="row">
              <Field label="When to answer" error={fe('trigger_config.respond.mode')}>
                <select name="respond_mode" value={form.respond_mode} onChange={(e) => setForm({ ...form, respond_mode: e.target.value as FormState['respond_mode'], respond_status: e.target.value === 'step' && form.respond_status === '200' ? '' : form.respond_status })}>
                  <option value="immediate">At once, from the request (handshakes)</option>
                  <option value="step">When a step has finished (its response)</option>
                </select>
              </Field>
              {form.respond_mode === 'step' && (
                <>
                  <Field label="Step whose response answers" error={fe('trigger_config.respond.step')}>
                    <input name="respond_step" value={form.respond_step} placeholder="a step's key" onChange={set('respond_step')} />
                  </Field>
                  <Field label="Hold the caller at most (then the usual 202)" error={fe('trigger_config.respond.timeout')}>
                    <input name="respond_timeout" value={form.respond_timeout} placeholder="10s" onChange={set('respond_timeout')} />
                  </Field>
                </>
              )}
            </div>
            <div className="row">
              <Field label={form.respond_mode === 'step'
                ? "Answer body (optional JSONata over payload, headers, query, run and steps; empty: the step's own response)"
                : 'Answer body (JSONata over payload, headers, query, run): a text is sent as text, anything else as JSON; no value leaves the usual 202'} error={fe('trigger_config.respond.body') ?? fe('trigger_config.respond')}>
                <input name="respond_body" value={form.respond_body} placeholder={form.respond_mode === 'step' ? "{ 'total': steps.price.response.body.total }" : "payload.type = 'url_verification' ? { 'challenge': payload.challenge }"} onChange={set('respond_body')} />
              </Field>
              <Field label={form.respond_mode === 'step' ? "Answer status (empty: the step's own)" : 'Answer status'} error={fe('trigger_config.respond.status')}>
                <input name="respond_status" type="number" min={200} max={599} value={form.respond_status} onChange={set('respond_status')} />
              </Field>
            </div>
            {fe('trigger_config.methods') && <p className="error">{fe('trigger_config.methods')}</p>}
          </fieldset>
        )}
        {form.trigger_type === 'run_failed' && (
          <WatchedWorkflows form={form} onChange={(watch_all, watched) => setForm({ ...form, watch_all, watched })} self={id} error={fe('trigger_config.workflows')} />
        )}
        <fieldset className="mode">
          <legend>What it does</legend>
          <label className="check">
            <input type="radio" name="mode" value="url" checked={form.mode === 'url'} onChange={() => setForm({ ...form, mode: 'url' })} />
            POST the payload, as received, to one URL
          </label>
          <label className="check">
            <input type="radio" name="mode" value="steps" checked={form.mode === 'steps'} onChange={() => setForm({ ...form, mode: 'steps' })} />
            Steps: call any APIs, shape each request, filter, fan out, chain
          </label>
        </fieldset>
        {form.mode === 'url' ? (
          <Field label="Action URL (where the payload is POSTed)" error={fe('action_url')}>
            <input name="action_url" type="url" required placeholder="https://example.com/hook" value={form.action_url} onChange={set('action_url')} />
          </Field>
        ) : (
          <StepsEditor
            drafts={form.steps}
            onChange={(steps) => setForm({ ...form, steps })}
            filter={form.filter}
            onFilter={(filter) => setForm({ ...form, filter })}
            errorOf={fe}
            workflowId={id}
          />
        )}
        {form.mode === 'steps' && (
          <Field label="Output (JSONata, optional): what a run answers a workflow that runs this one; empty: its last step's response" error={fe('output')}>
            <input name="output" value={form.output} placeholder="{ 'id': steps.create.response.body.id }" onChange={set('output')} />
          </Field>
        )}
        {form.trigger_type === 'interval' && (
          <Field label="Every (minutes)" error={fe('trigger_config.interval_minutes')}>
            <input name="interval_minutes" type="number" min={1} max={525600} value={form.interval_minutes} onChange={set('interval_minutes')} />
          </Field>
        )}
        {form.trigger_type === 'cron' && (
          <div className="row">
            <Field label="Cron expression" error={fe('trigger_config.expression') ?? previewError} hint="minute hour day month weekday, e.g. 0 9 * * MON-FRI">
              <input name="expression" value={form.expression} onChange={set('expression')} />
            </Field>
            <Field
              label="Time zone"
              error={fe('trigger_config.timezone') ?? (form.timezone && !ZONES.includes(form.timezone) && form.timezone !== 'UTC' ? 'not a time zone this browser knows; type to search, e.g. Asia/Kolkata' : undefined)}
              hint="Type to search: a city or region, e.g. Kolkata, Kyiv, New_York"
            >
              <input name="timezone" list="time-zones" autoComplete="off" value={form.timezone} onChange={set('timezone')} />
            </Field>
            <datalist id="time-zones">{ZONES.map((z) => <option key={z} value={z} />)}</datalist>
          </div>
        )}
        {scheduled && (
          <>
            <Field label="Payload (JSON, optional)" error={payloadError ?? fe('trigger_config.payload')}>
              <textarea name="payload" rows={4} value={form.payload} onChange={set('payload')} placeholder='{"report": "daily"}' />
            </Field>
            <div className="preview" aria-live="polite">
              <strong>Next fire times</strong>
              {form.trigger_type === 'interval' && previewError && <p className="error">{previewError}</p>}
              {preview ? (
                <ol>{preview.fire_times.map((t) => <li key={t.at}>{t.local.replace('T', ' ')} <span className="muted">({preview.timezone})</span></li>)}</ol>
              ) : (
                !previewError && <p className="muted">…</p>
              )}
            </div>
            <div className="row">
              <Field label="Missed firings (after downtime or a pause)" error={fe('misfire')}>
                <select name="misfire" value={form.misfire} onChange={set('misfire')}>
                  <option value="fire_once">fire once</option>
                  <option value="skip">skip</option>
                </select>
              </Field>
              <Field label="While a run is unfinished" error={fe('overlap')}>
                <select name="overlap" value={form.overlap} onChange={set('overlap')}>
                  <option value="allow">fire anyway</option>
                  <option value="skip">skip the firing</option>
                </select>
              </Field>
            </div>
          </>
        )}
        <div className="row">
          <Field label="Max attempts (1–20, empty = default 8)" error={fe('max_attempts')}>
            <input name="max_attempts" type="number" min={1} max={20} value={form.max_attempts} onChange={set('max_attempts')} />
          </Field>
          <Field label="Alert URL when a run fails (optional)" error={fe('on_failure_url')}>
            <input name="on_failure_url" type="url" value={form.on_failure_url} onChange={set('on_failure_url')} />
          </Field>
        </div>
        {error && error.errors.length === 0 && <p className="error" role="alert">{error.message}</p>}
        <div className="actions">
          <button type="submit" disabled={busy}>{busy ? 'Saving…' : id ? 'Save' : 'Create workflow'}</button>
          <a className="button secondary" href={id ? `#/workflows/${id}` : '#/workflows'}>Cancel</a>
        </div>
      </form>
    </section>
  );
}

/** Which workflows' failures start an error workflow: all of the workspace, or the ones checked. */
function WatchedWorkflows({ form, onChange, self, error }: { form: FormState; onChange: (all: boolean, ids: number[]) => void; self?: number; error?: string }) {
  const ws = useWorkspace().current?.id;
  const { data } = useQuery(queries.workflowNames(ws));
  const candidates = (data?.items ?? []).filter((w) => w.trigger_type !== 'run_failed' && w.id !== self);
  return (
    <fieldset className="needs">
      <legend>Starts when a run of these fails (it gets what failed as its payload)</legend>
      <label className="check">
        <input type="radio" name="watch_all" checked={form.watch_all} onChange={() => onChange(true, form.watched)} />
        any workflow of this workspace
      </label>
      <label className="check">
        <input type="radio" name="watch_all" checked={!form.watch_all} onChange={() => onChange(false, form.watched)} />
        only these:
      </label>
      {!form.watch_all && candidates.map((w) => (
        <label className="check" key={w.id}>
          <input
            type="checkbox"
            name={`watched-${w.id}`}
            checked={form.watched.includes(w.id)}
            onChange={(e) => onChange(false, e.target.checked ? [...form.watched, w.id] : form.watched.filter((x) => x !== w.id))}
          />
          {w.name}
        </label>
      ))}
      {error && <small className="error">{error}</small>}
    </fieldset>
  );
}

/** A signing secret is shown once by the API; keep it for this browser tab so the workflow page can reveal it. */
export const sessionSecret = {
  secrets: new Map<number, string>(),
  set(id: number, secret: string) { this.secrets.set(id, secret); },
  get(id: number) { return this.secrets.get(id); },
};
