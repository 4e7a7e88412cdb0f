import { FormEvent, useState } from 'react';
import { api, ApiError, ApiKey } from '../api';
import { useLive } from '../query';
import { confirmed, CopyButton, Empty, ErrorNote, Field, Loading, useBusy, when } from '../ui';
import { useWorkspace } from '../workspace';
import { keys, queries } from '../queries';

/** Personal API keys for scripts and CI: created here, shown once, revoked with a click. */
export function ApiKeysPage() {
  const ws = useWorkspace().current?.id;
  const { data, error } = useLive(queries.apiKeys(ws), 10000);
  const [name, setName] = useState('');
  const [scope, setScope] = useState<'read' | 'trigger' | 'write' | 'admin'>('write');
  const [created, setCreated] = useState<ApiKey | null>(null);
  const [formError, setFormError] = useState<ApiError | null>(null);
  const [busy, once] = useBusy([keys.apiKeys(ws)]);

  async function create(e: FormEvent) {
    e.preventDefault();
    setFormError(null);
    await once(async () => {
      try {
        setCreated(await api.createApiKey({ name, scope }));
        setName('');
      } catch (err) {
        setFormError(err as ApiError);
      }
    });
  }

  return (
    <section>
      <h1>API keys</h1>
      <form onSubmit={create} className="card" aria-label="New API key">
        <Field label="Name" error={formError?.fieldError('name')} hint="What the key is for, e.g. CI pipeline">
          <input name="key-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label="Scope" error={formError?.fieldError('scope')} hint="read: look only; trigger: also fire, replay, cancel; write: also change workflows; admin: also API keys, members and credentials">
          <select name="key-scope" value={scope} onChange={(e) => setScope(e.target.value as typeof scope)}>
            <option value="read">read</option>
            <option value="trigger">trigger</option>
            <option value="write">write</option>
            <option value="admin">admin</option>
          </select>
        </Field>
        <button type="submit" disabled={busy}>Create key</button>
      </form>
      {created?.key && (
        <div className="note">
          <p>Copy the key now — it is not shown again. Use it as <code>Authorization: Bearer …</code>.</p>
          <div className="copy-row"><code className="mono">{created.key}</code><CopyButton text={created.key} /></div>
        </div>
      )}
      <ErrorNote error={error} />
      {!data && !error && <Loading />}
      {data && data.items.length === 0 && <Empty>No API keys.</Empty>}
      {data && data.items.length > 0 && (
        <table className="list">
          <thead><tr><th>Name</th><th>Scope</th><th>Key</th><th>Created</th><th>Last used</th><th></th></tr></thead>
          <tbody>
            {data.items.map((k) => (
              <tr key={k.id}>
                <td data-label="Name">{k.name}</td>
                <td data-label="Scope">{k.scope}</td>
                <td data-label="Key" className="mono">{k.prefix}…</td>
                <td data-label="Created">{when(k.created_at)}</td>
                <td data-label="Last used">{when(k.last_used_at)}</td>
                <td><button type="button" className="danger" disabled={busy} onClick={() => confirmed(`Revoke "${k.name}"? Scripts using it stop working.`) && once(() => api.deleteApiKey(k.id))}>Revoke</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
