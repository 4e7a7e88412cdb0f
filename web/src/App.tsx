import { useEffect, useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, atLeast, currentWorkspaceId, setSignedIn, setWorkspace, User, whenReachable, whenUnauthorized } from './api';
import { queryClient } from './query';
import { go, pendingLeaveWarning, warnBeforeLeaving } from './nav';
import { queries } from './queries';
import { WorkspaceProvider, WorkspaceState } from './workspace';
import { NotFound } from './ui';
import { TeamPage } from './pages/TeamPage';
import { AuditPage } from './pages/AuditPage';
import { ApprovalsPage } from './pages/ApprovalsPage';
import { InvitationPage } from './pages/InvitationPage';
import { AuthPage } from './pages/AuthPage';
import { WorkflowsPage } from './pages/WorkflowsPage';
import { WorkflowFormPage } from './pages/WorkflowFormPage';
import { WorkflowPage } from './pages/WorkflowPage';
import { RunsPage } from './pages/RunsPage';
import { RunPage } from './pages/RunPage';
import { DashboardPage } from './pages/DashboardPage';
import { ApiKeysPage } from './pages/ApiKeysPage';
import { AccountPage } from './pages/AccountPage';
import { CredentialsPage } from './pages/CredentialsPage';
import { InstancePage } from './pages/InstancePage';

/** Hash routes (#/workflows/3) so that the server serves one page and deep links survive. */
function useRoute(): string {
  const [route, setRoute] = useState(() => window.location.hash.slice(1) || '/');
  useEffect(() => {
    let current = window.location.hash.slice(1) || '/';
    const onChange = () => {
      const next = window.location.hash.slice(1) || '/';
      const leaveWarning = pendingLeaveWarning();
      if (next !== current && leaveWarning && !window.confirm(leaveWarning)) {
        window.history.replaceState(null, '', '#' + current); // stay: no hashchange, the page keeps its state
        return;
      }
      if (next !== current) warnBeforeLeaving(null);
      current = next;
      setRoute(next);
    };
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}


const TITLES: Record<string, string> = {
  dashboard: 'Dashboard', workflows: 'Workflows', runs: 'Runs', credentials: 'Credentials', 'api-keys': 'API keys',
  team: 'Team', audit: 'Audit log', approvals: 'Approvals', invitations: 'Invitation', instance: 'Instance',
};

/** A title per page, and focus on the page's heading after each navigation (screen readers announce the page). */
function usePageChange(route: string, ready: boolean) {
  useEffect(() => {
    const parts = route.split('?')[0].split('/').filter(Boolean);
    const base = TITLES[parts[0] ?? 'dashboard'] ?? 'KiKonect';
    const detail = parts[1] === 'new' ? 'New workflow' : parts[1] && /^\d+$/.test(parts[1]) ? `${base.replace(/s$/, '')} #${parts[1]}` : base;
    document.title = `${detail} · KiKonect`;
    if (!ready) return;
    // the heading may come with the page's data: wait for it (at most 3 s)
    const focus = () => {
      const heading = document.querySelector<HTMLElement>('main h1');
      if (!heading) return false;
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
      return true;
    };
    if (focus()) return;
    const observer = new MutationObserver(() => focus() && observer.disconnect());
    observer.observe(document.body, { childList: true, subtree: true });
    const stop = window.setTimeout(() => observer.disconnect(), 3000);
    return () => {
      observer.disconnect();
      window.clearTimeout(stop);
    };
  }, [route, ready]);
}

/** Whether the browser says it is online; the app says so when it is not. */
function useOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine);
  const [reachable, setReachable] = useState(true);
  useEffect(() => {
    whenReachable(setReachable);
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener('online', on);
    window.addEventListener('offline', off);
    return () => {
      window.removeEventListener('online', on);
      window.removeEventListener('offline', off);
    };
  }, []);
  return online && reachable;
}

function OfflineBanner() {
  return <p className="offline" role="status">You are offline: what you see may be out of date, and changes wait until you are back.</p>;
}

