import { useEffect, useState } from 'react';
import { api, currentWorkspaceId } from './api';
import { useBusy } from './ui';

/**
 * Browser notifications for a workflow's failed runs (Web Push). The browser subscribes once (with the server's VAPID
 * key) and the server keeps one subscription per browser with the workflows it hears about; which subscription is
 * this browser's is remembered per workspace in localStorage (the server shows only the push service's origin, the
 * endpoint being a capability).
 */
export type PushSupport = 'supported' | 'unsupported' | 'insecure';

export function pushSupport(w: Window = window): PushSupport {
  if (!w.isSecureContext) return 'insecure';
  return 'serviceWorker' in w.navigator && 'PushManager' in w && 'Notification' in w ? 'supported' : 'unsupported';
}

/** base64url (the VAPID key as the server gives it) as the bytes PushManager.subscribe wants. */
export function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4);
  const raw = atob(base64);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

const storageKey = () => `kikonect.push.${currentWorkspaceId() ?? 'default'}`;

/** This browser's subscription in the workspace: which workflows' failures and whether approvals it hears about. */
export type PushState = { id: number | null; workflows: number[]; approvals: boolean };

const none: PushState = { id: null, workflows: [], approvals: false };

async function thisBrowsersSubscription(): Promise<PushState> {
  const saved = Number(window.localStorage.getItem(storageKey()));
  if (!saved) return none;
  const mine = (await api.pushSubscriptions()).items.find((s) => s.id === saved);
  return mine ? { id: mine.id, workflows: mine.workflow_ids, approvals: mine.approvals } : none;
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(Object.assign(new Error('no answer from the push service'), { name: 'AbortError' })), ms);
    work.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

/** Why subscribing failed, in words (the browser's own messages say "AbortError: Registration failed - push service error"). */
export function subscribeProblem(e: unknown): string {
  const name = e instanceof Error ? e.name : '';
  if (name === 'NotAllowedError') return 'Notifications are blocked for this site: allow them in the browser’s site settings.';
  if (name === 'AbortError' || name === 'InvalidStateError')
    return 'This browser could not reach its push service, so it cannot receive notifications now (offline, a private window, or push blocked by a policy).';
  return e instanceof Error && e.message ? `Notifications could not be turned on: ${e.message}` : 'Notifications could not be turned on.';
}

/** The subscription with workflow {@code workflowId}'s failures turned on or off, the rest kept (a PUT replaces all). */
export function withWorkflow(s: PushState, workflowId: number, on: boolean): PushState {
  return { ...s, workflows: on ? [...s.workflows.filter((id) => id !== workflowId), workflowId] : s.workflows.filter((id) => id !== workflowId) };
}

/** "Notify me in this browser when a run of this workflow fails", on or off. */
export function NotifyToggle({ workflowId }: { workflowId: number }) {
  return (
    <PushToggle
      label="Notify me in this browser when a run fails"
      isOn={(s) => s.workflows.includes(workflowId)}
      next={(s, on) => withWorkflow(s, workflowId, on)}
    />
  );
}

/** "Notify me in this browser when an approval I may decide begins to wait", on or off. */
export function ApprovalsNotifyToggle() {
  return (
    <PushToggle
      label="Notify me in this browser when an approval I may decide is waiting"
      isOn={(s) => s.approvals}
      next={(s, on) => ({ ...s, approvals: on })}
    />
  );
}

/**
 * One setting of this browser's subscription: {@code next} gives the subscription with it turned on or off; the rest
 * (the other workflows, approvals) is kept, since a PUT replaces the whole subscription.
 */
function PushToggle({ label, isOn, next }: { label: string; isOn: (s: PushState) => boolean; next: (s: PushState, on: boolean) => PushState }) {
  const support = pushSupport();
  const [state, setState] = useState<PushState | null>(null);
  const [problem, setProblem] = useState<string>();
  const [busy, once] = useBusy([]); // subscriptions are not in the query cache: nothing to refresh

  useEffect(() => {
    if (support !== 'supported') return;
    thisBrowsersSubscription().then(setState, () => setState(none));
  }, [support]);

  if (support !== 'supported') {
    return (
      <p className="muted" data-testid="notify-unavailable">
        {support === 'insecure'
          ? 'Browser notifications need the app over https (or on localhost).'
          : 'This browser does not support push notifications.'}
      </p>
    );
  }
  const on = state !== null && isOn(state);

  async function toggle() {
    setProblem(undefined);
    await once(async () => {
      try {
        const wanted = next(state ?? none, !on);
        if (!on && (await Notification.requestPermission()) !== 'granted') {
          setProblem('Notifications are blocked for this site: allow them in the browser’s site settings.');
          return;
        }
        const registration = await navigator.serviceWorker.ready;
        let subscription = await registration.pushManager.getSubscription();
        if (!subscription) {
          if (wanted.workflows.length === 0 && !wanted.approvals) return;
          const { public_key } = await api.pushKey();
          // A browser whose push service cannot be reached may never settle: 20 s, then say so.
          subscription = await withDeadline(
            registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(public_key) }),
            20_000,
          );
        }
        const json = subscription.toJSON() as { endpoint: string; keys: { p256dh: string; auth: string } };
        const saved = await api.subscribePush({ endpoint: json.endpoint, keys: json.keys, workflow_ids: wanted.workflows, approvals: wanted.approvals });
        window.localStorage.setItem(storageKey(), String(saved.id));
        setState({ id: saved.id, workflows: saved.workflow_ids, approvals: saved.approvals });
      } catch (e) {
        setProblem(subscribeProblem(e));
      }
    });
  }

  return (
    <div className="notify" data-testid="notify">
      <label className="inline">
        <input type="checkbox" checked={on} disabled={busy || state === null} onChange={toggle} aria-describedby={problem ? 'notify-problem' : undefined} />{' '}
        {label}
      </label>
      {problem && <p className="error" id="notify-problem" role="alert">{problem}</p>}
    </div>
  );
}
