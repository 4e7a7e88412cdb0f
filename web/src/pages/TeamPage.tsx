import { FormEvent, useState } from 'react';
import { api, ApiError, InvitationCreated, Role, ROLES, User } from '../api';
import { useLive } from '../query';
import { confirmed, CopyButton, Empty, ErrorNote, Field, Loading, useBusy, when } from '../ui';
import { useCan, useWorkspace } from '../workspace';
import { keys, queries } from '../queries';

/**
 * The current workspace: its members and their roles, invitations, settings (name, single sign-on only), leaving,
 * deleting and handing it on; and a form for a new workspace. What the role may not do is not shown.
 */
export function TeamPage({ me }: { me: User }) {
  const { current, switchTo, refresh } = useWorkspace();
  const isAdmin = useCan('admin');
  const isOwner = useCan('owner');
  const ws = current?.id;
  const members = useLive(queries.members(ws), 15000);
  const invitations = useLive(queries.invitations(ws, isAdmin), 15000);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('editor');
  const [invited, setInvited] = useState<InvitationCreated | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, once] = useBusy([keys.members(ws), keys.invitations(ws), keys.workspaces(me.id)]);
  const [newName, setNewName] = useState('');

  async function act<T>(work: () => Promise<T>, after?: (t: T) => void) {
    setError(null);
    await once(async () => {
      try {
        const result = await work();
        after?.(result);
      } catch (err) {
        setError(err instanceof ApiError ? err : new ApiError(0, '', 'Network error', String(err), []));
      }
    });
  }

  if (!current) return <Loading />;
  return (
    <section>
      <h1>{current.name}</h1>
      <p className="muted">
        {current.personal ? 'Your personal workspace.' : 'A team workspace.'} Your role here: <strong>{current.role}</strong>.
        {current.require_sso && ' Members sign in with single sign-on only.'}
      </p>
      <ErrorNote error={error && error.errors.length === 0 ? error : null} />

      <h2>Members</h2>
      {!members.data && <Loading />}
      {members.data && (
        <table className="list">
          <thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Joined</th><th></th></tr></thead>
          <tbody>
            {members.data.items.map((m) => (
              <tr key={m.user_id}>
                <td data-label="Name">{m.firstname} {m.lastname}{m.user_id === me.id ? ' (you)' : ''}</td>
                <td data-label="Email">{m.email}</td>
                <td data-label="Role">
                  {isAdmin && m.user_id !== me.id && (m.role !== 'owner' || isOwner) ? (
                    <select
                      aria-label={`Role of ${m.email}`}
                      value={m.role}
                      disabled={busy}
                      onChange={(e) => act(() => api.setRole(m.user_id, e.target.value as Role))}
                    >
                      {ROLES.filter((r) => r !== 'owner' || isOwner).map((r) => <option key={r} value={r}>{r}</option>)}
                    </select>
                  ) : (
                    m.role
                  )}
                </td>
                <td data-label="Joined">{when(m.joined_at)}</td>
                <td>
                  {m.user_id === me.id && !current.personal && (m.role !== 'owner' || members.data!.items.filter((o) => o.role === 'owner').length > 1) && (
                    <button type="button" className="secondary" disabled={busy} onClick={() => confirmed(`Leave ${current.name}?`) && act(() => api.removeMember(me.id), () => { refresh(); })}>
                      Leave
                    </button>
                  )}
                  {m.user_id !== me.id && isAdmin && (m.role !== 'owner' || isOwner) && (
                    <button type="button" className="danger" disabled={busy} onClick={() => confirmed(`Remove ${m.email}? Their API keys here stop working.`) && act(() => api.removeMember(m.user_id))}>
                      Remove
                    </button>
                  )}
                  {m.user_id !== me.id && isOwner && m.role !== 'owner' && (
                    <button type="button" className="secondary" disabled={busy} onClick={() => confirmed(`Make ${m.email} the owner? You become admin.`) && act(() => api.transferWorkspace(m.user_id), refresh)}>
                      Make owner
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {isAdmin && (
        <>
          <h2>Invite someone</h2>
          <form
            className="card"
            aria-label="Invite"
            onSubmit={(e: FormEvent) => {
              e.preventDefault();
              void act(() => api.invite({ email, role }), (made) => { setInvited(made); setEmail(''); });
            }}
          >
            <div className="row">
              <Field label="Email" error={error?.fieldError('email')}>
                <input name="invite-email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
              </Field>
              <Field label="Role" error={error?.fieldError('role')} hint="viewer reads; editor also changes and fires; admin also members, credentials, keys">
                <select name="invite-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
                  {ROLES.filter((r) => r !== 'owner' || isOwner).map((r) => <option key={r} value={r}>{r}</option>)}
                </select>
              </Field>
            </div>
            <button type="submit" disabled={busy}>Invite</button>
          </form>
          {invited && (
            <div className="note" role="status">
              <p>
                {invited.mailed ? `Mailed to ${invited.email}.` : `Send this link to ${invited.email}.`} It works once, until {when(invited.expires_at)}.
              </p>
              <div className="copy-row"><code className="mono">{invited.link}</code><CopyButton text={invited.link} /></div>
            </div>
          )}
          {invitations.data && invitations.data.items.length > 0 && (
            <table className="list" aria-label="Open invitations">
              <thead><tr><th>Invited</th><th>Role</th><th>Expires</th><th></th></tr></thead>
              <tbody>
                {invitations.data.items.map((i) => (
                  <tr key={i.id}>
                    <td data-label="Invited">{i.email}</td>
                    <td data-label="Role">{i.role}</td>
                    <td data-label="Expires">{when(i.expires_at)}</td>
                    <td><button type="button" className="secondary" disabled={busy} onClick={() => act(() => api.revokeInvitation(i.id))}>Revoke</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}

          <h2>Settings</h2>
          <div className="card">
            <label className="check">
              <input
                type="checkbox"
                name="require-sso"
                checked={current.require_sso}
                disabled={busy}
                onChange={(e) => act(() => api.updateWorkspace({ require_sso: e.target.checked }), refresh)}
              />
              Members must sign in with single sign-on (API keys keep working)
            </label>
          </div>
        </>
      )}
      {isOwner && !current.personal && (
        <p>
          <button type="button" className="danger" disabled={busy} onClick={() => confirmed(`Delete ${current.name} with every workflow, run and credential in it? This cannot be undone.`) && act(() => api.deleteWorkspace(), () => refresh())}>
            Delete workspace
          </button>
        </p>
      )}

      <h2>New workspace</h2>
      <form
        className="card"
        aria-label="New workspace"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          void act(() => api.createWorkspace(newName), (made) => { setNewName(''); switchTo(made.id); });
        }}
      >
        <Field label="Name" error={error?.fieldError('name')}>
          <input name="workspace-name" required value={newName} onChange={(e) => setNewName(e.target.value)} />
        </Field>
        <button type="submit" disabled={busy}>Create workspace</button>
      </form>
      {members.error ? <ErrorNote error={members.error} /> : null}
      {members.data && members.data.items.length === 0 && <Empty>No members.</Empty>}
    </section>
  );
}
