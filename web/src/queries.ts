// Every read the web app makes, as one TanStack Query `queryOptions` factory per read: its key and its fetch in one
// place, so that a page and a write that must refresh it cannot name it differently. Reads of a workspace's data
// carry the workspace in their key (['ws', id, ...]): switching workspaces never shows another workspace's cache.
// Reads of the signed-in user or the instance start with ['user'] or ['instance'].
import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import { api } from './api';

type Ws = number | undefined;

/** Keys, and the prefixes writes invalidate (a prefix covers every filtered variant of a list). */
export const keys = {
  workspace: (ws: Ws) => ['ws', ws] as const,
  workflows: (ws: Ws) => ['ws', ws, 'workflows'] as const,
  workflow: (ws: Ws, id: number) => ['ws', ws, 'workflow', id] as const,
  runs: (ws: Ws) => ['ws', ws, 'runs'] as const,
  run: (ws: Ws, id: number) => ['ws', ws, 'run', id] as const,
  stats: (ws: Ws) => ['ws', ws, 'stats'] as const,
  members: (ws: Ws) => ['ws', ws, 'members'] as const,
  invitations: (ws: Ws) => ['ws', ws, 'invitations'] as const,
  apiKeys: (ws: Ws) => ['ws', ws, 'api-keys'] as const,
  credentials: (ws: Ws) => ['ws', ws, 'credentials'] as const,
  audit: (ws: Ws) => ['ws', ws, 'audit'] as const,
  approvals: (ws: Ws) => ['ws', ws, 'approvals'] as const,
  workspaces: (user: number | undefined) => ['user', user, 'workspaces'] as const,
  me: () => ['user', 'me'] as const,
  instance: () => ['instance'] as const,
};

type RunQuery = NonNullable<Parameters<typeof api.runs>[0]>;
type AuditQuery = NonNullable<Parameters<typeof api.audit>[0]>;

export const queries = {
  workflows: (ws: Ws, trigger_type?: string) =>
    queryOptions({
      queryKey: [...keys.workflows(ws), { trigger_type }],
      queryFn: () => api.workflows({ trigger_type: (trigger_type || undefined) as never, limit: 100 }),
    }),
  workflowNames: (ws: Ws) =>
    queryOptions({ queryKey: [...keys.workflows(ws), 'names'], queryFn: () => api.workflows({ limit: 200 }) }),
  workflow: (ws: Ws, id: number) => queryOptions({ queryKey: keys.workflow(ws, id), queryFn: () => api.workflow(id) }),
  runs: (ws: Ws, query: RunQuery) => queryOptions({ queryKey: [...keys.runs(ws), query], queryFn: () => api.runs(query) }),
  runPages: (ws: Ws, query: Omit<RunQuery, 'cursor' | 'limit'>) =>
    infiniteQueryOptions({
      queryKey: [...keys.runs(ws), 'pages', query],
      queryFn: ({ pageParam }) => api.runs({ ...query, cursor: pageParam, limit: 50 }),
      initialPageParam: undefined as string | undefined,
      getNextPageParam: (last) => last.next_cursor ?? undefined,
    }),
  run: (ws: Ws, id: number) => queryOptions({ queryKey: keys.run(ws, id), queryFn: () => api.run(id) }),
  approvals: (ws: Ws) => queryOptions({ queryKey: keys.approvals(ws), queryFn: () => api.approvals() }),
  stats: (ws: Ws) => queryOptions({ queryKey: keys.stats(ws), queryFn: () => api.stats() }),
  members: (ws: Ws) => queryOptions({ queryKey: keys.members(ws), queryFn: () => api.members() }),
  invitations: (ws: Ws, isAdmin: boolean) =>
    queryOptions({
      queryKey: [...keys.invitations(ws), isAdmin],
      queryFn: () => (isAdmin ? api.invitations() : Promise.resolve({ items: [] })),
    }),
  apiKeys: (ws: Ws) => queryOptions({ queryKey: keys.apiKeys(ws), queryFn: () => api.apiKeys() }),
  credentials: (ws: Ws) => queryOptions({ queryKey: keys.credentials(ws), queryFn: () => api.credentials() }),
  auditPages: (ws: Ws, query: Omit<AuditQuery, 'cursor' | 'limit'>) =>
    infiniteQueryOptions({
      queryKey: [...keys.audit(ws), query],
      queryFn: ({ pageParam }) => api.audit({ ...query, cursor: pageParam, limit: 50 }),
      initialPageParam: undefined as string | undefined,
      getNextPageParam: (last) => last.next_cursor ?? undefined,
    }),
  workspaces: (user: number | undefined) => queryOptions({ queryKey: keys.workspaces(user), queryFn: () => api.workspaces() }),
  me: () => queryOptions({ queryKey: keys.me(), queryFn: () => api.me() }),
  instance: () => queryOptions({ queryKey: [...keys.instance(), 'settings'], queryFn: () => api.instance() }),
  instanceUsers: (cursor: string | undefined) =>
    queryOptions({ queryKey: [...keys.instance(), 'users', cursor ?? ''], queryFn: () => api.instanceUsers({ limit: 50, cursor }) }),
};
