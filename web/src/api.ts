import createClient from 'openapi-fetch';
import type { components, paths } from './api-types';

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
/** A step waiting for an approval (GET /approvals). */
export type Approval = paths['/approvals']['get']['responses'][200]['content']['application/json']['items'][number];
export type RunSummary = Schemas['RunSummary'];
export type RunStatus = Schemas['RunStatus'];
export type TriggerType = Schemas['TriggerType'];
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
/** The run list's filters as bulk replay takes them (the same fields as GET /runs: nothing of the list's is left out). */
export type ReplayFilter = Omit<NonNullable<paths['/runs/replay']['post']['requestBody']>['content']['application/json'], 'dry_run'>;
export type ReplayCount = paths['/runs/replay']['post']['responses']['200']['content']['application/json'];
export type PushSubscriptionView = Schemas['PushSubscription'];
export type Instance = Schemas['Instance'];
export type InstanceUser = Schemas['InstanceUser'];
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

/**
 * Every request's way to the server: the CSRF header and the workspace, the session cookie, and the answer turned
 * into data or an ApiError people understand (no connection, a proxy's HTML page, a problem+json naming each field).
 * The typed client below (openapi-fetch) sends through it.
 */
export async function transport(request: Request, fetcher: typeof fetch = (input, init) => fetch(input, init)): Promise<Response> {
  const headers = new Headers(request.headers);
  headers.set('Accept', 'application/json');
  headers.set('X-Requested-With', 'KiKonect');
  if (workspace !== null) headers.set('KiKonect-Workspace', String(workspace));
  const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.text();
  if (!body) headers.delete('Content-Type');
  let response: Response;
  try {
    response = await fetcher(request.url, { method: request.method, headers, credentials: 'same-origin', body: body || undefined });
  } catch {
    onReachable(false);
    throw new ApiError(0, 'network', 'No connection', 'KiKonect cannot be reached: check your connection and try again.', []);
  }
  onReachable(true);
  if (response.status === 204) return response;
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
  return new Response(text, { status: response.status, headers: response.headers });
}

/** One untyped request through {@link transport} (for the tests of the transport itself). */
export async function request<T>(method: string, path: string, body?: unknown, fetcher?: typeof fetch): Promise<T> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  const response = await transport(new Request(new URL(path, origin()), init), fetcher);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

function origin(): string {
  return typeof window !== 'undefined' && window.location?.origin && window.location.origin !== 'null' ? window.location.origin : 'http://localhost';
}

/**
 * The answer's data, as the named model (errors never get here: the transport throws them). Requests are checked
 * against openapi.yaml by openapi-fetch's types; answers are named with the models the pages use.
 */
async function data<T>(call: Promise<{ data?: unknown }>): Promise<T> {
  return (await call).data as T;
}

/**
 * The API as the web app uses it: the client openapi-fetch makes from openapi.yaml's types (paths, parameters,
 * bodies and answers all checked by tsc), sending through {@link transport}.
 */
