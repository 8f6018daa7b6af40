/** Starting a sweep: the one place the CLI calls `client.workflow.start` for the `sweep` workflow. */
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../workflows/shared.js';
import { initialRows } from '../workflows/sweep-plan.js';
import { sweep } from '../workflows/sweep.js';
import type { LoadedSweep } from './load.js';

export function newSweepId(experiment: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${experiment}-sweep-${stamp}-${randomBytes(2).toString('hex')}`;
}

export async function startSweep(client: Client, loaded: LoadedSweep, sweepId = newSweepId(loaded.base.experiment)) {
  const trials = initialRows(sweepId, loaded.params, loaded.base.run.iterations);
  // A trial may sweep run.iterations itself.
  for (const row of trials) if (typeof row.params['run.iterations'] === 'number') row.totalIterations = row.params['run.iterations'];
  return client.workflow.start(sweep, {
    taskQueue: TASK_QUEUES.cpu,
    workflowId: sweepId,
    args: [{ sweepId, base: loaded.base, settings: loaded.settings, trials }],
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.sweepId, value: sweepId },
      { key: SEARCH_ATTRIBUTES.experiment, value: loaded.base.experiment },
      { key: SEARCH_ATTRIBUTES.objective, value: loaded.base.objective.name },
      { key: SEARCH_ATTRIBUTES.runStatus, value: 'running' },
    ],
    staticSummary: `sweep · ${loaded.base.experiment} · ${trials.length} trials · ${loaded.settings.metric} (${loaded.settings.direction})`,
  });
}
