import { describe, expect, it } from 'vitest';
import { keys, queries } from './queries';

describe('the reads of the web app', () => {
  const ws = 7;
  const workspaceReads = {
    workflows: queries.workflows(ws, 'cron'),
    workflowNames: queries.workflowNames(ws),
    workflow: queries.workflow(ws, 3),
    runs: queries.runs(ws, { status: 'failed' }),
    runPages: queries.runPages(ws, { status: 'failed' }),
    run: queries.run(ws, 9),
    stats: queries.stats(ws),
    members: queries.members(ws),
    invitations: queries.invitations(ws, true),
    apiKeys: queries.apiKeys(ws),
    credentials: queries.credentials(ws),
    auditPages: queries.auditPages(ws, {}),
  };

  it('carry the workspace in every key of a workspace read', () => {
    for (const [name, read] of Object.entries(workspaceReads)) {
      expect([name, read.queryKey.slice(0, 2)]).toEqual([name, ['ws', ws]]);
    }
  });

  it('are refreshed by the prefixes writes name', () => {
    const under = (key: readonly unknown[], prefix: readonly unknown[]) => prefix.every((p, i) => key[i] === p);
    expect(under(workspaceReads.workflows.queryKey, keys.workflows(ws))).toBe(true);
    expect(under(workspaceReads.workflowNames.queryKey, keys.workflows(ws))).toBe(true);
    expect(under(workspaceReads.runPages.queryKey, keys.runs(ws))).toBe(true);
    expect(under(workspaceReads.runs.queryKey, keys.runs(ws))).toBe(true);
    expect(under(workspaceReads.workflow.queryKey, keys.workflows(ws))).toBe(false); // one workflow is named apart
    expect(under(queries.workflows(8).queryKey, keys.workflows(ws))).toBe(false); // another workspace's cache is left alone
  });
});
