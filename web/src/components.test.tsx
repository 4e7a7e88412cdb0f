import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/react';
import { triggerConfig } from './pages/WorkflowFormPage';
import { headline } from './pages/DashboardPage';
import { successRate } from './pages/WorkflowsPage';
import { Field, StatusBadge } from './ui';
import type { Stats, Workflow } from './api';

describe('the workflow form', () => {
  const base = {
    name: 'n', action_url: 'https://x', interval_minutes: '5', expression: '0 9 * * *', timezone: 'Europe/Berlin',
    payload: '', max_attempts: '', misfire: 'fire_once', overlap: 'allow', on_failure_url: '', mode: 'url' as const, steps: [], filter: '',
    output: '', watch_all: true, watched: [] as number[],
    get_too: false, respond_body: '', respond_status: '200', respond_mode: 'immediate' as const, respond_step: '', respond_timeout: '10s', original_config: {} as Record<string, unknown>,
  };

  it('builds an interval config with its JSON payload', () => {
    expect(triggerConfig({ ...base, trigger_type: 'interval', payload: '{"a": 1}' })).toEqual({ config: { payload: { a: 1 }, interval_minutes: 5 } });
  });

  it('refuses a payload that is not JSON instead of sending it', () => {
    const result = triggerConfig({ ...base, trigger_type: 'cron', payload: '{a: 1' });
    expect(result.payloadError).toMatch(/not valid JSON/);
  });

  it('builds a cron config with expression and time zone', () => {
    expect(triggerConfig({ ...base, trigger_type: 'cron' }).config).toEqual({ expression: '0 9 * * *', timezone: 'Europe/Berlin' });
  });

  it('builds a webhook\u2019s answer and keeps what the form does not show, without the token', () => {
    const original_config = { token: 't0k3n', verify: 'header', header_name: 'X-Key', secret: 's3cr3t-value' };
    expect(triggerConfig({ ...base, trigger_type: 'webhook', original_config }).config).toEqual({ verify: 'header', header_name: 'X-Key', secret: 's3cr3t-value' });
    expect(triggerConfig({ ...base, trigger_type: 'webhook', original_config, get_too: true, respond_body: 'query.`hub.challenge`', respond_status: '200' }).config)
      .toEqual({ verify: 'header', header_name: 'X-Key', secret: 's3cr3t-value', methods: ['POST', 'GET'], respond: { mode: 'immediate', status: 200, headers: {}, body: 'query.`hub.challenge`' } });
  });

  it('keeps an answer that waits for a step: its step, timeout, own status and headers', () => {
    const original_config = { token: 't0k3n', respond: { mode: 'step', step: 'price', timeout: '5s', status: null, headers: { 'X-Order': '{{ payload.id }}' }, body: null } };
    expect(triggerConfig({ ...base, trigger_type: 'webhook', original_config, respond_mode: 'step', respond_step: 'price', respond_timeout: '5s', respond_status: '', respond_body: '' }).config)
      .toEqual({ respond: { mode: 'step', step: 'price', timeout: '5s', status: null, headers: { 'X-Order': '{{ payload.id }}' }, body: null } });
  });

  it('builds an error workflow\u2019s config: every workflow, or the ones checked', () => {
    expect(triggerConfig({ ...base, trigger_type: 'run_failed' }).config).toEqual({ workflows: 'all' });
    expect(triggerConfig({ ...base, trigger_type: 'run_failed', watch_all: false, watched: [4, 7] }).config).toEqual({ workflows: [4, 7] });
  });
});

describe('fields and badges', () => {
  it('shows the error next to its field, labelled for assistive tech', () => {
    render(<Field label="Email" error="must be an email address"><input name="email" /></Field>);
    expect(screen.getByLabelText(/Email/)).toBeTruthy();
    expect(screen.getByText('must be an email address').className).toContain('error');
  });

  it('colours a status badge by status', () => {
    render(<StatusBadge status="failed" />);
    expect(screen.getByText('failed').className).toContain('status-failed');
  });
});

