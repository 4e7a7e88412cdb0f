import { useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError } from '../api';
import type { components } from '../api-types';
import { CodeEditor } from '../CodeEditor';
import { CopyButton, Field } from '../ui';
import { useWorkspace } from '../workspace';
import { queries } from '../queries';
import { useQuery } from '@tanstack/react-query';

/** A step as the API has it (the generated schema: a field added there reaches the editor's types). */
export type Step = components['schemas']['Step'];

/**
 * One step as the editor holds it: text fields (headers as "Name: value" lines, numbers as typed), and the step as
 * it was loaded, so that a field the editor does not show is saved back unchanged rather than dropped (the whole
 * `steps` array is PATCHed).
 */
export interface StepDraft {
  key: string;
  method: string;
  url: string;
  headers: string;
  body: string;
  when: string;
  needs: string[];
  run_if: RunIf;
  /** A workflow's id as typed: the step runs that workflow instead of sending a request ('' for a request step). */
  workflow: string;
  /** A JSONata expression giving the items to send the step for, one delivery each ('' for one delivery). */
  for_each: string;
  concurrency: string;
  credential: string;
  max_attempts: string;
  timeout: string;
  /** Wait before sending: '' (no wait), a delay, or a callback to its resume URL. */
  wait_for: '' | 'delay' | 'callback' | 'approval';
  /** The delay's duration, or the callback's timeout (ISO 8601: PT10M, P3D); until is carried. */
  wait_value: string;
  /** A callback's or approval's timeout policy: fail the step, or go on with no response (timed_out). */
  wait_on_timeout: 'fail' | 'continue';
  /** An approval: the lowest role that may decide it (each role admits the ones above), and its message (a template). */
  wait_role: 'editor' | 'admin' | 'owner';
  wait_message: string;
  original: Partial<Step>;
}

/** The fields the editor shows; every other field of a step is carried in {@link StepDraft.original}. */
export const EDITED = ['key', 'method', 'url', 'workflow', 'for_each', 'concurrency', 'headers', 'body', 'when', 'needs', 'run_if', 'credential', 'max_attempts', 'timeout', 'wait'] as const;

/** When a step with needs starts (the schema's enum), with the words the editor shows. */
export type RunIf = NonNullable<Step['run_if']>;
export const RUN_IF: { value: RunIf; label: string }[] = [
  { value: 'all_succeeded', label: 'when every step it needs succeeded' },
  { value: 'any_succeeded', label: 'when any of them succeeded (merge after branches)' },
  { value: 'always', label: 'when they all finished, whatever the outcome (finally)' },
  { value: 'any_failed', label: 'when any of them failed (error path; reads failed)' },
];

export const METHODS = ['POST', 'GET', 'PUT', 'PATCH', 'DELETE'];

export function newStep(existing: StepDraft[]): StepDraft {
  let n = existing.length + 1;
  while (existing.some((s) => s.key === `step${n}`)) n++;
  return { key: `step${n}`, method: 'POST', url: '', headers: '', body: '', when: '', needs: [], run_if: 'all_succeeded', workflow: '', for_each: '', concurrency: '', credential: '', max_attempts: '', timeout: '', wait_for: '', wait_value: '', wait_on_timeout: 'fail', wait_role: 'admin', wait_message: '', original: {} };
}

