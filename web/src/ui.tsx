import { cloneElement, isValidElement, ReactNode, useCallback, useId, useRef, useState } from 'react';

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
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
  return <p className="error" role="alert">{message}</p>;
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      className="secondary"
      onClick={() => {
        navigator.clipboard?.writeText(text).then(
          () => setDone(true),
          () => setDone(false),
        );
        setTimeout(() => setDone(false), 1500);
      }}
    >
      {done ? 'Copied' : label}
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
 * One write at a time from a page: `run(work)` does nothing while an earlier one is still in flight (a double click
 * fires one request, not two), and `busy` disables the buttons meanwhile.
 */
export function useBusy(): [boolean, <T>(work: () => Promise<T>) => Promise<T | undefined>] {
  const [busy, setBusy] = useState(false);
  const flying = useRef(false);
  const run = useCallback(async <T,>(work: () => Promise<T>): Promise<T | undefined> => {
    if (flying.current) return undefined;
    flying.current = true;
    setBusy(true);
    try {
      return await work();
    } finally {
      flying.current = false;
      setBusy(false);
    }
  }, []);
  return [busy, run];
}
