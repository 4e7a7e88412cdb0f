import { useState } from 'react';
import { api, ApiError } from '../api';
import { ErrorNote, useBusy } from '../ui';
import { useWorkspace } from '../workspace';

/** Where an invitation link lands once signed in: accept it and switch to the workspace. */
export function InvitationPage({ token }: { token: string }) {
  const { switchTo } = useWorkspace();
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, once] = useBusy([]); // switchTo refetches the workspace list itself
  return (
    <section>
      <h1>Invitation</h1>
      <p>You were invited to a workspace. Accept to join it with the role you were given.</p>
      <ErrorNote error={error} />
      <button
        type="button"
        disabled={busy}
        onClick={() =>
          void once(() =>
            api.acceptInvitation(token).then(
              (w) => switchTo(w.id),
              (e) => setError(e instanceof ApiError ? e : new ApiError(0, '', 'Network error', String(e), [])),
            ),
          )
        }
      >
        Accept invitation
      </button>
    </section>
  );
}
