import { useEffect, useState } from 'react';
import { api, setToken, User, whenUnauthorized } from './api';
import { AuthPage } from './pages/AuthPage';
import { WorkflowsPage } from './pages/WorkflowsPage';
import { WorkflowFormPage } from './pages/WorkflowFormPage';
import { WorkflowPage } from './pages/WorkflowPage';
import { RunsPage } from './pages/RunsPage';
import { RunPage } from './pages/RunPage';
import { DashboardPage } from './pages/DashboardPage';
import { ApiKeysPage } from './pages/ApiKeysPage';
import { CredentialsPage } from './pages/CredentialsPage';

/** Hash routes (#/workflows/3) so that the server serves one page and deep links survive. */
function useRoute(): string {
  const [route, setRoute] = useState(() => window.location.hash.slice(1) || '/');
  useEffect(() => {
    const onChange = () => setRoute(window.location.hash.slice(1) || '/');
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function go(path: string) {
  window.location.hash = path;
}

export function App() {
  const route = useRoute();
  const [user, setUser] = useState<User | null>(null);

  useEffect(() => {
    whenUnauthorized(() => {
      setToken(null);
      setUser(null);
    });
  }, []);

  if (!user) {
    return <AuthPage onLogin={(u) => { setUser(u); if (route === '/' || route.startsWith('/login')) go('/dashboard'); }} />;
  }

  const parts = route.split('/').filter(Boolean);
  let page;
  if (parts[0] === 'workflows' && parts[1] === 'new') page = <WorkflowFormPage />;
  else if (parts[0] === 'workflows' && parts[1] && parts[2] === 'edit') page = <WorkflowFormPage id={Number(parts[1])} />;
  else if (parts[0] === 'workflows' && parts[1]) page = <WorkflowPage id={Number(parts[1])} />;
  else if (parts[0] === 'workflows') page = <WorkflowsPage />;
  else if (parts[0] === 'runs' && parts[1]) page = <RunPage id={Number(parts[1])} />;
  else if (parts[0] === 'runs') page = <RunsPage />;
  else if (parts[0] === 'api-keys') page = <ApiKeysPage />;
  else if (parts[0] === 'credentials') page = <CredentialsPage />;
  else page = <DashboardPage />;

  const link = (path: string, label: string) => (
    <a href={`#${path}`} className={route.startsWith(path) ? 'active' : ''}>
      {label}
    </a>
  );
  return (
    <div className="shell">
      <header>
        <a href="#/dashboard" className="brand">KiKonect</a>
        <nav aria-label="Main">
          {link('/dashboard', 'Dashboard')}
          {link('/workflows', 'Workflows')}
          {link('/runs', 'Runs')}
          {link('/credentials', 'Credentials')}
          {link('/api-keys', 'API keys')}
        </nav>
        <button
          type="button"
          className="secondary"
          onClick={() => api.logout().finally(() => { setToken(null); setUser(null); go('/'); })}
        >
          Log out
        </button>
      </header>
      <main>{page}</main>
    </div>
  );
}