export function App() {
  const route = useRoute();
  const online = useOnline();
  const [user, setUser] = useState<User | null>(null);
  // null while asking the server whether the session cookie still holds a session
  const [checked, setChecked] = useState(false);
  const [ended, setEnded] = useState<string | null>(null);
  const [workspaceId, setWorkspaceId] = useState<number | null>(currentWorkspaceId());

  // A session ended under us (expired, signed out elsewhere): say so, and come back here after signing in again.
  useEffect(() => {
    whenUnauthorized(() => {
      setSignedIn(false);
      queryClient.clear();
      setEnded(window.location.hash.slice(1) || '/dashboard');
      setUser(null);
    });
  }, []);

  // A reload or a new tab: the cookie may still hold a session.
  useEffect(() => {
    api.session().then(
      (s) => {
        if (s.user) {
          setSignedIn(true);
          setUser(s.user);
        }
        setChecked(true);
      },
      () => setChecked(true),
    );
  }, []);

  const signedIn = (u: User) => {
    setSignedIn(true);
    setUser(u);
    const back = ended;
    setEnded(null);
    if (back && back !== '/' && !back.startsWith('/login')) go(back);
    else if (route === '/' || route.startsWith('/login')) go('/dashboard');
  };

  usePageChange(route, user !== null);

  const {
    data: workspaceList,
    isFetching: workspacesFetching,
    isPending: workspacesPending,
    refetch: refetchWorkspaces,
  } = useQuery({ ...queries.workspaces(user?.id), enabled: user !== null });
  const all = useMemo(() => workspaceList?.items ?? [], [workspaceList]);
  const current = all.find((w) => w.id === workspaceId) ?? all.find((w) => w.personal) ?? null;
  useEffect(() => {
    // a remembered workspace the user no longer belongs to: back to the personal one
    if (workspaceList && !workspacesFetching && workspaceId !== null && !all.some((w) => w.id === workspaceId)) {
      setWorkspace(null);
      setWorkspaceId(null);
    }
  }, [workspaceList, workspacesFetching, workspaceId, all]);
  const state: WorkspaceState = useMemo(
    () => ({
      current,
      all,
      switchTo: (id: number) => {
        // the list first (a workspace just made or joined is not in it yet), then the switch
        void refetchWorkspaces().then(() => {
          setWorkspace(id);
          setWorkspaceId(id);
          go('/dashboard');
        });
      },
      refresh: () => {
        void refetchWorkspaces();
      },
    }),
    [current, all, refetchWorkspaces],
  );

  if (!user) {
    if (!checked) return <p className="muted" role="status">Loading…</p>;
    return (
      <>
        {!online && <OfflineBanner />}
        <AuthPage ended={ended !== null} onLogin={signedIn} />
      </>
    );
  }

  const [routePath, routeQuery = ''] = route.split('?');
  const parts = routePath.split('/').filter(Boolean);
  let page;
  if (parts[0] === 'workflows' && parts[1] === 'new') page = <WorkflowFormPage />;
  else if (parts[0] === 'workflows' && parts[1] && parts[2] === 'edit') page = <WorkflowFormPage id={Number(parts[1])} />;
  else if (parts[0] === 'workflows' && parts[1]) page = <WorkflowPage id={Number(parts[1])} />;
  else if (parts[0] === 'workflows') page = <WorkflowsPage />;
  else if (parts[0] === 'runs' && parts[1]) page = <RunPage id={Number(parts[1])} />;
  else if (parts[0] === 'runs') page = <RunsPage query={new URLSearchParams(routeQuery)} />;
  else if (parts[0] === 'api-keys') page = <ApiKeysPage />;
  else if (parts[0] === 'credentials') page = <CredentialsPage />;
  else if (parts[0] === 'team') page = <TeamPage me={user} />;
  else if (parts[0] === 'account') page = <AccountPage query={new URLSearchParams(routeQuery)} />;
  else if (parts[0] === 'audit') page = <AuditPage />;
  else if (parts[0] === 'approvals') page = <ApprovalsPage />;
  else if (parts[0] === 'instance' && user.instance_admin) page = <InstancePage me={user} />;
  else if (parts[0] === 'invitations' && parts[1]) page = <InvitationPage token={parts[1]} />;
  else if (parts.length === 0 || parts[0] === 'dashboard' || parts[0] === 'login' || parts[0].startsWith('login')) page = <DashboardPage />;
  else page = <NotFound />;

  const link = (path: string, label: string) => (
    <a href={`#${path}`} className={route.startsWith(path) ? 'active' : ''} aria-current={route.startsWith(path) ? 'page' : undefined}>
      {label}
    </a>
  );
  const role = current?.role;
  return (
    <WorkspaceProvider value={state}>
    <div className="shell">
      <a
        href="#main"
        className="skip-link"
        onClick={(e) => {
          e.preventDefault(); // the fragment holds the route: move focus, not the address
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header>
        <a href="#/dashboard" className="brand">KiKonect</a>
        <label className="switcher">
          <span className="visually-hidden">Workspace</span>
          <select
            name="workspace"
            aria-label="Workspace"
            value={current?.id ?? ''}
            onChange={(e) => state.switchTo(Number(e.target.value))}
          >
            {all.map((w) => <option key={w.id} value={w.id}>{w.name} ({w.role})</option>)}
          </select>
        </label>
        <nav aria-label="Main">
          {link('/dashboard', 'Dashboard')}
          {link('/workflows', 'Workflows')}
          {link('/runs', 'Runs')}
          {link('/approvals', 'Approvals')}
          {link('/credentials', 'Credentials')}
          {atLeast(role, 'admin') && link('/api-keys', 'API keys')}
          {link('/team', 'Team')}
          {atLeast(role, 'admin') && link('/audit', 'Audit')}
          {user.instance_admin && link('/instance', 'Instance')}
          {link('/account', 'Account')}
        </nav>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            // the request carries the token; everything else forgets it at once, so that no poll goes out with a
            // token that is being revoked
            const out = api.logout();
            setSignedIn(false);
            setWorkspace(null);
            setWorkspaceId(null);
            queryClient.clear();
            setUser(null);
            go('/');
            out.catch(() => {});
          }}
        >
          Log out
        </button>
      </header>
      {!online && <OfflineBanner />}
      <main id="main" tabIndex={-1} key={current?.id ?? 0}>{current || !workspacesPending ? page : null}</main>
    </div>
    </WorkspaceProvider>
  );
}
