/** Starting a run: the one place the CLI (and the demo) calls `client.workflow.start`. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RunConfig } from '../configs/load.js';
import type { PreferenceConfig } from '../configs/preference-schema.js';
import type { ExperimentConfig } from '../configs/schema.js';
import { preferenceRun } from '../workflows/preference-run.js';
import { trainingRun } from '../workflows/training-run.js';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../workflows/shared.js';
import { runDir } from '../store/paths.js';
import { UsageError } from './program.js';

export function newRunId(config: { experiment: string }): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${config.experiment}-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** Start options shared by both run types: id, queue, the search attributes the Web UI filters on. */
function startOptions(config: ExperimentConfig | PreferenceConfig, runId: string, kind: string) {
  return {
    taskQueue: TASK_QUEUES.cpu,
    workflowId: runId,
    // A run id names one run's folder and history: never started twice (resume continues a run under its id).
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.experiment, value: config.experiment },
      { key: SEARCH_ATTRIBUTES.objective, value: config.objective.name },
      { key: SEARCH_ATTRIBUTES.runStatus, value: 'starting' },
    ],
    staticSummary: `${config.experiment} · ${config.objective.name}${kind} · seed ${config.seed}`,
  };
}

/**
 * Refuses a run id that is taken: by a workflow (running or closed) or by a run folder in the state
 * folder. Starting under it would rewrite that run's config.yaml and mix two runs' files.
 */
export async function refuseUsedRunId(client: Client, runId: string, home: string): Promise<void> {
  runDir(runId, home); // checks the id's characters
  const existing = await client.workflow.getHandle(runId).describe().catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  });
  const folder = existsSync(runDir(runId, home));
  if (!existing && !folder) return;
  const what = existing ? `a ${existing.type} that is ${existing.status.name.toLowerCase()}` : `a run folder ${runDir(runId, home)}`;
  throw new UsageError(`run id ${runId} is already used (${what}). Pick another --id (or leave it out for a fresh one); `
    + `to continue that run: creditflow resume ${runId}; to start a new run from its weights: creditflow submit <config> --from ${runId}`);
}

/** Starts the run; the handle also carries `firstExecutionRunId`. */
export async function submitRun(client: Client, config: ExperimentConfig, runId = newRunId(config)) {
  return client.workflow.start(trainingRun, { ...startOptions(config, runId, ''), args: [{ runId, config }] });
}

/** Starts an offline preference run (`kind: preference`); same id scheme and search attributes. */
export async function submitPreferenceRun(client: Client, config: PreferenceConfig, runId = newRunId(config)) {
  return client.workflow.start(preferenceRun, { ...startOptions(config, runId, ' (preference)'), args: [{ runId, config }] });
}

/** Starts an RL or a preference run, whichever the config is. */
export async function submitAnyRun(client: Client, run: RunConfig, runId?: string) {
  return run.kind === 'preference' ? submitPreferenceRun(client, run.config, runId) : submitRun(client, run.config, runId);
}