describe('the dashboard figures', () => {
  const stats = {
    since: '2026-11-25T13:00:00Z', until: '2026-11-26T12:30:00Z', runs: 10_000,
    by_status: { pending: 0, running: 0, retrying: 0, succeeded: 8_000, failed: 1_500, cancelled: 300, skipped: 200, filtered: 0 },
    success_rate: 8_000 / 9_500, latency: { p50_ms: 4, p95_ms: 40, max_ms: 900 }, hourly: [],
    workflows: [{ workflow_id: 3, runs: 10, succeeded: 9, failed: 1, success_rate: 0.9, last_run_at: '2026-11-26T12:00:00Z' }],
  } as Stats;

  it('shows what the database counted, not a sample', () => {
    expect(headline(stats)).toEqual({ runs: 10_000, failed: 1_500, successPercent: 84.2, p50: 4, p95: 40 });
  });

  it('gives each workflow its own 24-hour success rate and a dash when it has none', () => {
    expect(successRate({ id: 3 } as Workflow, stats)).toBe('90%');
    expect(successRate({ id: 4 } as Workflow, stats)).toBe('—');
    expect(successRate({ id: 3 } as Workflow, undefined)).toBe('—');
  });
});

describe('the credentials page', () => {
  it('sends only the fields of the chosen type that were filled in', async () => {
    const { credentialBody } = await import('./pages/CredentialsPage');
    expect(credentialBody('oauth2_client_credentials', { token_url: 'https://id.example/token', client_id: 'c', client_secret: 's', scope: '', value: 'stray' }))
      .toEqual({ token_url: 'https://id.example/token', client_id: 'c', client_secret: 's' });
    expect(credentialBody('header', { header_name: 'X-Api-Key', value: 'v' })).toEqual({ header_name: 'X-Api-Key', value: 'v' });
    const { hostList } = await import('./pages/CredentialsPage');
    expect(hostList(' api.example.com, *.example.net  erp.example.org ,')).toEqual(['api.example.com', '*.example.net', 'erp.example.org']);
  });
});

describe('roles and the audit log', () => {
  it('ranks roles so that each includes the ones below it', async () => {
    const { atLeast } = await import('./api');
    expect(atLeast('owner', 'admin')).toBe(true);
    expect(atLeast('editor', 'editor')).toBe(true);
    expect(atLeast('viewer', 'editor')).toBe(false);
    expect(atLeast(undefined, 'viewer')).toBe(false);
  });

  it('writes what changed as before → after, and secrets as [changed]', async () => {
    const { describeChanges } = await import('./pages/AuditPage');
    expect(describeChanges({ name: { before: 'a', after: 'b' }, signing_secret: '[changed]' })).toBe('name: a → b; signing_secret: [changed]');
    expect(describeChanges({ role: { after: 'viewer' } })).toBe('role: — → viewer');
    expect(describeChanges(null)).toBe('');
  });
});

describe('no double actions', () => {
  it('runs one request for two clicks in a row and reports busy meanwhile', async () => {
    const { renderHook, act } = await import('@testing-library/react');
    const { useBusy } = await import('./ui');
    const { QueryClientProvider } = await import('@tanstack/react-query');
    const { queryClient } = await import('./query');
    const refreshed = vi.spyOn(queryClient, 'invalidateQueries');
    const { result } = renderHook(() => useBusy([['ws', 1, 'runs']]), {
      wrapper: ({ children }) => <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>,
    });
    let release: () => void = () => {};
    const work = vi.fn(() => new Promise<void>((r) => { release = r; }));
    let first: Promise<unknown> = Promise.resolve();
    await act(async () => {
      first = result.current[1](work);
      void result.current[1](work); // the second click while the first is in flight
    });
    expect(work).toHaveBeenCalledTimes(1);
    expect(result.current[0]).toBe(true);
    await act(async () => {
      release();
      await first;
    });
    expect(result.current[0]).toBe(false);
    expect(refreshed.mock.calls.map((c) => c[0]?.queryKey)).toEqual([['ws', 1, 'runs']]); // what it named, nothing else
  });
});

describe('fields for assistive tech', () => {
  it('marks an invalid control and points it at its reason', () => {
    const { container } = render(<Field label="Title" error="must not be blank"><input name="title" /></Field>);
    const input = container.querySelector('input[name=title]')!;
    expect(input.getAttribute('aria-invalid')).toBe('true');
    const reason = document.getElementById(input.getAttribute('aria-describedby') ?? '');
    expect(reason?.textContent).toBe('must not be blank');
  });

  it('points a valid control at its hint and does not call it invalid', () => {
    const { container } = render(<Field label="Contact" hint="We never share it"><input name="contact" /></Field>);
    const input = container.querySelector('input[name=contact]')!;
    expect(input.getAttribute('aria-invalid')).toBeNull();
    expect(document.getElementById(input.getAttribute('aria-describedby') ?? '')?.textContent).toBe('We never share it');
  });
});

