#!/usr/bin/env node
// bench/keepalive/node-receiver.mjs <jar> <port>: reproduces the transient first-attempt failures seen in the e2e: a Node receiver (keepAliveTimeout 5 s default)
// and 3 rounds of 5,000 webhooks through 50 workflows with max_attempts 1, idle 6 s between rounds; prints runs, failed runs and their errors.
import http from 'node:http';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
const [jar, port] = [process.argv[2], Number(process.argv[3])];
let got = 0;
const sink = http.createServer((req, res) => { req.on('data', () => {}); req.on('end', () => { got++; res.writeHead(200); res.end('ok'); }); });
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const data = fs.mkdtempSync("/tmp/kikonect-keepalive-");
const app = spawn('/usr/lib/jvm/temurin-25-jdk-amd64/bin/java', ['-Xmx256m', '-jar', jar, `--server.port=${port}`, `--kikonect.data-dir=${data}`, '--kikonect.delivery.allowed-cidrs=127.0.0.1/32'], { stdio: 'ignore' });
const base = `http://127.0.0.1:${port}`;
for (let i = 0; i < 240; i++) { try { if ((await fetch(base + '/health/ready')).ok) break; } catch {} await new Promise((r) => setTimeout(r, 250)); }
const j = { 'Content-Type': 'application/json' };
await fetch(base + '/register', { method: 'POST', headers: j, body: JSON.stringify({ email: 'k@a.co', password: 'correct horse battery', firstname: 'k', lastname: 'a' }) });
const token = (await (await fetch(base + '/login', { method: 'POST', headers: j, body: JSON.stringify({ email: 'k@a.co', password: 'correct horse battery' }) })).json()).token;
const auth = { ...j, Authorization: `Bearer ${token}` };
const hooks = [];
for (let w = 0; w < 50; w++) {
  const r = await (await fetch(base + '/workflows', { method: 'POST', headers: auth, body: JSON.stringify({ name: `w${w}`, trigger_type: 'webhook', action_url: `http://127.0.0.1:${sink.address().port}/in`, max_attempts: 1 }) })).json();
  hooks.push(r.webhook_url);
}
for (let round = 0; round < 3; round++) {
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => { while (next < 5000) { const i = next++; const r = await fetch(hooks[i % 50], { method: 'POST', headers: j, body: '{}' }); await r.arrayBuffer(); } }));
  await new Promise((r) => setTimeout(r, 6000)); // idle past Node's 5 s keep-alive between rounds
}
for (let i = 0; i < 120; i++) {
  const s = await (await fetch(base + '/stats', { headers: auth })).json();
  if (s.by_status.pending + s.by_status.running + s.by_status.retrying === 0 && s.runs >= 15000) {
    const failed = await (await fetch(base + '/runs?status=failed&limit=200', { headers: auth })).json();
    console.log(JSON.stringify({ runs: s.runs, failed: s.by_status.failed, errors: [...new Set(failed.items.map((r) => r.error))], received: got }));
    break;
  }
  await new Promise((r) => setTimeout(r, 500));
}
app.kill('SIGTERM');
sink.close();
process.exit(0);
