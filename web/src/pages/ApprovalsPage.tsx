import { useState } from 'react';
import { api, Approval, ApiError } from '../api';
import { useLive } from '../query';
import { ErrorNote, Field, Loading, useBusy, when } from '../ui';
import { useWorkspace } from '../workspace';
import { ApprovalsNotifyToggle } from '../push';
import { keys, queries } from '../queries';

/** One approval: the workflow and run, the message, the run's payload; approve or reject with a comment. */
function ApprovalCard({ item }: { item: Approval }) {
  const ws = useWorkspace().current?.id;
  const [comment, setComment] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, once] = useBusy([keys.approvals(ws), keys.run(ws, item.run_id), keys.runs(ws)]);
  const decide = (approve: boolean) =>
    once(() => api.decide(item.run_id, item.step, approve, comment.trim()).catch((e: ApiError) => setError(e)));
  return (
    <li className="card" data-approval={`${item.run_id}-${item.step}`}>
      <p>
        <strong>{item.message || `Step ${item.step} waits for an approval`}</strong>
      </p>
      <p className="muted">
        {item.workflow_name} · <a href={`#/runs/${item.run_id}`}>run #{item.run_id}</a> · step <code>{item.step}</code> · waiting since {when(item.waiting_since)}
        {item.times_out_at ? ` · times out ${when(item.times_out_at)}` : ''} · {item.roles.join(' or ')} may decide
      </p>
      <details>
        <summary>Payload</summary>
        <pre className="code small">{JSON.stringify(item.payload, null, 2)}</pre>
      </details>
      {item.may_decide ? (
        <>
          <Field label="Comment (optional, kept in the run and the audit log)">
            <input name={`comment-${item.run_id}-${item.step}`} value={comment} maxLength={2000} onChange={(e) => setComment(e.target.value)} />
          </Field>
          <div className="actions">
            <button type="button" disabled={busy} onClick={() => decide(true)}>Approve</button>
            <button type="button" className="danger" disabled={busy} onClick={() => decide(false)}>Reject</button>
          </div>
        </>
      ) : (
        <p className="muted">Your role may not decide this one.</p>
      )}
      <ErrorNote error={error} />
    </li>
  );
}

/** What waits for an approval in this workspace, oldest first; the ones the viewer's role may decide have buttons. */
export function ApprovalsPage() {
  const ws = useWorkspace().current?.id;
  const { data, error } = useLive(queries.approvals(ws), 5000);
  if (!data) return error ? <ErrorNote error={error} /> : <Loading />;
  return (
    <section>
      <h1>Approvals</h1>
      <ApprovalsNotifyToggle />
      {data.items.length === 0 && <p className="muted">Nothing waits for an approval.</p>}
      <ul className="approvals" data-testid="approvals">
        {data.items.map((item) => <ApprovalCard key={`${item.run_id}-${item.step}`} item={item} />)}
      </ul>
    </section>
  );
}
