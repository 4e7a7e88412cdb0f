import { useCan, useWorkspace } from '../workspace';
import { FormEvent, useState } from 'react';
import { api, ApiError, Credential } from '../api';
import { useLive } from '../query';
import { confirmed, Empty, ErrorNote, Field, Loading, useBusy, when } from '../ui';
import { keys, queries } from '../queries';

/** The fields of each credential type; secret ones are typed in, sent once, and never shown again. */
export const CREDENTIAL_TYPES: Record<string, { label: string; fields: { name: string; label: string; secret?: boolean; optional?: boolean }[] }> = {
  bearer: { label: 'Bearer token', fields: [{ name: 'token', label: 'Token', secret: true }] },
  basic: { label: 'Basic (username and password)', fields: [{ name: 'username', label: 'Username' }, { name: 'password', label: 'Password', secret: true }] },
  header: { label: 'Header', fields: [{ name: 'header_name', label: 'Header name' }, { name: 'value', label: 'Value', secret: true }] },
  query: { label: 'Query parameter', fields: [{ name: 'param_name', label: 'Parameter name' }, { name: 'value', label: 'Value', secret: true }] },
  oauth2_client_credentials: {
    label: 'OAuth2 client credentials',
    fields: [
      { name: 'token_url', label: 'Token URL' },
      { name: 'client_id', label: 'Client ID' },
      { name: 'client_secret', label: 'Client secret', secret: true },
      { name: 'scope', label: 'Scope', optional: true },
      { name: 'audience', label: 'Audience', optional: true },
    ],
  },
};

/** Only the fields of {@code type} that were filled in: what the API is sent. */
export function credentialBody(type: string, values: Record<string, string>): Record<string, string> {
  const body: Record<string, string> = {};
  for (const f of CREDENTIAL_TYPES[type].fields) {
    if (values[f.name]) body[f.name] = values[f.name];
  }
  return body;
}

/** The hosts typed in the form, as the API takes them. */
export function hostList(text: string): string[] {
  return text.split(/[\s,]+/).map((h) => h.trim()).filter((h) => h.length > 0);
}

/** Credentials for steps: created and replaced here; their secrets are never shown back. */
export function CredentialsPage() {
  const canAdmin = useCan('admin');
  const ws = useWorkspace().current?.id;
  const { data, error } = useLive(queries.credentials(ws), 10000);
  const [name, setName] = useState('');
  const [type, setType] = useState('header');
  const [values, setValues] = useState<Record<string, string>>({});
  const [hosts, setHosts] = useState('');
  const [replacing, setReplacing] = useState<Credential | null>(null);
  const [formError, setFormError] = useState<ApiError | null>(null);
  const [listError, setListError] = useState<ApiError | null>(null);
  const [busy, once] = useBusy([keys.credentials(ws), keys.workflows(ws)]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setFormError(null);
    await once(async () => {
    try {
      const allowed = hostList(hosts);
      if (replacing) {
        await api.replaceCredential(replacing.id, { ...credentialBody(replacing.type, values), ...(allowed.length ? { allowed_hosts: allowed } : {}) });
      } else {
        await api.createCredential({ name, type, ...credentialBody(type, values), allowed_hosts: allowed });
      }
      setName('');
      setValues({});
      setHosts('');
      setReplacing(null);
    } catch (err) {
      setFormError(err as ApiError);
    }
    });
  }

  async function remove(c: Credential) {
    if (!confirmed(`Delete credential "${c.name}"?`)) return;
    setListError(null);
    await once(async () => {
      try {
        await api.deleteCredential(c.id);
      } catch (err) {
        setListError(err as ApiError); // 409: the message names the workflows that still use it
      }
    });
  }

  const shownType = replacing ? replacing.type : type;
  return (
    <section>
      <h1>Credentials</h1>
      <p className="muted">A step names a credential ("credential": "erp-api"); it is added to the request when it is sent. Secrets are encrypted at rest and never shown again.</p>
      {canAdmin && <form onSubmit={submit} className="card" aria-label={replacing ? 'Replace credential' : 'New credential'}>
        {replacing ? (
          <p>Replacing <strong>{replacing.name}</strong> ({CREDENTIAL_TYPES[replacing.type]?.label}): type every field again.</p>
        ) : (
          <>
            <Field label="Name" error={formError?.fieldError('name')} hint="What steps call it, e.g. erp-api">
              <input name="credential-name" required value={name} onChange={(e) => setName(e.target.value)} />
            </Field>
            <Field label="Type" error={formError?.fieldError('type')}>
              <select name="credential-type" value={type} onChange={(e) => { setType(e.target.value); setValues({}); }}>
                {Object.entries(CREDENTIAL_TYPES).map(([k, t]) => <option key={k} value={k}>{t.label}</option>)}
              </select>
            </Field>
          </>
        )}
        {CREDENTIAL_TYPES[shownType]?.fields.map((f) => (
          <Field key={f.name} label={f.label + (f.optional ? ' (optional)' : '')} error={formError?.fieldError(f.name)}>
            <input
              name={`credential-${f.name}`}
              type={f.secret ? 'password' : 'text'}
              autoComplete="off"
              required={!f.optional}
              value={values[f.name] ?? ''}
              onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
            />
          </Field>
        ))}
        <Field
          label={'Allowed hosts' + (replacing ? ' (empty: unchanged)' : '')}
          error={formError?.fieldError('allowed_hosts')}
          hint="Where steps may send it: api.example.com, or *.example.com for its subdomains; separate with commas or spaces. Another host fails the attempt without sending."
        >
          <input name="credential-allowed_hosts" required={!replacing} value={hosts} onChange={(e) => setHosts(e.target.value)} />
        </Field>
        <ErrorNote error={formError && formError.errors.length === 0 ? formError : null} />
        <div className="row">
          <button type="submit" disabled={busy}>{replacing ? 'Replace' : 'Create credential'}</button>
          {replacing && <button type="button" className="secondary" onClick={() => { setReplacing(null); setValues({}); }}>Cancel</button>}
        </div>
      </form>}
      <ErrorNote error={error ?? listError} />
      {!data && !error && <Loading />}
      {data && data.items.length === 0 && <Empty>No credentials.</Empty>}
      {data && data.items.length > 0 && (
        <table className="list">
          <thead><tr><th>Name</th><th>Type</th><th>Details</th><th>Used by</th><th>Last used</th><th></th></tr></thead>
          <tbody>
            {data.items.map((c) => (
              <tr key={c.id}>
                <td data-label="Name">{c.name}</td>
                <td data-label="Type">{CREDENTIAL_TYPES[c.type]?.label ?? c.type}</td>
                <td data-label="Details" className="mono">
                  {Object.entries(c.fields).map(([k, v]) => `${k}: ${v}`).join(', ')}
                  {c.allowed_hosts?.length ? ` · to ${c.allowed_hosts.join(', ')}` : ' · to no host yet'}
                </td>
                <td data-label="Used by">{(c.used_by ?? []).map((w) => <a key={w.id} href={`#/workflows/${w.id}`}>{w.name}</a>)}</td>
                <td data-label="Last used">{when(c.last_used_at)}</td>
                <td>
                  {canAdmin && (<>
                  <button type="button" className="secondary" onClick={() => { setReplacing(c); setValues({}); }}>Replace</button>{' '}
                  <button type="button" className="danger" onClick={() => remove(c)}>Delete</button>
                  </>)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