describe('the runs explorer', () => {
  it('reads its filters from the URL, relative ranges from when they were chosen', async () => {
    const { runFilters } = await import('./pages/RunsPage');
    const now = Date.parse('2026-11-26T12:00:00Z');
    const f = runFilters(new URLSearchParams('workflow=3&status=failed&trigger=webhook&range=24h'), now);
    expect(f.range).toBe('24h');
    expect(f.params).toEqual({ workflow_id: 3, status: 'failed', trigger: 'webhook', created_after: '2026-11-25T12:00:00.000Z', created_before: undefined });
    expect(runFilters(new URLSearchParams('range=nonsense'), now).range).toBe('all');
    expect(runFilters(new URLSearchParams(''), now).params.created_after).toBeUndefined();
  });

  it('replays all matching with every filter the list uses, and only those', async () => {
    const { runFilters, replayFilter } = await import('./pages/RunsPage');
    const now = Date.parse('2026-11-26T12:00:00Z');
    for (const query of ['trigger=cron', 'workflow=3', 'status=failed', 'range=1h', 'range=custom&from=2026-11-01T00:00&to=2026-11-02T00:00',
      'workflow=3&status=failed&trigger=webhook&range=24h']) {
      const params = runFilters(new URLSearchParams(query), now).params;
      const body = replayFilter(params);
      expect(Object.keys(body).sort()).toEqual(Object.keys(params).sort());
      expect(body).toEqual(params);
    }
  });
});

describe('copy without the Clipboard API', () => {
  it('selects the text next to the button and says how to finish', async () => {
    const { CopyButton } = await import('./ui');
    const { fireEvent } = await import('@testing-library/react');
    const saved = Object.getOwnPropertyDescriptor(navigator, 'clipboard');
    Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true });
    try {
      const { container } = render(<div className="copy-row"><code>https://kikonect.example.com/hooks/abc</code><CopyButton text="https://kikonect.example.com/hooks/abc" /></div>);
      const button = container.querySelector('button')!;
      fireEvent.click(button);
      expect(window.getSelection()?.toString()).toBe('https://kikonect.example.com/hooks/abc');
      expect(button.textContent).toBe('Selected: press Ctrl+C');
    } finally {
      if (saved) Object.defineProperty(navigator, 'clipboard', saved);
    }
  });
});