/** The API's step objects from the editor's drafts (empty fields left out, so that defaults apply). */
export function toSteps(drafts: StepDraft[]): Record<string, unknown>[] {
  return drafts.map((d) => {
    const step: Record<string, unknown> = { ...d.original };
    for (const field of EDITED) delete step[field];
    step.key = d.key.trim();
    if (d.wait_for) {
      // the wait as stored when its kind is unchanged (until, on_timeout kept), with the duration or timeout edited
      const before = (d.original.wait ?? {}) as Record<string, unknown>;
      const wait: Record<string, unknown> = before.for === d.wait_for ? { ...before } : { for: d.wait_for };
      const value = d.wait_value.trim();
      if (d.wait_for === 'delay' && value) {
        wait.duration = value;
        delete wait.until;
      } else if (d.wait_for === 'callback' || d.wait_for === 'approval') {
        if (value) wait.timeout = value;
        else delete wait.timeout;
        if (d.wait_on_timeout === 'continue') wait.on_timeout = 'continue';
        else if (wait.on_timeout !== 'fail') delete wait.on_timeout;
      }
      if (d.wait_for === 'approval') {
        // the roles as the API set them while they admit the same members, else the one chosen
        if (lowestRole(wait.roles) !== d.wait_role) wait.roles = [d.wait_role];
        if (d.wait_message.trim()) wait.message = d.wait_message;
        else delete wait.message;
      }
      step.wait = wait;
    }
    if (d.workflow.trim()) {
      // runs a workflow: no request of its own (url, method, headers, credential and timeout are for requests)
      step.workflow = numberOrText(d.workflow);
    } else if (!d.url.trim() && step.wait) {
      // a step that only waits (its wait is carried from the API): no request
    } else {
      step.url = d.url.trim();
      if (d.method !== 'POST') step.method = d.method;
      const headers: Record<string, string> = {};
      for (const line of d.headers.split('\n')) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      }
      if (Object.keys(headers).length) step.headers = headers;
      if (d.credential) step.credential = d.credential;
      if (d.timeout.trim()) step.timeout = numberOrText(d.timeout);
    }
    if (d.for_each.trim()) {
      step.for_each = d.for_each;
      if (d.concurrency.trim()) step.concurrency = numberOrText(d.concurrency);
    }
    if (d.body.trim()) step.body = d.body;
    if (d.when.trim()) step.when = d.when;
    if (d.needs.length) step.needs = d.needs;
    if (d.needs.length && d.run_if !== 'all_succeeded') step.run_if = d.run_if;
    // numbers as typed: a number when it is one, else the text, for the API to name the field and the reason
    if (d.max_attempts.trim()) step.max_attempts = numberOrText(d.max_attempts);
    return step;
  });
}

function numberOrText(v: string): number | string {
  const t = v.trim();
  return /^\d+$/.test(t) ? Number(t) : t;
}

function waitOf(s: Record<string, unknown>): Record<string, unknown> {
  return (s.wait ?? {}) as Record<string, unknown>;
}

/** Drafts from the API's steps. */
export function fromSteps(steps: Record<string, unknown>[]): StepDraft[] {
  return steps.map((s) => ({
    key: String(s.key ?? ''),
    method: String(s.method ?? 'POST'),
    url: String(s.url ?? ''),
    headers: Object.entries((s.headers ?? {}) as Record<string, string>).map(([k, v]) => `${k}: ${v}`).join('\n'),
    body: typeof s.body === 'string' ? s.body : '',
    when: typeof s.when === 'string' ? s.when : '',
    needs: Array.isArray(s.needs) ? (s.needs as string[]) : [],
    run_if: RUN_IF.some((r) => r.value === s.run_if) ? (s.run_if as RunIf) : 'all_succeeded',
    workflow: s.workflow == null ? '' : String(s.workflow),
    for_each: typeof s.for_each === 'string' ? s.for_each : '',
    concurrency: s.concurrency == null ? '' : String(s.concurrency),
    credential: typeof s.credential === 'string' ? s.credential : '',
    max_attempts: s.max_attempts == null ? '' : String(s.max_attempts),
    timeout: s.timeout == null ? '' : String(s.timeout),
    wait_for: ['delay', 'callback', 'approval'].includes(String(waitOf(s).for)) ? (waitOf(s).for as StepDraft['wait_for']) : '',
    wait_value: String(waitOf(s).for === 'delay' ? (waitOf(s).duration ?? '') : (waitOf(s).timeout ?? '')),
    wait_on_timeout: waitOf(s).on_timeout === 'continue' ? 'continue' : 'fail',
    wait_role: lowestRole(waitOf(s).roles),
    wait_message: typeof waitOf(s).message === 'string' ? (waitOf(s).message as string) : '',
    original: { ...(s as Partial<Step>) },
  }));
}

const ROLES = ['viewer', 'editor', 'admin', 'owner'] as const;

