import { useState } from 'react';
import { api, ApiError, Instance, User } from '../api';
import { useLive } from '../query';
import { confirmed, Empty, ErrorNote, Field, Loading, useBusy, when } from '../ui';
import { keys, queries } from '../queries';

const MODES: { value: 'open' | 'invitation' | 'closed'; label: string }[] = [
  { value: 'open', label: 'open: anyone may register' },
  { value: 'invitation', label: 'invitation: only with an invitation to a workspace' },
  { value: 'closed', label: 'closed: nobody (single sign-on still admits its users)' },
];

/**
 * The instance administrator's page: who may register (over kikonect.auth.registration, at once on every node) and
 * who else administers the instance. Only shown to instance administrators (the first registered user is one).
 */
export function InstancePage({ me }: { me: User }) {
  const instance = useLive(queries.instance(), 30000);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const users = useLive(queries.instanceUsers(cursor), 30000);
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [busy, once] = useBusy([keys.instance()]);

  const act = (work: () => Promise<unknown>) =>
    once(async () => {
      setProblem(null);
      try {
        await work();
      } catch (err) {
        setProblem(err as ApiError);
      }
    });

  const current: Instance | undefined = instance.data;
  return (
    <section>
      <h1>Instance</h1>
      <ErrorNote error={instance.error ?? users.error ?? problem} />
      {!current && !instance.error && <Loading />}
      {current && (
        <div className="card" aria-label="Registration">
          <p className="muted">KiKonect {current.version}</p>
          <Field
            label="Who may register"
            hint={
              current.registration_source === 'instance'
                ? `Set here; the configuration says ${current.configured_registration} (kikonect.auth.registration).`
                : 'As configured (kikonect.auth.registration).'
            }
          >
            <select
              name="registration"
              value={current.registration}
              disabled={busy}
              onChange={(e) => act(() => api.setRegistration(e.target.value as 'open' | 'invitation' | 'closed'))}
            >
              {MODES.map((m) => <option key={m.value} value={m.value}>{m.label}</option>)}
            </select>
          </Field>
          {current.registration_source === 'instance' && (
            <button type="button" className="secondary" disabled={busy} onClick={() => act(() => api.setRegistration(null))}>
              Follow the configuration again
            </button>
          )}
        </div>
      )}
      <h2>Users</h2>
      {!users.data && !users.error && <Loading />}
      {users.data && users.data.items.length === 0 && <Empty>No users.</Empty>}
      {users.data && users.data.items.length > 0 && (
        <table className="list">
          <thead><tr><th>Email</th><th>Name</th><th>Registered</th><th>Workspaces</th><th>Instance administrator</th></tr></thead>
          <tbody>
            {users.data.items.map((u) => (
              <tr key={u.id}>
                <td data-label="Email">{u.email}</td>
                <td data-label="Name">{u.firstname} {u.lastname}</td>
                <td data-label="Registered">{when(u.created_at)}</td>
                <td data-label="Workspaces">{u.workspaces}</td>
                <td data-label="Instance administrator">
                  <label>
                    <input
                      type="checkbox"
                      checked={u.instance_admin}
                      disabled={busy}
                      onChange={(e) => {
                        const admin = e.target.checked;
                        if (!admin && u.id === me.id && !confirmed('Stop being an instance administrator? Only another one can give it back.')) return;
                        void act(async () => {
                          await api.setInstanceAdmin(u.id, admin);
                          if (!admin && u.id === me.id) {
                            // no longer allowed here: start afresh, the session answers who this is now
                            window.location.hash = '/dashboard';
                            window.location.reload();
                          }
                        });
                      }}
                    />
                    <span className="visually-hidden">Instance administrator: {u.email}</span>
                  </label>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {users.data?.next_cursor && (
        <button type="button" className="secondary" onClick={() => setCursor(users.data?.next_cursor ?? undefined)}>Older users</button>
      )}
      {cursor && <button type="button" className="secondary" onClick={() => setCursor(undefined)}>Newest users</button>}
    </section>
  );
}