describe('the step editor', () => {
  it('turns drafts into the API\u2019s steps and back, leaving defaults out', async () => {
    const { toSteps, fromSteps } = await import('./pages/StepsEditor');
    const drafts = [
      { key: 'ticket', method: 'POST', url: 'https://t.example.com/api', headers: 'X-Repo: {{ payload.repo }}\nnot a header', body: "{ 'title': payload.title }", when: '', needs: [], run_if: 'all_succeeded' as const, workflow: '', for_each: '', concurrency: '', credential: 'erp-api', max_attempts: '', timeout: '', wait_for: '' as const, wait_value: '', wait_on_timeout: 'fail' as const, wait_role: 'admin' as const, wait_message: '', original: {} },
      { key: 'chat', method: 'PUT', url: 'https://c.example.com/{{ steps.ticket.response.body.id }}', headers: '', body: '', when: 'payload.loud', needs: ['ticket'], run_if: 'any_succeeded' as const, workflow: '', for_each: 'payload.lines', concurrency: '4', credential: '', max_attempts: '3', timeout: '', wait_for: '' as const, wait_value: '', wait_on_timeout: 'fail' as const, wait_role: 'admin' as const, wait_message: '', original: {} },
    ];
    const steps = toSteps(drafts);
    expect(steps).toEqual([
      { key: 'ticket', url: 'https://t.example.com/api', headers: { 'X-Repo': '{{ payload.repo }}' }, body: "{ 'title': payload.title }", credential: 'erp-api' },
      { key: 'chat', method: 'PUT', url: 'https://c.example.com/{{ steps.ticket.response.body.id }}', for_each: 'payload.lines', concurrency: 4, when: 'payload.loud', needs: ['ticket'], run_if: 'any_succeeded', max_attempts: 3 },
    ]);
    expect(toSteps(fromSteps(steps))).toEqual(steps);
  });

  it('edits a wait: a callback\u2019s timeout keeps its on_timeout, a delay its kind, no wait removes it', async () => {
    const { toSteps, fromSteps } = await import('./pages/StepsEditor');
    const [draft] = fromSteps([{ key: 'signed', wait: { for: 'callback', timeout: 'P7D', on_timeout: 'continue' } }]);
    expect(draft.wait_for).toBe('callback');
    expect(draft.wait_value).toBe('P7D');
    expect(toSteps([{ ...draft, wait_value: 'P2D' }])).toEqual([{ key: 'signed', wait: { for: 'callback', timeout: 'P2D', on_timeout: 'continue' } }]);
    expect(toSteps([{ ...draft, wait_for: 'delay', wait_value: 'PT5M' }])).toEqual([{ key: 'signed', wait: { for: 'delay', duration: 'PT5M' } }]);
    expect(toSteps([{ ...draft, wait_for: '', url: 'https://x.example.com' }])).toEqual([{ key: 'signed', url: 'https://x.example.com' }]);
  });

  it('keeps an approval\u2019s roles and message through the editor', async () => {
    const { toSteps, fromSteps } = await import('./pages/StepsEditor');
    const approval = { key: 'refund_ok', wait: { for: 'approval', roles: ['owner'], message: 'Refund {{ payload.amount }}?', timeout: 'P2D' } };
    const [draft] = fromSteps([approval]);
    expect(draft.wait_for).toBe('approval');
    expect(toSteps([draft])).toEqual([approval]);
    expect(toSteps([{ ...draft, wait_value: 'P1D' }])).toEqual([{ key: 'refund_ok', wait: { ...approval.wait, timeout: 'P1D' } }]);
    expect(draft.wait_role).toBe('owner');
    expect(toSteps([{ ...draft, wait_role: 'editor', wait_message: 'Refund {{ payload.amount }} to {{ payload.customer }}?', wait_on_timeout: 'continue' }]))
      .toEqual([{ key: 'refund_ok', wait: { for: 'approval', roles: ['editor'], message: 'Refund {{ payload.amount }} to {{ payload.customer }}?', timeout: 'P2D', on_timeout: 'continue' } }]);
    const [both] = fromSteps([{ key: 'k', wait: { for: 'approval', roles: ['owner', 'admin'] } }]);
    expect(both.wait_role).toBe('admin');
    expect(toSteps([both])).toEqual([{ key: 'k', wait: { for: 'approval', roles: ['owner', 'admin'] } }]);
  });

  it('keeps a step that only waits free of a URL', async () => {
    const { toSteps, fromSteps } = await import('./pages/StepsEditor');
    const pause = { key: 'pause', needs: ['first'], wait: { for: 'delay', duration: 'P3D' } };
    expect(toSteps(fromSteps([pause]))).toEqual([pause]);
  });

  it('round-trips every field of a step, the ones it does not show included', async () => {
    const { toSteps, fromSteps } = await import('./pages/StepsEditor');
    // Required<Step>: a field added to the schema does not compile here until this step sets it
    const every: Required<import('./pages/StepsEditor').Step> = {
      key: 'k', method: 'PATCH', url: 'https://x.example.com/{{ payload.id }}', headers: { 'X-A': '1', 'X-B': '{{ payload.b }}' },
      body: '{ "a": payload.a }', when: 'payload.go', needs: ['other'], run_if: 'any_failed', max_attempts: 5, timeout: 12, credential: 'erp-api',
      workflow: undefined as unknown as number, // a request step; a workflow step is below
      for_each: 'payload.items', concurrency: 3,
      wait: { for: 'delay', duration: 'PT10M' }, // not shown in the editor: carried
    };
    const unknown = { ...every, added_later: { kept: true } }; // a field the editor has never heard of
    expect(toSteps(fromSteps([every as unknown as Record<string, unknown>]))).toEqual([every]);
    expect(toSteps(fromSteps([unknown as unknown as Record<string, unknown>]))).toEqual([unknown]);
    // edited in the form: what was changed changes, what was emptied goes, the rest stays
    const [draft] = fromSteps([unknown as unknown as Record<string, unknown>]);
    const [saved] = toSteps([{ ...draft, timeout: '', max_attempts: '7', when: '' }]);
    expect(saved).toEqual({ ...unknown, timeout: undefined, when: undefined, max_attempts: 7 });
  });

  it('keeps a step that runs a workflow free of request fields', async () => {
    const { toSteps, fromSteps } = await import('./pages/StepsEditor');
    const call = { key: 'enrich', workflow: 42, body: "{ 'email': payload.email }", needs: ['a'], run_if: 'always' };
    expect(toSteps(fromSteps([call]))).toEqual([call]);
    const [draft] = fromSteps([call]);
    expect(toSteps([{ ...draft, url: 'https://left.over', method: 'PUT', headers: 'X-A: 1' }])).toEqual([call]);
    expect(toSteps([{ ...draft, workflow: '', url: 'https://x.example.com' }])).toEqual([{ key: 'enrich', url: 'https://x.example.com', body: call.body, needs: ['a'], run_if: 'always' }]);
  });

  it('lays the steps out by how deep their needs go', async () => {
    const { depths } = await import('./pages/StepsEditor');
    const d = (key: string, needs: string[]) => ({ key, method: 'POST', url: '', headers: '', body: '', when: '', needs, run_if: 'all_succeeded' as const, workflow: '', for_each: '', concurrency: '', credential: '', max_attempts: '', timeout: '', wait_for: '' as const, wait_value: '', wait_on_timeout: 'fail' as const, wait_role: 'admin' as const, wait_message: '', original: {} });
    const levels = depths([d('a', []), d('b', ['a']), d('c', ['a', 'b']), d('audit', []), d('x', ['y']), d('y', ['x'])]);
    expect(Object.fromEntries(levels)).toEqual({ a: 0, b: 1, c: 2, audit: 0, x: expect.any(Number), y: expect.any(Number) });
  });
});

