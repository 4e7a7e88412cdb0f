import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { triggerConfig } from './pages/WorkflowFormPage';
import { bucketRuns } from './pages/DashboardPage';
import { Field, StatusBadge } from './ui';
import type { Run } from './api';

describe('the workflow form', () => {
  const base = {
    name: 'n', action_url: 'https://x', interval_minutes: '5', expression: '0 9 * * *', timezone: 'Europe/Berlin',
    payload: '', max_attempts: '', misfire: 'fire_once', overlap: 'allow', on_failure_url: '',
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

describe('the dashboard chart', () => {
  it('counts runs per hour by outcome', () => {
    const now = Date.parse('2026-11-26T12:00:00Z');
    const run = (created: string, status: string) => ({ created_at: created, status }) as Run;
    const buckets = bucketRuns([run('2026-11-26T11:30:00Z', 'succeeded'), run('2026-11-26T11:45:00Z', 'failed'), run('2026-11-25T01:00:00Z', 'succeeded')], now);

    expect(buckets).toHaveLength(24);
    expect(buckets[23]).toMatchObject({ succeeded: 1, failed: 1, other: 0 });
    expect(buckets.slice(0, 23).every((b) => b.succeeded + b.failed + b.other === 0)).toBe(true);
  });
});
