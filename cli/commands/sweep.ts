/** `creditflow sweep <sweep.yaml> [--id ID] [--watch] [--dry-run]`: validate every trial, then start the sweep. */
import { loadSweepFile } from '../../sweeps/load.js';
import { newSweepId, startSweep } from '../../sweeps/start.js';
import { paramsLabel, trialId } from '../../workflows/sweep-plan.js';
import { connectClient, parse, targetFrom, uiLink } from '../options.js';
import { watchSweep } from '../watch-sweep.js';

/** The Web UI's workflow list filtered to one sweep and its trials. */
export function sweepListLink(runLink: string, sweepId: string): string {
  return `${runLink}?query=${encodeURIComponent(`SweepId="${sweepId}"`)}`;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { id: { type: 'string' }, watch: { type: 'boolean' }, 'dry-run': { type: 'boolean' } }, ['sweep.yaml']);
  if (values.help) {
    console.log('usage: creditflow sweep <sweep.yaml> [--id SWEEP_ID] [--watch] [--dry-run] [--address host:port] [--namespace NS]');
    return 0;
  }
  // Every trial's config is validated before any connection: a bad sweep never reaches the server.
  const loaded = loadSweepFile(positionals[0]);
  const sweepId = values.id ?? newSweepId(loaded.base.experiment);
  if (values['dry-run']) {
    console.log(`${loaded.params.length} trials, ranked by ${loaded.settings.metric} (${loaded.settings.direction}), ${loaded.settings.concurrency} at a time:`);
    loaded.params.forEach((p, k) => console.log(`  ${trialId(sweepId, k + 1)}  ${paramsLabel(p)}`));
    return 0;
  }
  const target = targetFrom(values);
  const client = await connectClient(target);
  try {
    const handle = await startSweep(client, loaded, sweepId);
    console.log(`started sweep ${handle.workflowId}: ${loaded.params.length} trials, ${loaded.settings.concurrency} at a time`);
    console.log(`  Web UI: ${uiLink(target, handle.workflowId)}`);
    console.log(`  trials: ${sweepListLink(uiLink(target), handle.workflowId)}`);
    console.log(`  follow: creditflow watch ${handle.workflowId} · report: creditflow report ${handle.workflowId}`);
    if (values.watch) await watchSweep(client, handle.workflowId);
    return 0;
  } finally {
    await client.connection.close();
  }
}
