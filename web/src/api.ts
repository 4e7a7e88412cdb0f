import type { components } from './api-types';
import { changed } from './query';

// The KiKonect API client. The session lives in an HttpOnly, SameSite=Strict cookie set by POST /session: a reload
// or a new tab stays signed in, and no script (ours or an injected one) can read the token. Every request carries
// X-Requested-With: KiKonect, which the server requires of cookie-signed changes and which no other site can make
// a browser send here.

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

// The models come from openapi.yaml (generated into api-types.ts by openapi-typescript at build time), so the web app
// and the API cannot drift apart unnoticed: a changed schema fails the type check.
type Schemas = components['schemas'];
export type User = Schemas['User'];
export type Workflow = Schemas['Workflow'];
export type Attempt = Schemas['Attempt'];
export type Run = Schemas['Run'];
export type RunSummary = Schemas['RunSummary'];
export type RunStatus = Schemas['RunStatus'];
export type Stats = Schemas['Stats'];
export type ApiKey = Schemas['ApiKey'] & { key?: string };
export type SchedulePreview = Schemas['SchedulePreview'];
export type Credential = Schemas['Credential'];
export type Workspace = Schemas['Workspace'];
export type Member = Schemas['Member'];
export type Invitation = Schemas['Invitation'];
export type InvitationCreated = Schemas['InvitationCreated'];
export type AuditEntry = Schemas['AuditEntry'];
export type Role = Schemas['Role'];
export type PushSubscriptionView = Schemas['PushSubscription'];
export type Page<T> = { items: T[]; next_cursor: string | null };

/** Roles from least to most: a role may do everything the ones before it may. */
export const ROLES: Role[] = ['viewer', 'editor', 'admin', 'owner'];
export function atLeast(role: Role | null | undefined, needed: Role): boolean {
  return role != null && ROLES.indexOf(role) >= ROLES.indexOf(needed);
}
export { runStatusValues as RUN_STATUSES, triggerTypeValues as TRIGGER_TYPES } from './api-types';

let onUnauthorized: () => void = () => {};
// Whether the last request reached the server at all (the offline banner uses it with navigator.onLine).
let onReachable: (reachable: boolean) => void = () => {};

export function whenReachable(handler: (reachable: boolean) => void) {
  onReachable = handler;
}
// The workspace every request acts in (the KiKonect-Workspace header); null: the personal workspace. Not a secret,
// so it is remembered across reloads.
let workspace: number | null = readWorkspace();

function readWorkspace(): number | null {
  try {
    const saved = Number(window.localStorage.getItem('kikonect.workspace'));
    return Number.isInteger(saved) && saved > 0 ? saved : null;
  } catch {
    return null;
  }
}

export function setWorkspace(id: number | null) {
  workspace = id;
  try {
    if (id === null) window.localStorage.removeItem('kikonect.workspace');
    else window.localStorage.setItem('kikonect.workspace', String(id));
  } catch {
    // storage unavailable: the choice lasts until the reload
  }
}

export function currentWorkspaceId(): number | null {
  return workspace;
}

// Whether a session is believed to be open (a 401 then means it ended, not that nobody signed in yet).
let signedIn = false;

export function setSignedIn(value: boolean) {
  signedIn = value;
}

export function whenUnauthorized(handler: () => void) {
  onUnauthorized = handler;
}

export async function request<T>(method: string, path: string, body?: unknown, fetcher: typeof fetch = fetch): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', 'X-Requested-With': 'KiKonect' };
  if (workspace !== null) headers['KiKonect-Workspace'] = String(workspace);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetcher(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    onReachable(false);
    throw new ApiError(0, 'network', 'No connection', 'KiKonect cannot be reached: check your connection and try again.', []);
  }
  onReachable(true);
  if (response.ok && method !== 'GET') changed();
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    // an HTML error page from a proxy or load balancer, not KiKonect's JSON
    throw new ApiError(
      response.status,
      'unexpected-answer',
      'Unexpected answer',
      response.status >= 500 || response.status === 0
        ? `The server is not answering properly (HTTP ${response.status}); try again in a moment.`
        : `The server answered HTTP ${response.status} with something other than KiKonect's data (a proxy in between?).`,
      [],
    );
  }
  if (!response.ok) {
    const problem = (data ?? {}) as { type?: string; title?: string; detail?: string; errors?: FieldError[] };
    if (response.status === 401 && signedIn) onUnauthorized();
    throw new ApiError(response.status, problem.type ?? '', problem.title ?? response.statusText, problem.detail ?? '', problem.errors ?? []);
  }
  return data as T;
}

