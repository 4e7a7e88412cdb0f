// The KiKonect API client. The session token lives in memory only (never in localStorage or a cookie), so a
// script injected into another page cannot steal it from storage, and there is no cookie to forge requests with;
// the price is a new login after a reload.

export interface FieldError {
  field: string;
  reason: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly title: string,
    readonly detail: string,
    readonly errors: FieldError[],
  ) {
    super(detail || title);
  }

  /** The reason for one field, if the API named it. */
  fieldError(field: string): string | undefined {
    return this.errors.find((e) => e.field === field)?.reason;
  }
}

export interface User {
  id: number;
  email: string;
  firstname: string;
  lastname: string;
  created_at: string;
}

export interface Workflow {
  id: number;
  name: string;
  trigger_type: 'manual' | 'webhook' | 'interval' | 'cron';
  action_url: string;
  trigger_config: Record<string, unknown>;
  enabled: boolean;
  max_attempts: number | null;
  misfire: 'fire_once' | 'skip';
  overlap: 'allow' | 'skip';
  on_failure_url: string | null;
  next_run_at: string | null;
  last_fired_at: string | null;
  last_run_status: string | null;
  last_run_at: string | null;
  webhook_url: string | null;
  created_at: string;
  updated_at: string;
  signing_secret?: string;
}

export interface Attempt {
  number: number;
  started_at: string;
  duration_ms: number;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  error: string | null;
}

export interface Run {
  id: number;
  workflow_id: number;
  status: string;
  trigger: string;
  payload: unknown;
  error: string | null;
  attempt_count: number;
  next_attempt_at: string | null;
  scheduled_for: string | null;
  replay_of: number | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  attempts?: Attempt[];
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface ApiKey {
  id: number;
  name: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  key?: string;
}

let token: string | null = null;
let onUnauthorized: () => void = () => {};

export function setToken(value: string | null) {
  token = value;
}

export function hasToken() {
  return token !== null;
}

export function whenUnauthorized(handler: () => void) {
  onUnauthorized = handler;
}

export async function request<T>(method: string, path: string, body?: unknown, fetcher: typeof fetch = fetch): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetcher(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const problem = data ?? {};
    if (response.status === 401 && token) onUnauthorized();
    throw new ApiError(response.status, problem.type ?? '', problem.title ?? response.statusText, problem.detail ?? '', problem.errors ?? []);
  }
  return data as T;
}

const q = (params: Record<string, string | number | boolean | undefined | null>) => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.length ? '?' + new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString() : '';
};

export const api = {
  register: (b: { email: string; password: string; firstname: string; lastname: string }) => request<User>('POST', '/register', b),
  login: (b: { email: string; password: string }) => request<{ token: string; expires_at: string; user: User }>('POST', '/login', b),
  logout: () => request<void>('POST', '/logout'),
  me: () => request<User>('GET', '/me'),
  workflows: (params: { trigger_type?: string; enabled?: boolean; cursor?: string; limit?: number } = {}) =>
    request<Page<Workflow>>('GET', '/workflows' + q(params)),
  workflow: (id: number) => request<Workflow>('GET', `/workflows/${id}`),
  createWorkflow: (b: Record<string, unknown>) => request<Workflow>('POST', '/workflows', b),
  updateWorkflow: (id: number, b: Record<string, unknown>) => request<Workflow>('PATCH', `/workflows/${id}`, b),
  deleteWorkflow: (id: number) => request<void>('DELETE', `/workflows/${id}`),
  rotateSecret: (id: number) => request<{ signing_secret: string; previous_secret_expires_at: string }>('POST', `/workflows/${id}/secret/rotate`),
  rotateToken: (id: number) => request<Workflow>('POST', `/workflows/${id}/token/rotate`),
  trigger: (id: number, payload: unknown) => request<Run>('POST', `/workflows/${id}/trigger`, payload),
  schedule: (id: number, count = 5) => request<SchedulePreview>('GET', `/workflows/${id}/schedule?count=${count}`),
  preview: (b: Record<string, unknown>) => request<SchedulePreview>('POST', '/schedule/preview', b),
  runs: (params: { workflow_id?: number; status?: string; trigger?: string; cursor?: string; limit?: number; created_after?: string } = {}) =>
    request<Page<Run>>('GET', '/runs' + q(params)),
  run: (id: number) => request<Run>('GET', `/runs/${id}`),
  cancel: (id: number) => request<Run>('POST', `/runs/${id}/cancel`),
  replay: (id: number, payload?: unknown) => request<Run>('POST', `/runs/${id}/replay`, payload === undefined ? undefined : { payload }),
  apiKeys: () => request<{ items: ApiKey[] }>('GET', '/api-keys'),
  createApiKey: (b: { name: string; expires_at?: string }) => request<ApiKey>('POST', '/api-keys', b),
  deleteApiKey: (id: number) => request<void>('DELETE', `/api-keys/${id}`),
};

export interface SchedulePreview {
  trigger_type: string;
  timezone: string;
  fire_times: { at: string; local: string }[];
}
