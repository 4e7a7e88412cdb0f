import { useEffect, useState } from 'react';
import { api, ApiError } from '../api';
import { useLive } from '../query';
import { ErrorNote, Loading, useBusy } from '../ui';
import { ssoErrorMessage } from '../ssoErrors';
import { keys, queries } from '../queries';

/**
 * The signed-in person's account: whether their address is verified (a mailed link, when the server sends mail) and
 * the identity providers they can link, so that single sign-on opens this account. Single sign-on never opens an
 * account whose address nobody verified: whoever registered the address first would own it.
 */
export function AccountPage({ query }: { query: URLSearchParams }) {
  const me = useLive(queries.me(), 60000);
  const [providers, setProviders] = useState<{ id: string; name: string }[]>([]);
  const [note, setNote] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [busy, once] = useBusy([keys.me()]);
  useEffect(() => {
    api.ssoProviders().then((p) => setProviders(p.items), () => setProviders([]));
  }, []);
  const linked = query.get('sso_linked');
  const ssoError = query.get('sso_error');

  async function resend() {
    setNote(null);
    setFailure(null);
    await once(async () => {
      try {
        await api.resendVerification();
        setNote('A verification link is on its way to your address.');
      } catch (err) {
        setFailure(err as ApiError);
      }
    });
  }

  const user = me.data;
  return (
    <section>
      <h1>Account</h1>
      {linked && <p className="note" role="status">Linked: single sign-on with {providers.find((p) => p.id === linked)?.name ?? linked} now opens this account.</p>}
      {ssoError && <p className="error" role="alert">{ssoErrorMessage(ssoError)}</p>}
      <ErrorNote error={me.error} />
      {!user && !me.error && <Loading />}
      {user && (
        <div className="card">
          <p>{user.firstname} {user.lastname} &lt;{user.email}&gt;</p>
          <p>
            Address: {user.email_verified ? 'verified' : 'not verified'}
            {!user.email_verified && (
              <>
                {' '}
                <button type="button" className="secondary" disabled={busy} onClick={resend}>Mail me a verification link</button>
              </>
            )}
          </p>
          {note && <p className="note" role="status">{note}</p>}
          <ErrorNote error={failure} />
        </div>
      )}
      {providers.length > 0 && (
        <div className="card" aria-label="Single sign-on">
          <h2>Single sign-on</h2>
          <p className="muted">Link a provider to sign in to this account with it. The provider must vouch for {user?.email ?? 'your address'}.</p>
          {providers.map((p) => (
            <a key={p.id} className="button secondary" href={`/sso/${encodeURIComponent(p.id)}/link`}>Link {p.name}</a>
          ))}
        </div>
      )}
    </section>
  );
}
