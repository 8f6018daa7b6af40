/** `creditflow list [--query "Experiment='demo'"] [--limit N]`: recent runs, newest first. */
import { SEARCH_ATTRIBUTES } from '../../workflows/shared.js';
import { formatPercent } from '../../report/format.js';
import { connectClient, targetFrom } from '../options.js';
import type { Options } from '../program.js';

export async function execute(_args: unknown[], options: Options): Promise<number> {
  const limit = options.limit as number;
  const client = await connectClient(targetFrom(options));
  try {
    const query = ["WorkflowType = 'trainingRun' OR WorkflowType = 'preferenceRun'", options.query as string | undefined].filter(Boolean).map((q) => `(${q})`).join(' AND ');
    const rows: string[][] = [['RUN', 'STATUS', 'EXPERIMENT', 'OBJECTIVE', 'RUN STATUS', 'BEST ACC', 'STARTED']];
    for await (const wf of client.workflow.list({ query })) {
      const sa = wf.typedSearchAttributes;
      const best = sa.get(SEARCH_ATTRIBUTES.bestAccuracy);
      // A terminated run could not say so itself: its last published status is stale.
      const runStatus = wf.status.name === 'TERMINATED' ? 'terminated' : sa.get(SEARCH_ATTRIBUTES.runStatus) ?? '';
      rows.push([wf.workflowId, wf.status.name, sa.get(SEARCH_ATTRIBUTES.experiment) ?? '', sa.get(SEARCH_ATTRIBUTES.objective) ?? '',
        runStatus, best === undefined ? '' : formatPercent(Number(best)), wf.startTime.toISOString()]);
      if (rows.length > limit) break;
    }
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
    if (rows.length === 1) console.log('(no runs)');
    return 0;
  } finally {
    await client.connection.close();
  }
}
