/** `creditflow status <run-id> [--json]`: the run's state, progress and latest metrics. */
import { progressQuery } from '../../workflows/shared.js';
import { connectClient, parse, targetFrom, uiLink } from '../options.js';
import { progressLine } from '../progress-bar.js';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, ['run-id']);
  if (values.help) {
    console.log('usage: creditflow status <run-id> [--json]');
    return 0;
  }
  const target = targetFrom(values);
  const client = await connectClient(target);
  try {
    const handle = client.workflow.getHandle(positionals[0]);
    const description = await handle.describe();
    const progress = await handle.query(progressQuery).catch(() => null);
    if (values.json) {
      console.log(JSON.stringify({ workflowStatus: description.status.name, progress }, null, 2));
      return 0;
    }
    console.log(`${positionals[0]}: ${description.status.name}`);
    if (progress) {
      console.log(`  ${progressLine(progress)}`);
      for (const [k, v] of Object.entries(progress.latestMetrics)) console.log(`  ${k.padEnd(28)} ${Number.isInteger(v) ? v : v.toFixed(4)}`);
      if (progress.runDir) console.log(`  run folder: ${progress.runDir}`);
    }
    console.log(`  Web UI: ${uiLink(target, positionals[0])}`);
    return 0;
  } finally {
    await client.connection.close();
  }
}
