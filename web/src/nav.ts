// Navigation the pages share: hash routes (#/workflows/3, so that the server serves one page and deep links survive)
// and the warning before leaving a page with unsaved changes. Pages import these from here, never from App.tsx.

let leaveWarning: string | null = null;

/** While `message` is set, leaving the page (reload, close, another site) asks first; null stops asking. */
export function warnBeforeLeaving(message: string | null) {
  leaveWarning = message;
}

/** The unsaved-changes message in force, if any (the router asks before an in-app navigation). */
export function pendingLeaveWarning(): string | null {
  return leaveWarning;
}

if (typeof window !== 'undefined') {
  window.addEventListener('beforeunload', (e) => {
    if (leaveWarning) {
      e.preventDefault();
      e.returnValue = leaveWarning;
    }
  });
}

export function go(path: string) {
  window.location.hash = path;
}
