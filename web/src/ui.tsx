import { QueryKey, useMutation } from '@tanstack/react-query';
import { queryClient } from './query';
import { cloneElement, isValidElement, ReactNode, useCallback, useId, useRef, useState } from 'react';

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A time in a given IANA zone (default: the browser's), with the zone named: "Nov 27, 2026, 9:00:00 AM (Asia/Kolkata)". */
export function whenIn(iso: string | null | undefined, zone?: string): string {
  if (!iso) return '—';
  const tz = zone || Intl.DateTimeFormat().resolvedOptions().timeZone;
  try {
    return `${new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium', timeZone: tz })} (${tz})`;
  } catch {
    return `${when(iso)} (${Intl.DateTimeFormat().resolvedOptions().timeZone})`;
  }
}

export function StatusBadge({ status }: { status: string | null }) {
  if (!status) return <span className="badge">never ran</span>;
  return <span className={`badge status-${status}`}>{status}</span>;
}

export function Loading() {
  return <p className="muted" role="status">Loading…</p>;
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const status = (error as { status?: number }).status;
  if (status === 404) {
    return (
      <div className="error" role="alert">
        <p>{message}. It may have been deleted, or it belongs to another workspace.</p>
        <p><a href="#/dashboard">Back to the dashboard</a></p>
      </div>
    );
  }
  return <p className="error" role="alert">{message}</p>;
}

/** A route that names no page. */
export function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>There is no page at this address.</p>
      <p><a href="#/dashboard">Back to the dashboard</a></p>
    </section>
  );
}

/**
 * Copies `text`; where the Clipboard API is missing (a plain-http host) or refuses, selects the text next to the
 * button instead and says so, so that Ctrl+C (or a long press) finishes the job.
 */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'selected'>('idle');
  const select = (button: HTMLElement) => {
    const target = button.previousElementSibling;
    const selection = window.getSelection();
    if (target && selection) {
      const range = document.createRange();
      range.selectNodeContents(target);
      selection.removeAllRanges();
      selection.addRange(range);
    }
    setState('selected');
  };
  return (
    <button
      type="button"
      className="secondary"
      onClick={(e) => {
        const button = e.currentTarget;
        if (!navigator.clipboard) {
          select(button);
          return;
        }
        navigator.clipboard.writeText(text).then(
          () => setState('copied'),
          () => select(button),
        );
        setTimeout(() => setState('idle'), 2500);
      }}
    >
      {state === 'copied' ? 'Copied' : state === 'selected' ? 'Selected: press Ctrl+C' : label}
    </button>
  );
}

export function Field({ label, error, children, hint }: { label: string; error?: string; children: ReactNode; hint?: string }) {
  const id = useId();
  const note = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  // the control says it is invalid and points at its message, so assistive tech reads the reason with the field
  const control = isValidElement<Record<string, unknown>>(children)
    ? cloneElement(children, { 'aria-invalid': error ? true : undefined, 'aria-describedby': note })
    : children;
  return (
    <label className={`field ${error ? 'invalid' : ''}`}>
      <span>{label}</span>
      {control}
      {hint && !error && <small className="muted" id={`${id}-hint`}>{hint}</small>}
      {error && <small className="error" id={`${id}-error`}>{error}</small>}
    </label>
  );
}

/** Asks before a destructive action. */
export function confirmed(question: string): boolean {
  return window.confirm(question);
}

/**
 * A page's writes, one at a time (a double click sends one request, and `busy` disables the buttons meanwhile),
 * through TanStack Query's `useMutation`: when a write succeeds, the reads named in `affects` (keys or key prefixes
 * from queries.ts) are refreshed, and nothing else.
 */
export function useBusy(affects: readonly QueryKey[]): [boolean, <T>(work: () => Promise<T>) => Promise<T | undefined>] {
  const flying = useRef(false);
  const [busy, setBusy] = useState(false); // set at the click, not after the mutation cache's next notification
  const { mutateAsync } = useMutation({
    mutationFn: (work: () => Promise<unknown>) => work(),
    onSuccess: () => Promise.all(affects.map((queryKey) => queryClient.invalidateQueries({ queryKey }))),
  });
  const run = useCallback(async <T,>(work: () => Promise<T>): Promise<T | undefined> => {
    if (flying.current) return undefined;
    flying.current = true;
    setBusy(true);
    try {
      return (await mutateAsync(work)) as T;
    } finally {
      flying.current = false;
      setBusy(false);
    }
  }, [mutateAsync]);
  return [busy, run];
}
