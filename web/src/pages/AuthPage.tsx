import { FormEvent, useEffect, useState } from 'react';
import { api, ApiError, User } from '../api';
import { Field } from '../ui';
import { ssoErrorMessage } from '../ssoErrors';

/** Login and registration; errors from the API appear next to the field they are about. */
export function AuthPage({ onLogin, ended = false }: { onLogin: (user: User) => void; ended?: boolean }) {
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [form, setForm] = useState({ email: '', password: '', firstname: '', lastname: '' });
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [providers, setProviders] = useState<{ id: string; name: string; start_url: string }[]>([]);
  useEffect(() => {
    api.ssoProviders().then((p) => setProviders(p.items), () => setProviders([]));
  }, []);
  const hash = window.location.hash;
  const query = hash.startsWith('#/login?') ? new URLSearchParams(hash.slice('#/login?'.length)) : new URLSearchParams();
  const ssoError = query.get('sso_error');
  const verified = query.get('verified') === '1';
  const verifyError = query.get('verify_error');
  const invitation = hash.startsWith('#/invitations/');
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // registering from an invitation link carries its token (a server open only to invited people needs it)
      if (mode === 'register') await api.register(invitation ? { ...form, invitation: hash.slice('#/invitations/'.length) } : form);
      let session;
      try {
        session = await api.login({ email: form.email, password: form.password });
      } catch (err) {
        // registering never tells who has an account: a sign-in that fails right after means the address had one
        if (mode === 'register' && err instanceof ApiError && err.status === 401) {
          throw new ApiError(401, '', 'Could not sign in',
            'This address may already have an account: sign in with its password, or ask an administrator.', []);
        }
        throw err;
      }
      onLogin(session.user);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, '', 'Network error', String(err), []));
    } finally {
      setBusy(false);
    }
  }

  const fieldError = (f: string) => error?.fieldError(f);
  return (
    <div className="auth">
      <h1>KiKonect</h1>
      <p className="muted">When this happens, POST it there — reliably.</p>
      {ended && <p className="note" role="status">Your session ended, sign in again.</p>}
      {invitation && <p className="note">Sign in (or create an account with the invited address) to accept your invitation.</p>}
      {ssoError && <p className="error" role="alert">{ssoErrorMessage(ssoError)}</p>}
      {verified && <p className="note" role="status">Your address is verified. Sign in.</p>}
      {verifyError && <p className="error" role="alert">That verification link is unknown or expired; sign in and ask for another.</p>}
      {providers.length > 0 && (
        <div className="sso" aria-label="Single sign-on">
          {providers.map((p) => (
            <a key={p.id} className="button" href={p.start_url}>Sign in with {p.name}</a>
          ))}
        </div>
      )}
      <form onSubmit={submit} aria-label={mode === 'login' ? 'Log in' : 'Create account'}>
        <h2>{mode === 'login' ? 'Log in' : 'Create an account'}</h2>
        <Field label="Email" error={fieldError('email')}>
          <input name="email" type="email" autoComplete="email" required value={form.email} onChange={set('email')} />
        </Field>
        <Field label="Password" error={fieldError('password')} hint={mode === 'register' ? 'At least 8 characters' : undefined}>
          <input
            name="password"
            type="password"
            autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
            required
            value={form.password}
            onChange={set('password')}
          />
        </Field>
        {mode === 'register' && (
          <div className="row">
            <Field label="First name" error={fieldError('firstname')}>
              <input name="firstname" autoComplete="given-name" value={form.firstname} onChange={set('firstname')} />
            </Field>
            <Field label="Last name" error={fieldError('lastname')}>
              <input name="lastname" autoComplete="family-name" value={form.lastname} onChange={set('lastname')} />
            </Field>
          </div>
        )}
        {error && error.errors.length === 0 && <p className="error" role="alert">{error.message}</p>}
        <button type="submit" disabled={busy}>
          {busy ? 'Please wait…' : mode === 'login' ? 'Log in' : 'Create account'}
        </button>
        <button type="button" className="link" onClick={() => { setMode(mode === 'login' ? 'register' : 'login'); setError(null); }}>
          {mode === 'login' ? 'No account yet? Create one' : 'Have an account? Log in'}
        </button>
      </form>
    </div>
  );
}
