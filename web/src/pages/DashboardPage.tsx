import { Stats } from '../api';
import { useLive } from '../query';
import { Empty, ErrorNote, Loading } from '../ui';
import { useWorkspace } from '../workspace';
import { queries } from '../queries';

const OUTCOMES = ['succeeded', 'failed', 'other'] as const;
const COLORS: Record<string, string> = { succeeded: '#2f9e44', failed: '#e03131', other: '#adb5bd' };

/** The headline figures, all counted by the database over every run of the window (GET /stats). */
export function headline(stats: Stats) {
  return {
    runs: stats.runs,
    failed: stats.by_status.failed,
    successPercent: stats.success_rate === null ? null : Math.round(stats.success_rate * 1000) / 10,
    p50: stats.latency.p50_ms,
    p95: stats.latency.p95_ms,
  };
}

/** Runs per hour of the last 24 hours by outcome (from /stats), and delivery latency of the most recent runs. */
/** The runs explorer's address for one hour of the chart and one outcome ("other": every status). */
export function hourLink(hourIso: string, outcome: string): string {
  const local = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  const start = Date.parse(hourIso);
  const q = new URLSearchParams({ range: 'custom', from: local(start), to: local(start + 3_600_000) });
  if (outcome === 'succeeded' || outcome === 'failed') q.set('status', outcome);
  return `/runs?${q.toString()}`;
}

export function DashboardPage() {
  const ws = useWorkspace().current?.id;
  const stats = useLive(queries.stats(ws), 10_000);
  const recent = useLive(queries.runs(ws, { status: 'succeeded', limit: 100 }), 10_000);

  if (!stats.data) return stats.error ? <ErrorNote error={stats.error} /> : <Loading />;
  const figures = headline(stats.data);
  const hourly = stats.data.hourly;
  const max = Math.max(1, ...hourly.map((b) => b.succeeded + b.failed + b.other));
  const latencies = (recent.data?.items ?? [])
    .filter((r) => r.ended_at)
    .map((r) => ({ id: r.id, ms: Date.parse(r.ended_at!) - Date.parse(r.created_at) }))
    .reverse();
  const maxLatency = Math.max(1, ...latencies.map((l) => l.ms));

  return (
    <section>
      <h1>Dashboard</h1>
      <div className="stats">
        <div className="stat"><span>{figures.runs.toLocaleString()}</span>runs in 24 h</div>
        <a className="stat" href="#/runs?status=failed&range=24h"><span>{figures.failed.toLocaleString()}</span>failed</a>
        <div className="stat"><span>{figures.successPercent === null ? '—' : `${figures.successPercent}%`}</span>succeeded of finished</div>
        <div className="stat"><span>{figures.p50 === null ? '—' : `${figures.p50} ms`}</span>median latency (p95 {figures.p95 ?? '—'} ms)</div>
      </div>
      {figures.runs === 0 && <Empty>No runs in the last 24 hours. <a href="#/workflows/new">Create a workflow</a> and fire it.</Empty>}
      <h2>Runs per hour, last 24 hours</h2>
      <svg className="chart" viewBox="0 0 480 160" role="group" aria-label="Runs per hour by outcome: each bar links to its runs">
        {hourly.map((b, i) => {
          let y = 150;
          return OUTCOMES.map((o) => {
            const h = (b[o] / max) * 140;
            y -= h;
            if (b[o] === 0) return null;
            return (
              <a key={`${i}-${o}`} href={`#${hourLink(b.hour, o)}`} aria-label={`${new Date(b.hour).getHours()}:00, ${o}: ${b[o]}`}>
                <rect x={i * 20 + 2} y={y} width={16} height={h} fill={COLORS[o]}><title>{`${new Date(b.hour).getHours()}:00 ${o}: ${b[o]}`}</title></rect>
              </a>
            );
          });
        })}
        <line x1="0" y1="150" x2="480" y2="150" stroke="#ced4da" />
      </svg>
      <p className="legend">{OUTCOMES.map((o) => <span key={o}><i style={{ background: COLORS[o] }} /> {o}</span>)}</p>
      <h2>Delivery latency of the last 100 succeeded runs (created → delivered)</h2>
      <svg className="chart" viewBox="0 0 480 120" role="img" aria-label="Latency of recent runs">
        {latencies.map((l, i) => (
          <rect key={l.id} x={i * 4.8} y={110 - (l.ms / maxLatency) * 100} width={3.8} height={(l.ms / maxLatency) * 100} fill="#3b5bdb"><title>{`run ${l.id}: ${l.ms} ms`}</title></rect>
        ))}
        <line x1="0" y1="110" x2="480" y2="110" stroke="#ced4da" />
        <text x="4" y="12" fontSize="10" fill="#868e96">max {maxLatency} ms</text>
      </svg>
    </section>
  );
}
