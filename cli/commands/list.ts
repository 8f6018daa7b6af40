/** `creditflow list [--query "Experiment='demo'"] [--limit N]`: recent runs, newest first. */
import { SEARCH_ATTRIBUTES } from '../../workflows/shared.js';
import { connectClient, parse, targetFrom } from '../options.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { query: { type: 'string' }, limit: { type: 'string' } }, []);
  if (values.help) {
    console.log('usage: creditflow list [--query "<Temporal list filter>"] [--limit N]');
    return 0;
  }
  const limit = Number(values.limit ?? 20);
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit must be a positive integer, got ${values.limit}`);
  const client = await connectClient(targetFrom(values));
  try {
    const query = ["WorkflowType = 'trainingRun' OR WorkflowType = 'preferenceRun'", values.query].filter(Boolean).map((q) => `(${q})`).join(' AND ');
    const rows: string[][] = [['RUN', 'STATUS', 'EXPERIMENT', 'OBJECTIVE', 'RUN STATUS', 'BEST ACC', 'STARTED']];
    for await (const wf of client.workflow.list({ query })) {
      const sa = wf.typedSearchAttributes;
      const best = sa.get(SEARCH_ATTRIBUTES.bestAccuracy);
      rows.push([wf.workflowId, wf.status.name, sa.get(SEARCH_ATTRIBUTES.experiment) ?? '', sa.get(SEARCH_ATTRIBUTES.objective) ?? '',
        sa.get(SEARCH_ATTRIBUTES.runStatus) ?? '', best === undefined ? '' : `${(100 * Number(best)).toFixed(1)}%`, wf.startTime.toISOString()]);
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
