/** `creditflow sweep <sweep.yaml> [key.path=value ...] [--set ...] [--id ID] [--watch] [--dry-run]`: validate every trial, then start the sweep. */
import { ConfigError } from '../../configs/load.js';
import { DEFAULT_MEMORY_BUDGET_MB, memoryProblems } from '../../configs/memory-estimate.js';
import { temporalStringProblems } from '../submit-run.js';
import { loadSweepFile } from '../../sweeps/load.js';
import { newSweepId, startSweep } from '../../sweeps/start.js';
import { applyParams, paramsLabel, trialId } from '../../workflows/sweep-plan.js';
import { connectClient, targetFrom, uiLink } from '../options.js';
import type { Options } from '../program.js';
import { watchSweep } from '../watch-sweep.js';
import { overridesFrom } from './submit.js';

/** The Web UI's workflow list filtered to one sweep and its trials. */
export function sweepListLink(runLink: string, sweepId: string): string {
  return `${runLink}?query=${encodeURIComponent(`SweepId="${sweepId}"`)}`;
}

export async function execute([file, positional]: unknown[], options: Options): Promise<number> {
  const overrides = overridesFrom(positional as string[], (options.set as string[] | undefined) ?? []);
  // Every trial's config is validated before any connection: a bad sweep never reaches the server.
  const loaded = loadSweepFile(file as string, overrides);
  const sweepId = (options.id as string | undefined) ?? newSweepId(loaded.base.experiment);
  // Each trial is a run: the same memory and name limits as submit, for the longest trial id and every trial's config.
  const refused = [
    ...temporalStringProblems(trialId(sweepId, loaded.params.length), loaded.base, options.id === undefined ? 'experiment (the sweep id starts with it)' : '--id'),
    ...loaded.params.flatMap((p, k) => memoryProblems({ kind: 'rl', config: applyParams(loaded.base, p) }, (options.memoryBudgetMb as number | undefined) ?? DEFAULT_MEMORY_BUDGET_MB)
      .map((problem) => `trial ${k + 1} (${paramsLabel(p)}): ${problem}`)),
  ];
  if (refused.length > 0) throw new ConfigError(file as string, [...new Set(refused)].slice(0, 20));
  if (options.dryRun) {
    console.log(`${loaded.params.length} trials, ranked by ${loaded.settings.metric} (${loaded.settings.direction}), ${loaded.settings.concurrency} at a time`
      + `${overrides.length ? `, with ${overrides.map((o) => o.text).join(' ')}` : ''}:`);
    loaded.params.forEach((p, k) => console.log(`  ${trialId(sweepId, k + 1)}  ${paramsLabel(p)}`));
    return 0;
  }
  const target = targetFrom(options);
  const client = await connectClient(target);
  try {
    const handle = await startSweep(client, loaded, sweepId);
    console.log(`started sweep ${handle.workflowId}: ${loaded.params.length} trials, ${loaded.settings.concurrency} at a time`);
    if (overrides.length) console.log(`  overrides: ${overrides.map((o) => o.text).join(' ')}`);
    console.log(`  Web UI: ${uiLink(target, handle.workflowId)}`);
    console.log(`  trials: ${sweepListLink(uiLink(target), handle.workflowId)}`);
    console.log(`  follow: creditflow watch ${handle.workflowId} · report: creditflow report ${handle.workflowId}`);
    if (options.watch) await watchSweep(client, handle.workflowId);
    return 0;
  } finally {
    await client.connection.close();
  }
}