describe('replaying an edited payload', () => {
  it('shows the lines it removes and adds', async () => {
    const { lineDiff } = await import('./pages/RunPage');
    const before = JSON.stringify({ order: 42, total: 10 }, null, 2);
    const after = JSON.stringify({ order: 42, total: 12, note: 'fixed' }, null, 2);
    const diff = lineDiff(before, after);
    expect(diff.filter((l) => l.kind === 'removed').map((l) => l.text.trim())).toEqual(['"total": 10']);
    expect(diff.filter((l) => l.kind === 'added').map((l) => l.text.trim())).toEqual(['"total": 12,', '"note": "fixed"']);
    expect(diff.filter((l) => l.kind === 'same').map((l) => l.text.trim())).toEqual(['{', '"order": 42,', '}']);
  });
});

describe('the dashboard links to its runs', () => {
  it('turns an hour of the chart into the runs explorer\u2019s filters for that hour', async () => {
    const { hourLink } = await import('./pages/DashboardPage');
    const { runFilters } = await import('./pages/RunsPage');
    const link = hourLink('2026-11-26T09:00:00Z', 'failed');
    const f = runFilters(new URLSearchParams(link.split('?')[1]), Date.now());
    expect(f.params.status).toBe('failed');
    expect(f.params.created_after).toBe('2026-11-26T09:00:00.000Z');
    expect(f.params.created_before).toBe('2026-11-26T10:00:00.000Z');
    expect(new URLSearchParams(hourLink('2026-11-26T09:00:00Z', 'other').split('?')[1]).has('status')).toBe(false);
  });
});

describe('times in their zone', () => {
  it('shows a schedule time in the workflow\u2019s zone and names it', async () => {
    const { whenIn } = await import('./ui');
    const text = whenIn('2026-11-27T03:30:00Z', 'Asia/Kolkata');
    expect(text).toContain('(Asia/Kolkata)');
    expect(text).toMatch(/9:00/);
    expect(whenIn('2026-11-27T03:30:00Z', 'Europe/Kyiv')).toMatch(/5:30.*\(Europe\/Kyiv\)/);
  });
});