/** The lowest role of an approval's roles (who may decide: that role and the ones above it); admin when none. */
export function lowestRole(roles: unknown): StepDraft['wait_role'] {
  const given = Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
  const lowest = ROLES.find((r) => given.includes(r));
  return lowest === 'editor' || lowest === 'owner' ? lowest : lowest === 'viewer' ? 'editor' : 'admin';
}

/** Each step's depth: 0 for steps that need nothing, else one more than the deepest step it needs (cycles: 0). */
export function depths(drafts: StepDraft[]): Map<string, number> {
  const byKey = new Map(drafts.map((d) => [d.key, d]));
  const memo = new Map<string, number>();
  const depth = (key: string, seen: Set<string>): number => {
    if (memo.has(key)) return memo.get(key)!;
    if (seen.has(key)) return 0;
    seen.add(key);
    const d = byKey.get(key);
    const value = d && d.needs.length ? 1 + Math.max(...d.needs.filter((n) => byKey.has(n)).map((n) => depth(n, seen)), -1) : 0;
    seen.delete(key);
    memo.set(key, value);
    return value;
  };
  drafts.forEach((d) => depth(d.key, new Set()));
  return memo;
}

/** The request as a curl command (a credential is applied by KiKonect when sending, so it only appears as a comment). */
export function asCurl(r: { method: string; url: string; headers: Record<string, string>; body: string | null; credential?: string }): string {
  const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  const parts = [`curl -X ${r.method} ${q(r.url)}`];
  for (const [k, v] of Object.entries(r.headers)) parts.push(`-H ${q(`${k}: ${v}`)}`);
  if (r.body !== null) parts.push(`--data-raw ${q(r.body)}`);
  return parts.join(' \\\n  ') + (r.credential ? `\n# KiKonect adds ${r.credential} when it sends` : '');
}

type DryRun = {
  filtered: boolean;
  steps: { key: string | null; status: string; needs: string[]; request: { method: string; url: string; headers: Record<string, string>; body: string | null; credential?: string; items?: number; first_items?: { index: number; item: unknown; url: string; body: string | null }[] } | null; error: { field?: string; reason?: string; position?: number | null } | null }[];
};

/**
 * The step editor: add, remove and order steps; per step method, URL, headers, body and `when` (JSONata, with
 * highlighting), `needs` (and the graph they make), a credential; a sample payload (from the workflow's latest run,
 * or typed) and a live preview of what each step would send, from the dry-run endpoint, errors at their position.
 */