const q = (params: Record<string, string | number | boolean | undefined | null>) => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.length ? '?' + new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString() : '';
};

export const api = {
  register: (b: { email: string; password: string; firstname: string; lastname: string; invitation?: string }) => request<User>('POST', '/register', b),
  login: (b: { email: string; password: string }) => request<{ expires_at: string; user: User }>('POST', '/session', b),
  logout: () => request<void>('DELETE', '/session'),
  me: () => request<User>('GET', '/me'),
  session: () => request<{ user: User | null }>('GET', '/session'),
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
  dryRun: (b: { workflow: Record<string, unknown>; payload: unknown }) => request<unknown>('POST', '/workflows/test', b),
  preview: (b: Record<string, unknown>) => request<SchedulePreview>('POST', '/schedule/preview', b),
  runs: (params: { workflow_id?: number; status?: string; trigger?: string; cursor?: string; limit?: number; created_after?: string } = {}) =>
    request<Page<RunSummary>>('GET', '/runs' + q(params)),
  stats: () => request<Stats>('GET', '/stats'),
  run: (id: number) => request<Run>('GET', `/runs/${id}`),
  retry: (id: number) => request<Run>('POST', `/runs/${id}/retry`),
  cancel: (id: number) => request<Run>('POST', `/runs/${id}/cancel`),
  countReplay: (b: { workflow_id?: number; status?: string; created_after?: string; created_before?: string }) =>
    request<{ matching: number; limit: number }>('POST', '/runs/replay', { ...b, dry_run: true }),
  replayMany: (b: { workflow_id?: number; status?: string; created_after?: string; created_before?: string }) =>
    request<{ replayed: number }>('POST', '/runs/replay', b),
  replay: (id: number, payload?: unknown) => request<Run>('POST', `/runs/${id}/replay`, payload === undefined ? undefined : { payload }),
  apiKeys: () => request<{ items: ApiKey[] }>('GET', '/api-keys'),
  createApiKey: (b: { name: string; scope?: 'read' | 'trigger' | 'write' | 'admin'; expires_at?: string }) => request<ApiKey>('POST', '/api-keys', b),
  deleteApiKey: (id: number) => request<void>('DELETE', `/api-keys/${id}`),
  ssoProviders: () => request<{ items: { id: string; name: string; start_url: string }[] }>('GET', '/sso'),
  workspaces: () => request<{ items: Workspace[] }>('GET', '/workspaces'),
  createWorkspace: (name: string) => request<Workspace>('POST', '/workspaces', { name }),
  workspace: () => request<Workspace>('GET', '/workspace'),
  updateWorkspace: (b: { name?: string; require_sso?: boolean }) => request<Workspace>('PATCH', '/workspace', b),
  deleteWorkspace: () => request<void>('DELETE', '/workspace'),
  transferWorkspace: (userId: number) => request<void>('POST', '/workspace/transfer', { user_id: userId }),
  members: () => request<{ items: Member[] }>('GET', '/members'),
  setRole: (userId: number, role: Role) => request<Member>('PATCH', `/members/${userId}`, { role }),
  removeMember: (userId: number) => request<void>('DELETE', `/members/${userId}`),
  invitations: () => request<{ items: Invitation[] }>('GET', '/invitations'),
  invite: (b: { email: string; role: Role }) => request<InvitationCreated>('POST', '/invitations', b),
  revokeInvitation: (id: number) => request<void>('DELETE', `/invitations/${id}`),
  acceptInvitation: (token: string) => request<Workspace>('POST', '/invitations/accept', { token }),
  audit: (params: { actor?: string; action?: string; object?: string; from?: string; to?: string; cursor?: string; limit?: number } = {}) =>
    request<Page<AuditEntry>>('GET', '/audit' + q(params)),
  credentials: () => request<{ items: Credential[] }>('GET', '/credentials'),
  createCredential: (b: Record<string, string>) => request<Credential>('POST', '/credentials', b),
  replaceCredential: (id: number, b: Record<string, string>) => request<Credential>('PUT', `/credentials/${id}`, b),
  deleteCredential: (id: number) => request<void>('DELETE', `/credentials/${id}`),
  pushKey: () => request<{ public_key: string }>('GET', '/push/key'),
  pushSubscriptions: () => request<{ items: PushSubscriptionView[] }>('GET', '/push/subscriptions'),
  subscribePush: (b: { endpoint: string; keys: { p256dh: string; auth: string }; workflow_ids: number[] }) =>
    request<PushSubscriptionView>('PUT', '/push/subscriptions', b),
  unsubscribePush: (id: number) => request<void>('DELETE', `/push/subscriptions/${id}`),
};

