import { api, Run } from '../api';
import { Empty, ErrorNote, Loading, usePolling } from '../ui';

const OUTCOMES = ['succeeded', 'failed', 'other'] as const;
const COLORS: Record<string, string> = { succeeded: '#2f9e44', failed: '#e03131', other: '#adb5bd' };

/** Runs per hour of the last 24 hours by outcome, and delivery latency (created to ended) of recent runs. */
export function bucketRuns(runs: Run[], now: number, hours = 24) {
  const buckets = Array.from({ length: hours }, (_, i) => ({ start: now - (hours - i) * 3600_000, succeeded: 0, failed: 0, other: 0 }));
  for (const r of runs) {
    const t = Date.parse(r.created_at);
    const index = Math.floor((t - (now - hours * 3600_000)) / 3600_000);
    if (index < 0 || index >= hours) continue;
    const key = r.status === 'succeeded' ? 'succeeded' : r.status === 'failed' ? 'failed' : 'other';
    buckets[index][key]++;
  }
  return buckets;
}

export function DashboardPage() {
  const { data, error } = usePolling(async () => {
    const since = new Date(Date.now() - 24 * 3600_000).toISOString();
    const page = await api.runs({ created_after: since, limit: 200 });
    return page.items;
  }, 5000, []);

  if (!data) return error ? <ErrorNote error={error} /> : <Loading />;
  const buckets = bucketRuns(data, Date.now());
  const max = Math.max(1, ...buckets.map((b) => b.succeeded + b.failed + b.other));
  const latencies = data
    .filter((r) => r.ended_at && r.status === 'succeeded')
    .map((r) => ({ id: r.id, ms: Date.parse(r.ended_at!) - Date.parse(r.created_at) }))
    .reverse();
  const maxLatency = Math.max(1, ...latencies.map((l) => l.ms));
  const total = data.length;
  const failed = data.filter((r) => r.status === 'failed').length;

  return (
    <section>
      <h1>Dashboard</h1>
      <div className="stats">
        <div className="stat"><span>{total}</span>runs in 24 h</div>
        <div className="stat"><span>{total ? Math.round((100 * (total - failed)) / total) : 100}%</span>not failed</div>
        <div className="stat"><span>{latencies.length ? Math.round(latencies.reduce((a, b) => a + b.ms, 0) / latencies.length) : 0} ms</span>mean latency</div>
      </div>
      {total === 0 && <Empty>No runs in the last 24 hours. <a href="#/workflows/new">Create a workflow</a> and fire it.</Empty>}
      <h2>Runs per hour, last 24 hours</h2>
      <svg className="chart" viewBox="0 0 480 160" role="img" aria-label="Runs per hour by outcome">
        {buckets.map((b, i) => {
          let y = 150;
          return OUTCOMES.map((o) => {
            const h = (b[o] / max) * 140;
            y -= h;
            return <rect key={`${i}-${o}`} x={i * 20 + 2} y={y} width={16} height={h} fill={COLORS[o]}><title>{`${new Date(b.start).getHours()}:00 ${o}: ${b[o]}`}</title></rect>;
          });
        })}
        <line x1="0" y1="150" x2="480" y2="150" stroke="#ced4da" />
      </svg>
      <p className="legend">{OUTCOMES.map((o) => <span key={o}><i style={{ background: COLORS[o] }} /> {o}</span>)}</p>
      <h2>Delivery latency of recent runs (created → delivered)</h2>
      <svg className="chart" viewBox="0 0 480 120" role="img" aria-label="Latency of recent runs">
        {latencies.slice(-120).map((l, i) => (
          <rect key={l.id} x={i * 4} y={110 - (l.ms / maxLatency) * 100} width={3} height={(l.ms / maxLatency) * 100} fill="#3b5bdb"><title>{`run ${l.id}: ${l.ms} ms`}</title></rect>
        ))}
        <line x1="0" y1="110" x2="480" y2="110" stroke="#ced4da" />
        <text x="4" y="12" fontSize="10" fill="#868e96">max {maxLatency} ms</text>
      </svg>
    </section>
  );
}