export function StepsEditor({ drafts, onChange, filter, onFilter, errorOf, workflowId }: {
  drafts: StepDraft[];
  onChange: (drafts: StepDraft[]) => void;
  filter: string;
  onFilter: (filter: string) => void;
  errorOf: (field: string) => string | undefined;
  workflowId?: number;
}) {
  const [sample, setSample] = useState('{\n  "hello": "world"\n}');
  const [preview, setPreview] = useState<DryRun | null>(null);
  const [previewError, setPreviewError] = useState<ApiError | null>(null);
  const ws = useWorkspace().current?.id;
  const credentialList = useQuery(queries.credentials(ws)).data;
  const credentials = useMemo(() => (credentialList?.items ?? []).map((i) => i.name), [credentialList]);
  // the latest run's payload makes the best sample
  const latest = useQuery({ ...queries.runs(ws, { workflow_id: workflowId, limit: 1 }), enabled: workflowId !== undefined }).data?.items[0]?.id;
  const latestRun = useQuery({ ...queries.run(ws, latest ?? 0), enabled: latest !== undefined }).data;
  const sampled = useRef(false);
  useEffect(() => {
    if (latestRun && !sampled.current) {
      sampled.current = true; // once: a refetch must not replace what the user typed
      setSample(JSON.stringify(latestRun.payload, null, 2));
    }
  }, [latestRun]);

  const steps = useMemo(() => toSteps(drafts), [drafts]);
  useEffect(() => {
    let payload: unknown;
    try {
      payload = JSON.parse(sample || '{}');
    } catch (e) {
      setPreview(null);
      setPreviewError(new ApiError(400, 'sample', 'Sample', 'The sample payload is not JSON: ' + (e as Error).message, []));
      return;
    }
    const timer = setTimeout(() => {
      const workflow: Record<string, unknown> = { steps };
      if (filter.trim()) workflow.filter = filter;
      api.dryRun({ workflow, payload }).then(
        (r) => { setPreview(r as DryRun); setPreviewError(null); },
        (e) => { setPreview(null); setPreviewError(e instanceof ApiError ? e : null); },
      );
    }, 400);
    return () => clearTimeout(timer);
  }, [steps, filter, sample]);

  const update = (i: number, change: Partial<StepDraft>) => onChange(drafts.map((d, j) => (j === i ? { ...d, ...change } : d)));
  const move = (i: number, by: number) => {
    const next = [...drafts];
    const [step] = next.splice(i, 1);
    next.splice(i + by, 0, step);
    onChange(next);
  };
  const remove = (i: number) => {
    const gone = drafts[i].key;
    onChange(drafts.filter((_, j) => j !== i).map((d) => ({ ...d, needs: d.needs.filter((n) => n !== gone) })));
  };
  const levels = depths(drafts);
  const columns: string[][] = [];
  drafts.forEach((d) => {
    const level = levels.get(d.key) ?? 0;
    (columns[level] ??= []).push(d.key);
  });

  return (
    <div className="steps-editor">
      <Field label="Filter (JSONata, optional): runs only when true" error={errorOf('filter')}>
        <input name="filter" value={filter} placeholder="payload.ref = 'refs/heads/main'" onChange={(e) => onFilter(e.target.value)} />
      </Field>
      <div className="graph" aria-label="Step graph" role="img">
        {columns.map((keys, level) => (
          <div className="graph-column" key={level}>
            {keys.map((k) => {
              const d = drafts.find((x) => x.key === k)!;
              return <span className="graph-node" key={k} title={d.needs.length ? `needs ${d.needs.join(', ')}` : 'starts at once'}>{k}</span>;
            })}
          </div>
        ))}
      </div>
      {drafts.map((d, i) => (
        <fieldset className="card step" key={i} data-step={i}>
          <legend>Step {i + 1}: {d.key || '…'}</legend>
          <div className="row">
            <Field label="Key" error={errorOf(`steps[${i}].key`)}>
              <input name={`step-${i}-key`} value={d.key} onChange={(e) => {
                const old = d.key;
                const key = e.target.value;
                onChange(drafts.map((x, j) => (j === i ? { ...x, key } : { ...x, needs: x.needs.map((n) => (n === old ? key : n)) })));
              }} />
            </Field>
            <Field label="Method" error={errorOf(`steps[${i}].method`)}>
              <select name={`step-${i}-method`} value={d.method} onChange={(e) => update(i, { method: e.target.value })}>
                {METHODS.map((m) => <option key={m}>{m}</option>)}
              </select>
            </Field>
            <Field label="Credential" error={errorOf(`steps[${i}].credential`)}>
              <select name={`step-${i}-credential`} value={d.credential} onChange={(e) => update(i, { credential: e.target.value })}>
                <option value="">none</option>
                {[...new Set([...credentials, ...(d.credential ? [d.credential] : [])])].map((c) => <option key={c}>{c}</option>)}
              </select>
            </Field>
            <Field label="Max attempts (1-20; empty: the workflow's)" error={errorOf(`steps[${i}].max_attempts`)}>
              <input name={`step-${i}-max-attempts`} inputMode="numeric" value={d.max_attempts} placeholder="workflow's"
                onChange={(e) => update(i, { max_attempts: e.target.value })} />
            </Field>
            <Field label="Timeout (seconds; empty: default)" error={errorOf(`steps[${i}].timeout`)}>
              <input name={`step-${i}-timeout`} inputMode="numeric" value={d.timeout} placeholder="default"
                onChange={(e) => update(i, { timeout: e.target.value })} />
            </Field>
          </div>
          <Field label="Runs workflow (its id; empty: the step sends the request below)" error={errorOf(`steps[${i}].workflow`)}>
            <input name={`step-${i}-workflow`} inputMode="numeric" value={d.workflow} placeholder="a request" onChange={(e) => update(i, { workflow: e.target.value })} />
          </Field>
          {!d.workflow.trim() && (
            <Field label="URL ({{ JSONata }} templates allowed)" error={errorOf(`steps[${i}].url`)}>
              <input name={`step-${i}-url`} value={d.url} placeholder="https://api.example.com/items/{{ payload.id }}" onChange={(e) => update(i, { url: e.target.value })} />
            </Field>
          )}
          <Field label="Headers, one per line: Name: value" error={errorOf(`steps[${i}].headers`)}>
            <textarea name={`step-${i}-headers`} rows={2} value={d.headers} onChange={(e) => update(i, { headers: e.target.value })} />
          </Field>
          <div className={`field ${errorOf(`steps[${i}].body`) ? 'invalid' : ''}`}>
            <span>Body (JSONata; empty: the trigger payload as received)</span>
            <CodeEditor name={`step-${i}-body`} label={`Body of step ${d.key}`} language="jsonata" value={d.body} onChange={(body) => update(i, { body })} />
            {errorOf(`steps[${i}].body`) && <small className="error">{errorOf(`steps[${i}].body`)}</small>}
          </div>
          <div className="row">
            <Field label="For each (JSONata list, optional): one delivery per item, with item and index" error={errorOf(`steps[${i}].for_each`)}>
              <input name={`step-${i}-for_each`} value={d.for_each} placeholder="payload.order.lines" onChange={(e) => update(i, { for_each: e.target.value })} />
            </Field>
            {d.for_each.trim() && (
              <Field label="Items at once (1-100; empty: 10)" error={errorOf(`steps[${i}].concurrency`)}>
                <input name={`step-${i}-concurrency`} inputMode="numeric" value={d.concurrency} placeholder="10" onChange={(e) => update(i, { concurrency: e.target.value })} />
              </Field>
            )}
          </div>
          <div className="row">
            <Field label="Wait before sending" error={errorOf(`steps[${i}].wait`) ?? errorOf(`steps[${i}].wait.for`)}>
              <select name={`step-${i}-wait_for`} value={d.wait_for} onChange={(e) => update(i, { wait_for: e.target.value as StepDraft['wait_for'] })}>
                <option value="">no wait</option>
                <option value="delay">a delay (then sent; without URL it only waits)</option>
                <option value="callback">a callback to waits.{d.key || 'key'}.url (no URL)</option>
                <option value="approval">an approval by a member (no URL)</option>
              </select>
            </Field>
            {d.wait_for && (
              <Field label={d.wait_for === 'delay' ? 'For how long (ISO 8601: PT10M, P3D)' : 'Timeout (ISO 8601, empty: P366D)'}
                error={errorOf(`steps[${i}].wait.duration`) ?? errorOf(`steps[${i}].wait.timeout`)}>
                <input name={`step-${i}-wait_value`} value={d.wait_value} placeholder={d.wait_for === 'delay' ? 'PT1H' : 'P7D'} onChange={(e) => update(i, { wait_value: e.target.value })} />
              </Field>
            )}
            {(d.wait_for === 'callback' || d.wait_for === 'approval') && (
              <Field label="At the timeout" error={errorOf(`steps[${i}].wait.on_timeout`)}>
                <select name={`step-${i}-wait_on_timeout`} value={d.wait_on_timeout} onChange={(e) => update(i, { wait_on_timeout: e.target.value as StepDraft['wait_on_timeout'] })}>
                  <option value="fail">fail the step</option>
                  <option value="continue">go on with no response (timed_out)</option>
                </select>
              </Field>
            )}
          </div>
          {d.wait_for === 'approval' && (
            <div className="row">
              <Field label="Who may decide" error={errorOf(`steps[${i}].wait.roles`)}>
                <select name={`step-${i}-wait_role`} value={d.wait_role} onChange={(e) => update(i, { wait_role: e.target.value as StepDraft['wait_role'] })}>
                  <option value="editor">editors, admins and owners</option>
                  <option value="admin">admins and owners</option>
                  <option value="owner">owners</option>
                </select>
              </Field>
              <Field label="Message to the approver (a template: {{ payload.amount }})" error={errorOf(`steps[${i}].wait.message`)}>
                <input name={`step-${i}-wait_message`} value={d.wait_message} placeholder="Refund {{ payload.amount }}?" onChange={(e) => update(i, { wait_message: e.target.value })} />
              </Field>
            </div>
          )}
          <Field label="When (JSONata, optional): the step runs only when true" error={errorOf(`steps[${i}].when`)}>
            <input name={`step-${i}-when`} value={d.when} onChange={(e) => update(i, { when: e.target.value })} />
          </Field>
          {drafts.length > 1 && (
            <fieldset className="needs">
              <legend>Needs (runs after these)</legend>
              {drafts.filter((o) => o.key !== d.key).map((o) => (
                <label className="check" key={o.key}>
                  <input
                    type="checkbox"
                    name={`step-${i}-needs-${o.key}`}
                    checked={d.needs.includes(o.key)}
                    onChange={(e) => update(i, { needs: e.target.checked ? [...d.needs, o.key] : d.needs.filter((n) => n !== o.key) })}
                  />
                  {o.key}
                </label>
              ))}
            </fieldset>
          )}
          {d.needs.length > 0 && (
            <Field label="Runs" error={errorOf(`steps[${i}].run_if`)}>
              <select name={`step-${i}-run_if`} value={d.run_if} onChange={(e) => update(i, { run_if: e.target.value as RunIf })}>
                {RUN_IF.map((r) => <option key={r.value} value={r.value}>{r.label}</option>)}
              </select>
            </Field>
          )}
          <div className="actions">
            <button type="button" className="secondary" disabled={i === 0} onClick={() => move(i, -1)} aria-label={`Move ${d.key} up`}>Up</button>
            <button type="button" className="secondary" disabled={i === drafts.length - 1} onClick={() => move(i, 1)} aria-label={`Move ${d.key} down`}>Down</button>
            <button type="button" className="danger" disabled={drafts.length === 1} onClick={() => remove(i)}>Remove step</button>
          </div>
        </fieldset>
      ))}
      <button type="button" className="secondary" disabled={drafts.length >= 20} onClick={() => onChange([...drafts, newStep(drafts)])}>Add step</button>

      <h2>Try it</h2>
      <div className="field">
        <span>Sample payload (JSON){workflowId ? ': the latest run’s, or your own' : ''}</span>
        <CodeEditor name="sample-payload" label="Sample payload" language="json" value={sample} onChange={setSample} />
      </div>
      <div className="preview" aria-live="polite" data-testid="step-preview">
        <strong>What each step would send</strong>
        {previewError && (
          <ul className="error">
            {previewError.errors.length ? previewError.errors.map((e) => <li key={e.field}>{e.field}: {e.reason}</li>) : <li>{previewError.message}</li>}
          </ul>
        )}
        {preview?.filtered && <p className="muted">The filter is false for this payload: the run would be recorded as filtered, nothing sent.</p>}
        {preview && !preview.filtered && preview.steps.map((s, i) => (
          <div key={i} className="preview-step" data-status={s.status}>
            <p><code>{s.key}</code> <span className={`badge status-${s.status === 'would_send' ? 'succeeded' : s.status === 'error' ? 'failed' : 'skipped'}`}>{s.status.replace('_', ' ')}</span></p>
            {s.request && (
              <div className="copy-row">
                <pre className="small">{`${s.request.method} ${s.request.url}\n${Object.entries(s.request.headers).map(([k, v]) => `${k}: ${v}`).join('\n')}${s.request.credential ? `\n${s.request.credential}` : ''}${s.request.body !== null ? `\n\n${s.request.body}` : ''}`}</pre>
                <CopyButton text={asCurl(s.request)} label="Copy as curl" />
              </div>
            )}
            {s.request?.items != null && (
              <div className="muted" data-testid="preview-items">
                <p>For each of {s.request.items} item{s.request.items === 1 ? '' : 's'} (above: item 0's request){s.request.first_items && s.request.first_items.length > 1 ? '; the next:' : ''}</p>
                {(s.request.first_items ?? []).slice(1).map((it) => (
                  <pre key={it.index} className="small">{`item ${it.index}: ${s.request!.method} ${it.url}${it.body !== null ? `\n${it.body}` : ''}`}</pre>
                ))}
              </div>
            )}
            {s.error && <p className="error">{s.error.field}: {s.error.reason}</p>}
          </div>
        ))}
      </div>
    </div>
  );
}