describe('copy as curl', () => {
  it('quotes what the shell would break on', async () => {
    const { asCurl } = await import('./pages/StepsEditor');
    const curl = asCurl({ method: 'PUT', url: 'https://erp.example.com/orders/42', headers: { 'Content-Type': 'application/json' }, body: `{"note":"it's fine"}`, credential: '[credential erp-api]' });
    expect(curl).toBe(
      `curl -X PUT 'https://erp.example.com/orders/42' \\\n  -H 'Content-Type: application/json' \\\n  --data-raw '{"note":"it'\\''s fine"}'\n# KiKonect adds [credential erp-api] when it sends`,
    );
  });

  it("gives an attempt's request with the run's payload where the body was the payload", async () => {
    const { attemptCurl } = await import('./pages/RunPage');
    const sent = { method: 'POST', url: 'https://hooks.example.com/in', headers: { 'webhook-id': 'msg_1', 'webhook-signature': 'v1,abc=' }, body: null, body_is_payload: true };
    expect(attemptCurl(sent, { order: 42 })).toBe(
      `curl -X POST 'https://hooks.example.com/in' \\\n  -H 'webhook-id: msg_1' \\\n  -H 'webhook-signature: v1,abc=' \\\n  --data-raw '{"order":42}'`,
    );
    expect(attemptCurl({ ...sent, method: 'GET', body_is_payload: false }, { order: 42 })).not.toContain('--data-raw');
  });
});

describe('browser notifications', () => {
  it('turns the server’s base64url VAPID key into the bytes PushManager wants', async () => {
    const { keyBytes } = await import('./push');
    expect(Array.from(keyBytes('BP8A_-8'))).toEqual([0x04, 0xff, 0x00, 0xff, 0xef]);
  });

  it('turning one workflow’s notifications on or off keeps the others and the approvals (a PUT replaces all)', async () => {
    const { withWorkflow } = await import('./push');
    const before = { id: 3, workflows: [1, 2], approvals: true };
    expect(withWorkflow(before, 5, true)).toEqual({ id: 3, workflows: [1, 2, 5], approvals: true });
    expect(withWorkflow(before, 1, false)).toEqual({ id: 3, workflows: [2], approvals: true });
    expect(withWorkflow(before, 2, true).workflows).toEqual([1, 2]);
  });

  it('says why subscribing failed in words, not the browser’s error names', async () => {
    const { subscribeProblem } = await import('./push');
    const abort = Object.assign(new Error('Registration failed - push service error'), { name: 'AbortError' });
    expect(subscribeProblem(abort)).toMatch(/could not reach its push service/);
    const blocked = Object.assign(new Error('Permission denied'), { name: 'NotAllowedError' });
    expect(subscribeProblem(blocked)).toMatch(/blocked for this site/);
  });

  it('needs a secure context and the Push API', async () => {
    const { pushSupport } = await import('./push');
    expect(pushSupport({ isSecureContext: false, navigator: {} } as unknown as Window)).toBe('insecure');
    expect(pushSupport({ isSecureContext: true, navigator: {} } as unknown as Window)).toBe('unsupported');
    expect(pushSupport({ isSecureContext: true, navigator: { serviceWorker: {} }, PushManager: {}, Notification: {} } as unknown as Window)).toBe('supported');
  });
});

describe('the run inspector', () => {
  const item = (key: string, status: string) => ({ key, status, attempt_count: 1, error: status === 'failed' ? 'HTTP 422' : null, webhook_id: `msg_${key}`, attempts: [] });

  it('folds a loop\u2019s items under their step, in item order', async () => {
    const { foldItems } = await import('./pages/RunPage');
    const folded = foldItems([item('lines', 'failed'), item('lines#10', 'succeeded'), item('lines#2', 'failed'), item('after', 'succeeded'), item('lines#0', 'succeeded')]);
    expect(folded.steps.map((s) => s.key)).toEqual(['lines', 'after']);
    expect(folded.items.get('lines')!.map((s) => s.key)).toEqual(['lines#0', 'lines#2', 'lines#10']);
  });

  it('counts items by status and shows a page of them, the rest on demand, filtered by status', async () => {
    const { LoopItems, itemCounts } = await import('./pages/RunPage');
    const items = Array.from({ length: 25 }, (_, i) => item(`lines#${i}`, i === 3 ? 'failed' : 'succeeded'));
    expect(itemCounts(items)).toBe('24 succeeded · 1 failed');
    const { container } = render(<LoopItems items={items} payload={{}} />);
    expect(container.querySelectorAll('[data-item]').length).toBe(20);
    (await screen.findByRole('button', { name: 'Show 5 more of 5' })).click();
    await vi.waitFor(() => expect(container.querySelectorAll('[data-item]').length).toBe(25));
    const select = container.querySelector('select')!;
    const { fireEvent } = await import('@testing-library/react');
    fireEvent.change(select, { target: { value: 'failed' } });
    await vi.waitFor(() => expect([...container.querySelectorAll('[data-item]')].map((d) => d.getAttribute('data-item'))).toEqual(['3']));
  });
});