export function createApi(fetcher?: typeof fetch) {
  const c = createClient<paths>({ baseUrl: origin(), fetch: (r: Request) => transport(r, fetcher) });
  const id = (value: number) => ({ params: { path: { id: value } } });
  return {
    register: (b: { email: string; password: string; firstname: string; lastname: string; invitation?: string }) =>
      data<User>(c.POST('/register', { body: b })),
    login: (b: { email: string; password: string }) => data<{ expires_at: string; user: User }>(c.POST('/session', { body: b })),
    logout: () => data<void>(c.DELETE('/session')),
    me: () => data<User>(c.GET('/me')),
    resendVerification: () => data<void>(c.POST('/me/email-verification')),
    session: () => data<{ user: User | null }>(c.GET('/session')),
    workflows: (query: Query<'/workflows'> = {}) => data<Page<Workflow>>(c.GET('/workflows', { params: { query } })),
    workflow: (v: number) => data<Workflow>(c.GET('/workflows/{id}', id(v))),
    createWorkflow: (b: Record<string, unknown>) => data<Workflow>(c.POST('/workflows', { body: b as unknown as Schemas['WorkflowInput'] })),
    updateWorkflow: (v: number, b: Record<string, unknown>) =>
      data<Workflow>(c.PATCH('/workflows/{id}', { ...id(v), body: b as Schemas['WorkflowPatch'] })),
    deleteWorkflow: (v: number) => data<void>(c.DELETE('/workflows/{id}', id(v))),
    rotateSecret: (v: number) =>
      data<{ signing_secret: string; previous_secret_expires_at: string }>(c.POST('/workflows/{id}/secret/rotate', id(v))),
    rotateToken: (v: number) => data<Workflow>(c.POST('/workflows/{id}/token/rotate', id(v))),
    trigger: (v: number, payload: unknown) => data<Run>(c.POST('/workflows/{id}/trigger', { ...id(v), body: payload as Record<string, never> })),
    schedule: (v: number, count = 5) => data<SchedulePreview>(c.GET('/workflows/{id}/schedule', { params: { path: { id: v }, query: { count } } })),
    dryRun: (b: { workflow: Record<string, unknown>; payload: unknown }) =>
      data<unknown>(c.POST('/workflows/test', { body: b as unknown as Schemas['DryRunRequest'] })),
    preview: (b: Record<string, unknown>) => data<SchedulePreview>(c.POST('/schedule/preview', { body: b as never })),
    runs: (query: { workflow_id?: number; status?: string; trigger?: string; cursor?: string; limit?: number; created_after?: string } = {}) =>
      data<Page<RunSummary>>(c.GET('/runs', { params: { query: query as Query<'/runs'> } })),
    stats: () => data<Stats>(c.GET('/stats')),
    run: (v: number) => data<Run>(c.GET('/runs/{id}', id(v))),
    retry: (v: number) => data<Run>(c.POST('/runs/{id}/retry', id(v))),
    cancel: (v: number) => data<Run>(c.POST('/runs/{id}/cancel', id(v))),
    approvals: () => data<{ items: Approval[] }>(c.GET('/approvals')),
    decide: (run: number, step: string, approve: boolean, comment: string) =>
      data<Schemas['Decided']>(
        approve
          ? c.POST('/runs/{id}/steps/{key}/approve', { params: { path: { id: run, key: step } }, body: comment ? { comment } : {} })
          : c.POST('/runs/{id}/steps/{key}/reject', { params: { path: { id: run, key: step } }, body: comment ? { comment } : {} }),
      ),
    countReplay: (b: ReplayFilter) => data<ReplayCount>(c.POST('/runs/replay', { body: { ...b, dry_run: true } })),
    replayMany: (b: ReplayFilter) => data<{ replayed: number }>(c.POST('/runs/replay', { body: b })),
    replay: (v: number, payload?: unknown) =>
      data<Run>(c.POST('/runs/{id}/replay', { ...id(v), body: payload === undefined ? undefined : ({ payload } as never) })),
    apiKeys: () => data<{ items: ApiKey[] }>(c.GET('/api-keys')),
    createApiKey: (b: { name: string; scope?: 'read' | 'trigger' | 'write' | 'admin'; expires_at?: string }) =>
      data<ApiKey>(c.POST('/api-keys', { body: b })),
    deleteApiKey: (v: number) => data<void>(c.DELETE('/api-keys/{id}', id(v))),
    ssoProviders: () => data<{ items: { id: string; name: string; start_url: string }[] }>(c.GET('/sso')),
    workspaces: () => data<{ items: Workspace[] }>(c.GET('/workspaces')),
    createWorkspace: (name: string) => data<Workspace>(c.POST('/workspaces', { body: { name } })),
    workspace: () => data<Workspace>(c.GET('/workspace')),
    updateWorkspace: (b: { name?: string; require_sso?: boolean }) => data<Workspace>(c.PATCH('/workspace', { body: b })),
    deleteWorkspace: () => data<void>(c.DELETE('/workspace')),
    transferWorkspace: (userId: number) => data<void>(c.POST('/workspace/transfer', { body: { user_id: userId } })),
    members: () => data<{ items: Member[] }>(c.GET('/members')),
    setRole: (userId: number, role: Role) => data<Member>(c.PATCH('/members/{user_id}', { params: { path: { user_id: userId } }, body: { role } })),
    removeMember: (userId: number) => data<void>(c.DELETE('/members/{user_id}', { params: { path: { user_id: userId } } })),
    invitations: () => data<{ items: Invitation[] }>(c.GET('/invitations')),
    invite: (b: { email: string; role: Role }) => data<InvitationCreated>(c.POST('/invitations', { body: b })),
    revokeInvitation: (v: number) => data<void>(c.DELETE('/invitations/{id}', id(v))),
    acceptInvitation: (token: string) => data<Workspace>(c.POST('/invitations/accept', { body: { token } })),
    audit: (query: Query<'/audit'> = {}) => data<Page<AuditEntry>>(c.GET('/audit', { params: { query } })),
    credentials: () => data<{ items: Credential[] }>(c.GET('/credentials')),
    createCredential: (b: Record<string, string | string[]>) => data<Credential>(c.POST('/credentials', { body: b as unknown as Schemas['CredentialInput'] })),
    replaceCredential: (v: number, b: Record<string, string | string[]>) =>
      data<Credential>(c.PUT('/credentials/{id}', { ...id(v), body: b as never })),
    deleteCredential: (v: number) => data<void>(c.DELETE('/credentials/{id}', id(v))),
    pushKey: () => data<{ public_key: string }>(c.GET('/push/key')),
    pushSubscriptions: () => data<{ items: PushSubscriptionView[] }>(c.GET('/push/subscriptions')),
    subscribePush: (b: { endpoint: string; keys: { p256dh: string; auth: string }; workflow_ids: number[]; approvals: boolean }) =>
      data<PushSubscriptionView>(c.PUT('/push/subscriptions', { body: b })),
    unsubscribePush: (v: number) => data<void>(c.DELETE('/push/subscriptions/{id}', id(v))),
    instance: () => data<Instance>(c.GET('/instance')),
    setRegistration: (registration: 'open' | 'invitation' | 'closed' | null) =>
      data<Instance>(c.PATCH('/instance', { body: { registration } })),
    instanceUsers: (query: Query<'/instance/users'> = {}) => data<Page<InstanceUser>>(c.GET('/instance/users', { params: { query } })),
    setInstanceAdmin: (userId: number, instanceAdmin: boolean) =>
      data<InstanceUser>(c.PATCH('/instance/users/{user_id}', { params: { path: { user_id: userId } }, body: { instance_admin: instanceAdmin } })),
  };
}

/** A GET path's query parameters, as openapi.yaml declares them. */
type Query<P extends keyof paths> = paths[P] extends { get: { parameters: { query?: infer Q } } } ? NonNullable<Q> : never;

export const api = createApi();

