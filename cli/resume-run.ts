/**
 * `creditflow resume <run-id>`: a paused run is un-paused (the `resume` signal); a run that ended
 * before its last iteration (stopped, failed, cancelled, terminated) continues under the same id
 * from its newest checkpoint that verifies, with the config it ran with.
 *
 * The new execution starts where an uninterrupted run would have been after that checkpoint: its
 * progress (warm-start, latest and best accuracy, latest metrics) is rebuilt from metrics.jsonl up
 * to the checkpoint. Every step is seeded by (seed, iteration) and idempotent, so files the ended
 * execution wrote after the checkpoint are reused as they verify, and the run ends with the weights
 * an uninterrupted one would have.
 */
import { existsSync } from 'node:fs';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { readVerifiedManifest } from '../store/atomic-dir.js';
import { readMetrics } from '../store/metrics-log.js';
import { runDir as defaultRunDir } from '../store/paths.js';
import { checkpointDir, listCheckpoints } from '../store/weight-versions.js';
import type { PreferenceRunInput } from '../workflows/preference-run.js';
import { resumeSignal, SEARCH_ATTRIBUTES, TASK_QUEUES, type RunProgress } from '../workflows/shared.js';
import type { RunResult } from '../workflows/run-controls.js';
import type { TrainingRunInput } from '../workflows/training-run.js';
import { latestInput } from './run-info.js';
import { UsageError } from './program.js';

export type ResumeOutcome =
  | { kind: 'signalled' }
  | { kind: 'continued'; fromCheckpoint: number; totalIterations: number; runDir: string };

const RESUMABLE = ['FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT', 'COMPLETED'];

/** The newest checkpoint of a run folder whose files verify (0 = none: start at the warm start, which is idempotent). */
export function newestGoodCheckpoint(runDir: string): number {
  return listCheckpoints(runDir).find((v) => readVerifiedManifest(checkpointDir(runDir, v)) !== null) ?? 0;
}

/** The run's progress as it stood right after checkpoint `version`, from its metrics.jsonl. */
export function progressAt(runDir: string, version: number, base: Pick<RunProgress, 'runId' | 'experiment' | 'objective' | 'totalIterations'>): RunProgress {
  const lines = readMetrics(runDir).filter((l) => l.iteration <= version);
  const evals = lines.filter((l) => (l.phase === 'eval' || l.phase === 'warm-start') && Number.isFinite(l.metrics['eval/accuracy']))
    .map((l) => ({ iteration: l.iteration, accuracy: l.metrics['eval/accuracy'] }));
  const warm = lines.find((l) => l.phase === 'warm-start');
  if (!warm) throw new Error(`${runDir}/metrics.jsonl has no warm-start line: this run cannot be continued (it was recorded before resume existed)`);
  const best = evals.reduce<(typeof evals)[number] | null>((b, e) => (!b || e.accuracy > b.accuracy ? e : b), null);
  const atVersion = lines.filter((l) => l.iteration === version && l.phase !== 'warm-start');
  return {
    ...base, status: 'running', iteration: version,
    warmStartAccuracy: warm.metrics['eval/accuracy'] ?? null,
    latestMetrics: Object.assign({}, ...(version === 0 ? [warm.metrics] : atVersion.map((l) => l.metrics))),
    latestEvaluation: evals.at(-1) ?? null, bestEvaluation: best, lastCheckpoint: version, runDir,
  };
}

type AnyInput = TrainingRunInput | PreferenceRunInput;

export async function resumeRun(client: Client, id: string, description: WorkflowExecutionDescription, home: string): Promise<ResumeOutcome> {
  const status = description.status.name;
  if (status === 'RUNNING') {
    await client.workflow.getHandle(id).signal(resumeSignal);
    return { kind: 'signalled' };
  }
  if (description.type !== 'trainingRun' && description.type !== 'preferenceRun') {
    throw new UsageError(`${id} is a ${description.type} that is ${status.toLowerCase()}; only runs continue from a checkpoint`);
  }
  if (!RESUMABLE.includes(status)) throw new UsageError(`${id} is ${status.toLowerCase()}: nothing to resume`);
  const input = await latestInput<AnyInput>(client, description);
  const run = input.config.run as { iterations?: number; steps?: number };
  const total = run.iterations ?? run.steps ?? 0;
  if (status === 'COMPLETED') {
    const result = await client.workflow.getHandle(id).result() as RunResult;
    if (!result.stoppedEarly) {
      throw new UsageError(`${id} completed all ${total} iterations: nothing to resume. To train further, start a new run from its weights: creditflow submit <config> --from ${id}`);
    }
  }
  const carriedDir = input.carried?.progress.runDir;
  const dir = carriedDir && existsSync(carriedDir) ? carriedDir : defaultRunDir(id, home);
  if (!existsSync(dir)) throw new Error(`the run folder ${dir} is not on this machine: run \`creditflow resume\` where the state folder is (CREDITFLOW_HOME)`);
  const version = newestGoodCheckpoint(dir);
  const base = { runId: id, experiment: input.config.experiment, objective: input.config.objective.name, totalIterations: total };
  const progress = version === 0 ? null : progressAt(dir, version, base);
  const kind = description.type === 'preferenceRun' ? ' (preference)' : '';
  const options = {
    taskQueue: TASK_QUEUES.cpu,
    workflowId: id,
    // The ended execution is closed; this starts the next one under the same id.
    workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.experiment, value: input.config.experiment },
      { key: SEARCH_ATTRIBUTES.objective, value: input.config.objective.name },
      { key: SEARCH_ATTRIBUTES.runStatus, value: 'starting' },
    ],
    staticSummary: `${input.config.experiment} · ${input.config.objective.name}${kind} · seed ${input.config.seed} · resumed from checkpoint ${version}`,
  };
  if (description.type === 'preferenceRun') {
    const args: PreferenceRunInput = { runId: id, config: (input as PreferenceRunInput).config, ...(progress ? { carried: { pinnedQueue: null, progress, paused: false } } : {}) };
    await client.workflow.start('preferenceRun', { ...options, args: [args] });
  } else {
    const args: TrainingRunInput = { runId: id, config: (input as TrainingRunInput).config, ...(progress ? { carried: { iteration: version, pinnedQueue: null, progress, paused: false } } : {}) };
    await client.workflow.start('trainingRun', { ...options, args: [args] });
  }
  return { kind: 'continued', fromCheckpoint: version, totalIterations: total, runDir: dir };
}
