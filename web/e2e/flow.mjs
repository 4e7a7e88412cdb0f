// End-to-end: the real app (the packaged jar, embedded PostgreSQL) and a local sink, driven through Debian's
// Chromium with playwright-core: register -> create a webhook workflow -> POST to its hook -> the run appears as
// succeeded without a reload -> open its attempts -> replay it -> a team workspace, an invitation, the audit log ->
// single sign-on through a real OpenID provider (mock-oauth2-server) -> accept the invitation as a viewer, whose
// pages hide what a viewer may not do. Screenshots of the main pages at desktop and
// phone widths go to web/e2e/screenshots/. Any console error fails the run.
import { chromium } from 'playwright-core';
import { execSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
// axe-core checks every page the flow photographs, at both widths; a serious or critical violation fails the run.
// Injected through the DevTools protocol (page.evaluate), which the app's Content-Security-Policy does not block.
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const accessibility = [];
const root = path.resolve(here, '../..');
const shots = path.join(here, 'screenshots');
fs.mkdirSync(shots, { recursive: true });
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(CHROMIUM)) {
  console.error(`e2e: no Chromium at ${CHROMIUM}. Install it with: apt-get install -y chromium (bin/test does this).`);
  process.exit(1);
}

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function waitFor(url, ms = 120_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not up yet: try again
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not ready: ${url}`);
}

// The action sink.
const received = [];
let flakyBack = false;
const sink = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    received.push({ path: req.url, headers: req.headers, body });
    // /flaky fails until the flow says the service is back (retry from the failure)
    // /flaky fails until the flow says the service is back (retry from the failure); item 3 of a loop fails
    const status = req.url.startsWith('/flaky') && !flakyBack ? 503 : req.url.startsWith('/bulk') && body.includes('"fail":true') ? 400
      : req.url === '/loop/3' ? 422 : 200;
    res.writeHead(status, { 'Content-Type': 'text/plain' });
    res.end(status === 200 ? 'thanks' : 'down for maintenance');
  });
});
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const sinkUrl = `http://127.0.0.1:${sink.address().port}/orders`;

// A real OpenID provider for single sign-on (mock-oauth2-server from the test class path, with its login form).
// The class path comes from Maven (pom.xml passes it as the first argument; run alone, Maven is asked for it).
let classpath = process.argv[2];
if (!classpath) {
  const out = path.join(os.tmpdir(), `kikonect-e2e-cp-${process.pid}.txt`);
  execSync(`mvn -B -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=${out}`, { cwd: root, stdio: 'ignore' });
  classpath = fs.readFileSync(out, 'utf8').trim();
}
const oidcPort = await freePort();
const oidcLog = fs.openSync(path.join(os.tmpdir(), `kikonect-e2e-oidc-${oidcPort}.log`), 'w');

// KiKonect itself.
const java = execSync('bash -c "source bin/common.sh && find_jdk"', { cwd: root }).toString().trim() + '/bin/java';
const port = await freePort();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kikonect-e2e-'));
const log = fs.openSync(path.join(os.tmpdir(), `kikonect-e2e-${port}.log`), 'w');
const oidc = spawn(java, ['-Xmx128m', '-cp', classpath, 'no.nav.security.mock.oauth2.StandaloneMockOAuth2ServerKt'], {
  stdio: ['ignore', oidcLog, oidcLog],
  env: { ...process.env, SERVER_PORT: String(oidcPort), JSON_CONFIG: JSON.stringify({ interactiveLogin: true }) },
});
const app = spawn(
  java,
  ['-Xmx256m', '-jar', path.join(root, 'target/kikonect.jar'), `--server.port=${port}`, `--kikonect.data-dir=${dataDir}`,
    '--kikonect.delivery.allowed-cidrs=127.0.0.1/32',
    '--kikonect.oidc.corp.name=Corp ID', `--kikonect.oidc.corp.issuer-uri=http://localhost:${oidcPort}/corp`,
    '--kikonect.oidc.corp.client-id=kikonect', '--kikonect.oidc.corp.client-secret=e2e-secret'],
  { stdio: ['ignore', log, log] },
);
const base = `http://localhost:${port}`;
let browser;
let failed = false;
const consoleErrors = [];
const step = (s) => console.log(`e2e: ${s}`);

try {
  await waitFor(`${base}/health/ready`);
  await waitFor(`http://localhost:${oidcPort}/corp/.well-known/openid-configuration`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  // Only KiKonect's own pages count (the provider's login page is not ours).
  let expect401 = false; // while a test ends the session on purpose
  let expect404 = false; // while a test opens a missing object on purpose
  let expectNoPush = false; // Chromium says so in the console when a test subscribes to push in an incognito context
  let offline = false; // while the browser is offline on purpose
  page.on('console', (m) => m.type() === 'error' && page.url().startsWith(base) && !(expect401 && m.text().includes('401'))
    && !(expect404 && m.text().includes('status of 404')) && !(expectNoPush && m.text().includes('Push API')) && !offline
    && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  const shoot = async (name) => {
    const size = page.viewportSize();
    const width = size.width < 600 ? 'phone' : 'desktop';
    await page.screenshot({ path: path.join(shots, `${name}-${width}.png`), fullPage: true });
    if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(axeSource);
    const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    for (const v of result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
      accessibility.push(`${name} (${width}): ${v.id} [${v.impact}] ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
    }
  };

  step('register');
  await page.goto(`${base}/`);
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await shoot('login');
  await page.getByRole('button', { name: /Create one/ }).click();
  const email = `e2e-${Date.now()}@example.com`;
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByLabel('First name').fill('Ada');
  await page.getByLabel('Last name').fill('Lovelace');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();

  step('create a webhook workflow');
  await page.getByRole('link', { name: 'Workflows' }).click();
  await page.getByText('No workflows yet').waitFor();
  await page.getByRole('link', { name: 'New workflow' }).click();
  await page.getByLabel('Name').fill('Orders to ERP');
  await page.getByLabel(/Action URL/).fill(sinkUrl);
  await page.getByRole('button', { name: 'Create workflow' }).click();
  const hookUrl = (await page.getByTestId('webhook-url').textContent()).trim();
  await page.getByTestId('secret').waitFor();
  await shoot('workflow');

  step('reload: still signed in, on the same page (the session is an HttpOnly cookie)');
  const before = page.url();
  const workflowId = Number(before.split('/').pop());
  await page.reload();
  await page.getByTestId('webhook-url').waitFor();
  if (page.url() !== before) throw new Error(`a reload moved from ${before} to ${page.url()}`);
  if ((await context.cookies()).find((c) => c.name === 'kikonect_session')?.httpOnly !== true) throw new Error('no HttpOnly session cookie');

  step('POST to its hook; the run must appear as succeeded without a reload');
  const accepted = await fetch(hookUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"order": 42}' });
  if (accepted.status !== 202) throw new Error(`hook answered ${accepted.status}`);
  await page.locator('[data-testid=runs] .status-succeeded').first().waitFor({ timeout: 20_000 });
  if (received.length !== 1 || received[0].body !== '{"order": 42}') throw new Error(`sink got ${JSON.stringify(received)}`);

  step('open its attempts');
  await page.locator('[data-testid=runs] a').first().click();
  const attempt = page.getByTestId('attempts').locator('li').first();
  await attempt.waitFor();
  if (!(await attempt.textContent()).includes('HTTP 200')) throw new Error('attempt does not show HTTP 200');
  await shoot('run');

  step('replay it');
  const firstRunUrl = page.url();
  await page.getByRole('button', { name: 'Replay', exact: true }).click();
  await page.waitForURL((u) => u.toString() !== firstRunUrl && /#\/runs\/\d+$/.test(u.toString()));
  await page.getByText(/replay of #/).waitFor();
  await page.locator('h1 .badge.status-succeeded').waitFor({ timeout: 20_000 });
  if (received.length !== 2) throw new Error(`expected 2 deliveries after the replay, got ${received.length}`);

  step('a double click on Trigger starts one run');
  const runsOf = () => page.evaluate((id) => fetch(`/workflows/${id}/runs?limit=200`).then((r) => r.json()).then((j) => j.items.length), workflowId);
  const runsBefore = await runsOf();
  await page.evaluate((id) => (window.location.hash = `/workflows/${id}`), workflowId);
  let triggers = 0;
  const countTriggers = (r) => r.method() === 'POST' && r.url().endsWith(`/workflows/${workflowId}/trigger`) && triggers++;
  page.on('request', countTriggers);
  await page.getByRole('button', { name: 'Trigger', exact: true }).dblclick();
  await page.getByText('Run started.').waitFor();
  page.off('request', countTriggers);
  // both clicks happened before the first answer came back: a second request would have been sent by now
  if (triggers !== 1) throw new Error(`a double click sent ${triggers} trigger requests`);
  if ((await runsOf()) !== runsBefore + 1) throw new Error(`a double click started ${(await runsOf()) - runsBefore} runs`);

  step('build a three-step workflow in the editor, see the live preview, fire it');
  await page.evaluate(() => (window.location.hash = '/workflows/new'));
  await page.getByLabel('Name').fill('Orders fan-out');
  await page.getByLabel('Trigger').selectOption('manual');
  await page.getByLabel(/Steps: call any APIs/).check();
  const sinkBase = sinkUrl.replace('/orders', '');
  await page.locator('input[name=step-0-key]').fill('erp');
  await page.locator('input[name=step-0-url]').fill(`${sinkBase}/erp`);
  await page.locator('[data-name=step-0-body] .cm-content').fill("{ 'order': payload.hello, 'source': 'kikonect' }");
  await page.getByRole('button', { name: 'Add step' }).click();
  await page.locator('input[name=step-1-key]').fill('chat');
  await page.locator('input[name=step-1-url]').fill(`${sinkBase}/chat`);
  await page.locator('input[name=step-1-needs-erp]').check();
  await page.getByRole('button', { name: 'Add step' }).click();
  await page.locator('input[name=step-2-key]').fill('audit');
  await page.locator('input[name=step-2-url]').fill(`${sinkBase}/audit`);
  await page.locator('[data-testid=step-preview] .preview-step').nth(2).waitFor();
  await page.getByTestId('step-preview').getByText('"order":"world"').first().waitFor();
  await shoot('workflow-steps');
  await page.getByRole('button', { name: 'Create workflow' }).click();
  await page.getByRole('heading', { name: 'Orders fan-out' }).waitFor();
  const deliveredBefore = received.length;
  await page.getByRole('button', { name: 'Trigger', exact: true }).click();
  await page.getByText('Run started.').waitFor();
  await page.locator('[data-testid=runs] .status-succeeded').first().waitFor({ timeout: 20_000 });
  const steps = received.slice(deliveredBefore);
  const erp = steps.find((r) => r.path === '/erp');
  if (steps.length !== 3 || !erp || JSON.parse(erp.body).order !== 'world' || !steps.some((r) => r.path === '/chat') || !steps.some((r) => r.path === '/audit')) {
    throw new Error(`the three steps delivered ${JSON.stringify(steps.map((r) => [r.path, r.body]))}`);
  }

  step('inspect the run: the step graph with each status, an attempt\'s response; replay an edited payload after its diff');
  await page.locator('[data-testid=runs] a').first().click();
  await page.getByRole('heading', { name: 'Steps' }).waitFor();
  await page.locator('.graph .status-succeeded').nth(2).waitFor();
  await page.locator('details[data-step=erp] > summary').click();
  await page.locator('details[data-step=erp]').getByText('HTTP 200').waitFor();
  // what the step sent: its headers with the signature, its transformed body, and copy as curl
  await page.locator('details[data-step=erp] [data-testid=attempt-request] > summary').click();
  const sent = page.locator('details[data-step=erp] [data-testid=attempt-request]');
  await sent.getByText(/webhook-signature: v1,/).waitFor();
  await sent.getByText('"source":"kikonect"').waitFor();
  await sent.getByRole('button', { name: 'Copy as curl' }).waitFor();
  await shoot('run-steps');
  const runUrl = page.url();
  await page.getByRole('button', { name: 'Replay with edited payload' }).click();
  await page.locator('textarea[name=replay-payload]').fill('{"hello": "edited"}');
  await page.getByRole('button', { name: 'Review changes' }).click();
  await page.locator('[data-testid=payload-diff] .added').getByText('"hello": "edited"').waitFor();
  await page.locator('[data-testid=payload-diff] .removed').getByText('"hello": "world"').waitFor();
  await page.getByRole('button', { name: 'Replay with this payload' }).click();
  await page.waitForURL((u) => u.toString() !== runUrl && /#\/runs\/\d+$/.test(u.toString()));
  await page.locator('h1 .badge.status-succeeded').waitFor({ timeout: 20_000 });

  step('a failed step: retry from the failure once its service is back');
  const flaky = await page.evaluate(async (target) => {
    const created = await fetch('/workflows', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'KiKonect' },
      body: JSON.stringify({ name: 'Flaky chain', trigger_type: 'manual', steps: [
        { key: 'first', url: `${target}/first` }, { key: 'flaky', url: `${target}/flaky`, needs: ['first'], max_attempts: 1 }] }) });
    return (await created.json()).id;
  }, sinkBase);
  await page.evaluate((id) => (window.location.hash = `/workflows/${id}`), flaky);
  await page.getByRole('button', { name: 'Trigger', exact: true }).click();
  await page.locator('[data-testid=runs] .status-failed').first().waitFor({ timeout: 20_000 });
  await page.locator('[data-testid=runs] a').first().click();
  await page.getByRole('button', { name: 'Retry from the failure' }).waitFor();
  const firstCalls = received.filter((r) => r.path === '/first').length;
  flakyBack = true;
  await page.getByRole('button', { name: 'Retry from the failure' }).click();
  await page.locator('h1 .badge.status-succeeded').waitFor({ timeout: 20_000 });
  if (received.filter((r) => r.path === '/first').length !== firstCalls) throw new Error('the retry sent the step that had succeeded again');

  step('a loop\'s 25 items folded under their step: counts by status, the failed one found by its filter, more on demand');
  const looped = await page.evaluate(async (target) => {
    const created = await fetch('/workflows', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'KiKonect' },
      body: JSON.stringify({ name: 'Line items', trigger_type: 'manual', max_attempts: 1, steps: [
        { key: 'lines', url: `${target}/loop/{{ index }}`, for_each: '[1..25]', concurrency: 5 },
        { key: 'notify', url: `${target}/notify`, needs: ['lines'], run_if: 'always' }] }) });
    return (await created.json()).id;
  }, sinkBase);
  await page.evaluate((id) => (window.location.hash = `/workflows/${id}`), looped);
  await page.getByRole('button', { name: 'Trigger', exact: true }).click();
  await page.locator('[data-testid=runs] .status-failed').first().waitFor({ timeout: 20_000 });
  await page.locator('[data-testid=runs] a').first().click();
  await page.getByRole('heading', { name: 'Steps' }).waitFor();
  const loopCard = page.locator('details[data-step=lines]');
  await loopCard.getByText('24 succeeded · 1 failed').waitFor();
  if ((await page.locator('.graph .graph-node').count()) !== 2) throw new Error('the step graph drew the items as steps');
  await page.locator('.graph').getByText('lines: failed · 25 items').waitFor();
  if ((await loopCard.locator('[data-item]').count()) !== 20) throw new Error('more than a page of items shown at once');
  await loopCard.getByRole('button', { name: 'Show 5 more of 5' }).click();
  if ((await loopCard.locator('[data-item]').count()) !== 25) throw new Error('"Show more" did not show the rest');
  await loopCard.locator('select').selectOption('failed');
  if ((await loopCard.locator('[data-item]').count()) !== 1) throw new Error('the filter did not keep the failed item alone');
  await loopCard.locator('details[data-item="3"]').getByText('HTTP 422').first().waitFor();
  await shoot('run-loop-items');

  step('a webhook that answers a GET handshake with its challenge, set in the form');
  await page.evaluate(() => (window.location.hash = '/workflows/new'));
  await page.getByLabel('Name').fill('Handshake');
  await page.locator('input[name=action_url]').fill(`${sinkBase}/events`);
  await page.locator('input[name=get_too]').check();
  await page.locator('input[name=respond_body]').fill('query.challenge');
  await page.getByRole('button', { name: 'Create workflow' }).click();
  await page.getByRole('heading', { name: 'Handshake' }).waitFor();
  const handshakeId = Number(page.url().match(/workflows\/(\d+)/)[1]);
  const handshakeUrl = await page.evaluate(async (id) => (await (await fetch(`/workflows/${id}`, { headers: { 'X-Requested-With': 'KiKonect' } })).json()).webhook_url, handshakeId);
  const answered = await fetch(`${base}${new URL(handshakeUrl).pathname}?challenge=abc123`);
  if (answered.status !== 200 || (await answered.text()) !== 'abc123') throw new Error(`the GET handshake was answered ${answered.status}`);
  await page.evaluate((id) => (window.location.hash = `/workflows/${id}/edit`), handshakeId);
  await page.getByRole('heading', { name: 'Edit workflow' }).waitFor();
  if (!(await page.locator('input[name=get_too]').isChecked()) || (await page.locator('input[name=respond_body]').inputValue()) !== 'query.challenge') {
    throw new Error('the form does not show the webhook\'s answer settings');
  }

  step('an approval waits on the Approvals page; approving it sends the step after it');
  const approvalRun = await page.evaluate(async (target) => {
    const headers = { 'Content-Type': 'application/json', 'X-Requested-With': 'KiKonect' };
    const created = await fetch('/workflows', { method: 'POST', headers, body: JSON.stringify({ name: 'Refunds', trigger_type: 'manual', steps: [
      { key: 'refund_ok', wait: { for: 'approval', message: 'Refund {{ payload.amount }} EUR?' } },
      { key: 'refund', needs: ['refund_ok'], url: `${target}/refund` }] }) });
    const id = (await created.json()).id;
    return (await (await fetch(`/workflows/${id}/trigger`, { method: 'POST', headers, body: JSON.stringify({ amount: 120 }) })).json()).id;
  }, sinkBase);
  await page.getByRole('link', { name: 'Approvals' }).first().click();
  const card = page.locator(`[data-approval="${approvalRun}-refund_ok"]`);
  await card.getByText('Refund 120 EUR?').waitFor({ timeout: 20_000 });
  await shoot('approvals');
  await card.locator('input').fill('checked the order');
  await card.getByRole('button', { name: 'Approve' }).click();
  await page.getByText('Nothing waits for an approval.').waitFor({ timeout: 20_000 });
  const refundBy = Date.now() + 20_000;
  while (Date.now() < refundBy && !received.some((r) => r.path === '/refund')) await new Promise((r) => setTimeout(r, 100));
  if (!received.some((r) => r.path === '/refund')) throw new Error('the approved step was not sent');
  const approvedRun = await page.evaluate(async (id) => (await (await fetch(`/runs/${id}`, { headers: { 'X-Requested-With': 'KiKonect' } })).json()), approvalRun);
  if (approvedRun.steps.find((s) => s.key === 'refund_ok').status !== 'succeeded') throw new Error(`the approval step: ${JSON.stringify(approvedRun.steps)}`);

  step('the step editor keeps what it does not change, sets run_if, asks before losing edits, and Enter does not save');
  const patched = await page.evaluate(async (id) => {
    const w = await (await fetch(`/workflows/${id}`, { headers: { 'X-Requested-With': 'KiKonect' } })).json();
    w.steps[0].max_attempts = 4;
    w.steps[0].timeout = 9;
    const r = await fetch(`/workflows/${id}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'KiKonect' },
      body: JSON.stringify({ steps: w.steps }) });
    return r.status;
  }, flaky);
  if (patched !== 200) throw new Error(`PATCH steps: ${patched}`);
  await page.evaluate((id) => (window.location.hash = `/workflows/${id}/edit`), flaky);
  await page.getByRole('heading', { name: 'Edit workflow' }).waitFor();
  if ((await page.locator('input[name=step-0-max-attempts]').inputValue()) !== '4') throw new Error('the editor does not show max attempts');
  if ((await page.locator('input[name=step-0-timeout]').inputValue()) !== '9') throw new Error('the editor does not show the timeout');
  await page.locator('input[name=name]').fill('Flaky chain, renamed');
  await page.locator('input[name=name]').press('Enter');
  await page.locator('input[name=step-1-timeout]').fill('7');
  await page.locator('select[name=step-1-run_if]').selectOption('always');
  await page.locator('select[name=step-1-wait_for]').selectOption('delay');
  await page.locator('input[name=step-1-wait_value]').fill('PT1S');
  await page.locator('input[name=step-1-timeout]').press('Enter');
  if (!(await page.getByRole('heading', { name: 'Edit workflow' }).isVisible())) throw new Error('Enter in a one-line field saved the form');
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); void d.dismiss(); });
  await page.getByRole('link', { name: 'Runs' }).first().click();
  await page.waitForFunction(() => window.location.hash.endsWith('/edit'));
  if (!/Leave without saving/.test(asked)) throw new Error(`leaving with unsaved changes did not ask (${asked})`);
  if ((await page.locator('input[name=name]').inputValue()) !== 'Flaky chain, renamed') throw new Error('staying lost the edits');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('heading', { name: 'Flaky chain, renamed' }).waitFor();
  const kept = await page.evaluate(async (id) => (await (await fetch(`/workflows/${id}`, { headers: { 'X-Requested-With': 'KiKonect' } })).json()).steps, flaky);
  if (kept[0].max_attempts !== 4 || kept[0].timeout !== 9 || kept[1].timeout !== 7 || kept[1].max_attempts !== 1 || kept[1].run_if !== 'always'
    || kept[1].wait?.for !== 'delay' || kept[1].wait?.duration !== 'PT1S') {
    throw new Error(`the editor lost step settings: ${JSON.stringify(kept)}`);
  }

  step('browser notifications for failed runs: the switch on the workflow page');
  await context.grantPermissions(['notifications'], { origin: base });
  await page.evaluate((id) => (window.location.hash = `/workflows/${id}`), flaky);
  const notify = page.getByTestId('notify').getByRole('checkbox');
  await notify.waitFor();
  expectNoPush = true;
  await notify.click();
  // Chromium without a reachable push service (no internet here) cannot subscribe: the app says so in words; with
  // one, the switch is on. Either way no raw browser error.
  await Promise.race([
    page.waitForFunction(() => document.querySelector('[data-testid=notify] input')?.checked === true, null, { timeout: 30_000 }),
    page.getByTestId('notify').getByRole('alert').filter({ hasText: /push service|blocked|could not be turned on/ }).waitFor({ timeout: 30_000 }),
  ]);
  const notifyText = await page.getByTestId('notify').textContent();
  if (/AbortError|DOMException|undefined/.test(notifyText)) throw new Error(`raw error near the notification switch: ${notifyText}`);
  expectNoPush = false;
  await shoot('workflow-notify');

  step('a session that ends says so, and signing in again comes back to the same page');
  expect401 = true;
  await context.clearCookies();
  await page.getByRole('link', { name: 'Runs' }).click();
  await page.getByText('Your session ended, sign in again.').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('runs').waitFor();
  if (!page.url().endsWith('#/runs')) throw new Error(`not back on the runs page: ${page.url()}`);
  expect401 = false;

  step('10,000 more runs, 1,429 of them failing: the dashboard shows exactly that many more');
  const stats = () => page.evaluate(() => fetch('/stats').then((r) => r.json()));
  const beforeBulk = await stats();
  // 50 workflows, so that no hook token goes past its rate limit (50/s per token, bursts of 100); one attempt each, so
  // that a transient delivery failure (a pooled connection the receiver closed: bench/results/2026-11-27-keep-alive.md)
  // shows as a failed run too many
  const bulk = await page.evaluate(async (target) => {
    const urls = [];
    for (let w = 0; w < 50; w++) {
      const created = await fetch('/workflows', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'KiKonect' },
        body: JSON.stringify({ name: `Bulk ${w}`, trigger_type: 'webhook', action_url: `${target}/bulk`, max_attempts: 1 }) });
      urls.push((await created.json()).webhook_url);
    }
    return urls;
  }, sinkBase);
  let next = 0;
  let refused = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < 10_000) {
      const i = next++;
      const r = await fetch(bulk[i % bulk.length], { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ i, fail: i % 7 === 0 }) });
      if (r.status !== 202) refused++;
      await r.arrayBuffer();
    }
  }));
  if (refused) throw new Error(`${refused} of 10,000 webhooks were not accepted`);
  const failing = Array.from({ length: 10_000 }, (_, i) => i).filter((i) => i % 7 === 0).length;
  const deadline = Date.now() + 120_000;
  let after = await stats();
  while (after.by_status.pending + after.by_status.running + after.by_status.retrying > 0 || after.runs < beforeBulk.runs + 10_000) {
    if (Date.now() > deadline) throw new Error(`10,000 runs did not finish in 2 minutes: ${JSON.stringify(after.by_status)}`);
    await new Promise((r) => setTimeout(r, 500));
    after = await stats();
  }
  const errors = await page.evaluate(() => fetch('/runs?status=failed&limit=200').then((r) => r.json()).then((j) => [...new Set(j.items.map((r) => r.error))]));
  console.log(`e2e:   failed runs' errors: ${JSON.stringify(errors)}`);
  if (after.runs !== beforeBulk.runs + 10_000 || after.by_status.failed !== beforeBulk.by_status.failed + failing) {
    throw new Error(`the server counts ${after.runs} runs, ${after.by_status.failed} failed; expected ${beforeBulk.runs + 10_000} and ${beforeBulk.by_status.failed + failing}`);
  }

  step('the other pages');
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByText('runs in 24 h').waitFor();
  const figure = async (label) => Number((await page.locator('.stat', { hasText: label }).locator('span').textContent()).replace(/[^0-9]/g, ''));
  await page.waitForFunction((n) => [...document.querySelectorAll('.stat span')].some((e) => e.textContent.replace(/[^0-9]/g, '') === String(n)), after.runs);
  if ((await figure('runs in 24 h')) !== after.runs || (await figure('failed')) !== after.by_status.failed) {
    throw new Error(`the dashboard shows ${await figure('runs in 24 h')} runs, ${await figure('failed')} failed; the server counts ${after.runs}, ${after.by_status.failed}`);
  }
  await page.getByRole('link', { name: 'Runs' }).click();
  await page.getByTestId('runs').waitFor();
  await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
  // filters live in the URL: Back brings the previous ones back
  await page.locator('select[name=filter-status]').selectOption('succeeded');
  await page.waitForURL(/#\/runs\?status=succeeded$/);
  await page.locator('select[name=filter-range]').selectOption('1h');
  await page.waitForURL(/status=succeeded&range=1h$/);
  await page.goBack();
  await page.waitForURL(/#\/runs\?status=succeeded$/);
  if ((await page.locator('select[name=filter-range]').inputValue()) !== 'all') throw new Error('Back did not restore the time filter');
  await page.locator('[data-testid=runs] .status-succeeded').first().waitFor();
  // replay everything the filters match (this workflow's succeeded runs), after a count to confirm
  await page.locator('select[name=filter-workflow]').selectOption(String(workflowId));
  await page.waitForURL(/workflow=\d+/);
  await page.locator('[data-testid=runs] .status-succeeded').first().waitFor();
  // a filter the list applies is applied by the replay too: no cron run of this workflow, nothing to replay
  await page.locator('select[name=filter-trigger]').selectOption('cron');
  await page.waitForURL(/trigger=cron/);
  await page.getByText('No runs match').first().waitFor();
  await page.getByRole('button', { name: 'Replay all matching…' }).click();
  await page.getByText('No run matches these filters.').waitFor();
  await page.locator('select[name=filter-trigger]').selectOption('');
  await page.locator('[data-testid=runs] .status-succeeded').first().waitFor();
  const runsNow = await runsOf();
  let question = '';
  page.once('dialog', (d) => { question = d.message(); void d.accept(); });
  await page.getByRole('button', { name: 'Replay all matching…' }).click();
  await page.getByText(/^Replayed \d+ runs?\.$/).waitFor();
  const matched = Number(/Replay (\d+) of the \d+ matching/.exec(question)?.[1]);
  if (!(matched > 0) || (await runsOf()) !== runsNow + matched) throw new Error(`bulk replay: asked "${question}", runs ${runsNow} -> ${await runsOf()}`);
  await page.goto(`${base}/app/#/runs`);
  await page.getByTestId('runs').waitFor();
  if ((await page.title()) !== 'Runs · KiKonect') throw new Error(`title ${await page.title()}`);
  if ((await page.locator('nav a[aria-current=page]').textContent()) !== 'Runs') throw new Error('the navigation does not mark the page');
  if ((await page.getByRole('link', { name: 'Skip to content' }).count()) !== 1) throw new Error('no skip link');
  await shoot('runs');
  await page.getByRole('link', { name: 'Workflows' }).click();
  await page.getByRole('heading', { name: 'Workflows' }).waitFor();
  await page.getByRole('link', { name: 'Orders to ERP' }).first().waitFor();
  await shoot('workflows');
  await page.goto(`${base}/app/#/workflows/new`);
  await page.getByLabel('Trigger').selectOption('cron');
  await page.locator('.preview li').first().waitFor();
  await shoot('new-cron-workflow');
  // the form was changed and not saved: leaving asks first (accepted here)
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('link', { name: 'API keys' }).click();
  await page.getByRole('heading', { name: 'API keys' }).waitFor();
  await page.locator('input[name=key-name]').fill('CI');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByText('Copy the key now').waitFor();
  await shoot('api-keys');
  await page.getByRole('link', { name: 'Credentials' }).click();
  await page.getByRole('heading', { name: 'Credentials' }).waitFor();
  await page.locator('input[name=credential-name]').fill('erp-api');
  await page.locator('select[name=credential-type]').selectOption('header');
  await page.locator('input[name=credential-header_name]').fill('X-Api-Key');
  await page.locator('input[name=credential-value]').fill('e2e-secret-value');
  await page.locator('input[name=credential-allowed_hosts]').fill('erp.example.com');
  await page.getByRole('button', { name: 'Create credential' }).click();
  await page.getByText('header_name: X-Api-Key').waitFor();
  if ((await page.content()).includes('e2e-secret-value')) throw new Error('the credential secret is shown on the page');
  await shoot('credentials');
  // the first registered user administers the instance: who may register, who else administers
  await page.getByRole('link', { name: 'Instance' }).click();
  await page.getByRole('heading', { name: 'Instance' }).waitFor();
  await page.getByRole('cell', { name: email, exact: true }).waitFor();
  await page.locator('select[name=registration]').selectOption('invitation');
  await page.getByText('Set here; the configuration says open').waitFor();
  await shoot('instance');
  await page.getByRole('button', { name: 'Follow the configuration again' }).click();
  await page.getByText('As configured (kikonect.auth.registration).').waitFor();
  if ((await page.locator('select[name=registration]').inputValue()) !== 'open') throw new Error('registration did not go back to the configured mode');
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByText('runs in 24 h').waitFor();
  await shoot('dashboard');
  // dark mode follows the system setting; axe checks its contrast too
  await page.emulateMedia({ colorScheme: 'dark' });
  await shoot('dashboard-dark');
  await page.evaluate(() => (window.location.hash = '/runs'));
  await page.getByTestId('runs').waitFor();
  await shoot('runs-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.evaluate(() => (window.location.hash = '/dashboard'));
  await page.getByText('runs in 24 h').waitFor();
  await page.evaluate(() => (window.location.hash = '/nowhere'));
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await shoot('not-found');
  expect404 = true;
  await page.evaluate(() => (window.location.hash = '/workflows/999999999'));
  await page.getByText('Workflow 999999999 was not found').waitFor();
  await page.getByRole('link', { name: 'Back to the dashboard' }).click();
  await page.getByText('runs in 24 h').waitFor();
  expect404 = false;

  step('phone width (375 px)');
  await page.setViewportSize({ width: 375, height: 812 });
  const headerHeight = await page.evaluate(() => document.querySelector('.shell header').getBoundingClientRect().height);
  if (headerHeight > 56) throw new Error(`the phone header is ${headerHeight} px high`);
  const small = await page.evaluate(() => [...document.querySelectorAll('main button, main .button, header button')].filter((b) => b.getBoundingClientRect().height > 0 && b.getBoundingClientRect().height < 44).length);
  if (small) throw new Error(`${small} buttons are smaller than 44 px on a phone`);
  for (const [route, name, ready] of [
    ['#/dashboard', 'dashboard', 'runs in 24 h'],
    ['#/workflows', 'workflows', 'Orders to ERP'],
    ['#/credentials', 'credentials', 'Credentials'],
    ['#/api-keys', 'api-keys', 'API keys'],
    ['#/workflows/new', 'new-workflow', 'New workflow'],
    ['#/team', 'team', 'Members'],
    ['#/audit', 'audit', 'Audit log'],
    ['#/runs', 'runs', 'Runs'],
  ]) {
    await page.evaluate((r) => (window.location.hash = r), route);
    await page.getByText(ready).first().waitFor();
    await shoot(name);
  }
  await page.locator('[data-testid=runs] a').first().click();
  await page.getByTestId('attempts').waitFor();
  await shoot('run');

  step('a team: a new workspace, an invitation, the audit log');
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.evaluate(() => (window.location.hash = '/team'));
  await page.locator('input[name=workspace-name]').fill('Payments team');
  await page.getByRole('button', { name: 'Create workspace' }).click();
  await page.getByText('runs in 24 h').waitFor();
  if ((await page.getByLabel('Workspace').locator('option:checked').textContent()) !== 'Payments team (owner)') throw new Error('not switched to the new workspace');
  await page.getByRole('link', { name: 'Team' }).click();
  await page.getByRole('heading', { name: 'Payments team' }).waitFor();
  await page.locator('input[name=invite-email]').fill('grace@corp.example');
  await page.locator('select[name=invite-role]').selectOption('viewer');
  await page.getByRole('button', { name: 'Invite', exact: true }).click();
  const invitation = (await page.locator('.note code').textContent()).trim();
  if (!invitation.includes('/app/#/invitations/kki_')) throw new Error(`no invitation link: ${invitation}`);
  await shoot('team');
  await page.getByRole('link', { name: 'Audit' }).click();
  await page.getByText('invitation.created').waitFor();
  await page.getByText('workspace.created').waitFor();
  await shoot('audit');
  await page.getByRole('button', { name: 'Log out' }).click();

  step('single sign-on through the OpenID provider, then accept the invitation as a viewer');
  await page.getByRole('link', { name: 'Sign in with Corp ID' }).click();
  await page.locator('input[name=username]').waitFor();
  await page.locator('input[name=username]').fill('grace');
  await page.locator('textarea[name=claims]').fill(JSON.stringify({ email: 'grace@corp.example', email_verified: true, given_name: 'Grace', family_name: 'Hopper' }));
  await page.locator('input[type=submit]').click();
  await page.getByText('runs in 24 h').waitFor();
  if (page.url().includes('/sso/')) throw new Error(`the session token stayed in the address bar: ${page.url()}`);
  await page.evaluate((h) => (window.location.hash = h), invitation.slice(invitation.indexOf('#') + 1));
  await page.getByRole('button', { name: 'Accept invitation' }).click();
  await page.getByText('runs in 24 h').waitFor();
  if ((await page.getByLabel('Workspace').locator('option:checked').textContent()) !== 'Payments team (viewer)') throw new Error('not in the team as viewer');
  for (const hidden of ['Audit', 'API keys']) {
    if (await page.getByRole('link', { name: hidden }).count()) throw new Error(`a viewer sees ${hidden}`);
  }
  await page.getByRole('link', { name: 'Workflows' }).click();
  await page.getByRole('heading', { name: 'Workflows' }).waitFor();
  if (await page.getByRole('link', { name: 'New workflow' }).count()) throw new Error('a viewer is offered New workflow');
  await page.getByRole('link', { name: 'Team' }).click();
  await page.getByText('Your role here:').waitFor();
  if (await page.getByRole('button', { name: 'Invite', exact: true }).count()) throw new Error('a viewer is offered Invite');
  await shoot('team-viewer');

  step('installable, and the app shell opens offline');
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  const cdp = await context.newCDPSession(page);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  // "in-incognito" is the test browser's context (Playwright's contexts are incognito), not the app
  const installErrors = installabilityErrors.filter((e) => e.errorId !== 'in-incognito');
  if (installErrors.length) throw new Error(`not installable: ${JSON.stringify(installErrors)}`);
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  offline = true;
  await context.setOffline(true);
  await page.reload();
  await page.getByText('You are offline').waitFor();
  await shoot('offline');
  await context.setOffline(false);
  offline = false;

  const manifest = await fetch(`${base}/app/manifest.webmanifest`);
  if (!manifest.ok) throw new Error('no web app manifest');
  if (consoleErrors.length) throw new Error('console errors:\n' + consoleErrors.join('\n'));
  if (accessibility.length) throw new Error('axe-core found serious or critical violations:\n' + accessibility.join('\n'));
  step(`passed; screenshots in ${path.relative(root, shots)}/`);
} catch (e) {
  failed = true;
  console.error('e2e FAILED:', e.message);
  if (consoleErrors.length) console.error('console errors:', consoleErrors);
} finally {
  if (browser) await browser.close();
  app.kill('SIGTERM');
  oidc.kill('SIGTERM');
  sink.close();
  await new Promise((r) => app.once('exit', r));
  fs.rmSync(dataDir, { recursive: true, force: true });
}
console.log(failed ? '0 passed, 1 failed' : '1 passed, 0 failed');
process.exit(failed ? 1 : 0);
