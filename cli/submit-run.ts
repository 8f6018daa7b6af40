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

/**
 * Limits of the strings a run hands to Temporal and the file system, checked at submit so that a
 * long name is refused with its field instead of the server's "Failed to start Workflow":
 *  - the run id names the run's folder, one path component: 255 bytes on Linux (the stricter bound;
 *    Temporal's own default limit on workflow ids, limit.maxIDLength, is 1000);
 *  - the experiment name is a Keyword search attribute (the server's default value limit,
 *    limit.searchAttributeValueSize, is 2 KiB) and starts the run id.
 */
export const TEMPORAL_LIMITS = { runIdBytes: 255, keywordBytes: 2048 } as const;

/** Problems of the strings this run would hand to Temporal, each naming where it came from. */
export function temporalStringProblems(runId: string, config: { experiment: string }, idFrom = '--id'): string[] {
  const problems: string[] = [];
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
  if (bytes(runId) > TEMPORAL_LIMITS.runIdBytes) {
    problems.push(`${idFrom}: the run id is ${bytes(runId)} bytes, over ${TEMPORAL_LIMITS.runIdBytes} (it names the run's folder and its Temporal workflow)`);
  }
  if (bytes(config.experiment) > TEMPORAL_LIMITS.keywordBytes) {
    problems.push(`experiment: ${bytes(config.experiment)} bytes, over the ${TEMPORAL_LIMITS.keywordBytes} of a Temporal keyword search attribute`);
  }
  return problems;
}

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
