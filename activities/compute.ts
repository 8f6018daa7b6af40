/**
 * Compute activities: model work, delegated to the worker's compute host thread.
 *
 * Each call heartbeats from the main thread while the host works, so a long update keeps its
 * heartbeat alive; the host's progress messages ride along as heartbeat details.
 */
import { Context } from '@temporalio/activity';
import { whileHeartbeating } from './heartbeat.js';
import type { ExperimentConfig } from '../configs/schema.js';
import type { ComputeHost } from '../engine/compute-host.js';
import type { HostOp } from '../engine/host-protocol.js';
import { appendMetricsOnce } from '../store/metrics-log.js';
import { recordedEvaluation, recordedRollout, recordedUpdate } from '../store/recorded-steps.js';
import { runDir } from '../store/paths.js';
import type { Metrics } from '../common/metrics.js';
import { RayPlacement } from './ray-placement.js';

export interface ComputeDeps {
  host: ComputeHost;
  /** This worker's own queue, handed to runs that claim it. */
  pinnedQueue: string;
  stateDir: string;
  /** Runs the steps of runs with `compute.placement: ray` as Ray jobs (default: RAY_ADDRESS as the fallback head). */
  ray?: RayPlacement;
}

export interface WarmStartResult { runDir: string; accuracy: number; metrics: Metrics }
export interface RolloutResult { rolloutFile: string; metrics: Metrics }
export interface SpoValuesResult { valuesFile: string; metrics: Metrics }
export interface UpdateResult { version: number; metrics: Metrics }
export interface EvaluateResult { accuracy: number; metrics: Metrics }

async function withHeartbeat<T>(host: ComputeHost, op: HostOp, args: unknown): Promise<T> {
  let details: Record<string, number | string> = { op };
  return whileHeartbeating(host.call<T>(op, args, (d) => { details = { op, ...d }; }), () => details);
}

export function createComputeActivities(deps: ComputeDeps) {
  const dirOf = (runId: string) => runDir(runId, deps.stateDir);
  const ray = deps.ray ?? new RayPlacement();
  /**
   * The placement switch: a step runs on this worker's compute host, or as a Ray job (ray-placement.ts).
   * A run started before configs had a `compute` section carries none: the worker.
   */
  const step = <T,>(op: HostOp, args: { runId: string; runDir: string; config: ExperimentConfig } & Record<string, unknown>): Promise<T> =>
    (args.config.compute?.placement === 'ray' ? ray.run<T>(op, args) : withHeartbeat<T>(deps.host, op, args));
  /**
   * A step whose output is already recorded (the host computed it ahead, or an earlier attempt did)
   * is answered here, without queueing behind the host's current step; the host hears of it so that
   * it plans from there (engine/run-ahead.ts).
   */
  const answered = <T,>(op: HostOp, args: { runId: string; iteration: number } & Record<string, unknown>, recorded: T | null): T | null => {
    if (recorded) deps.host.answered(op, args);
    return recorded;
  };
  const attempt = () => Context.current().info.attempt;
  return {
    /** Runs on the shared compute queue: the worker that answers becomes the run's home. */
    async claimWorker(_input: { runId: string }): Promise<string> {
      return deps.pinnedQueue;
    },

    /** The SFT warm start (version 0), recorded as metrics.jsonl's warm-start line: the first point of every accuracy curve. */
    async warmStart(input: { runId: string; config: ExperimentConfig }): Promise<WarmStartResult> {
      const result = await step<WarmStartResult>('warmStart', { ...input, runDir: dirOf(input.runId) });
      appendMetricsOnce(dirOf(input.runId), 0, 'warm-start', result.metrics);
      return result;
    },

    async rollout(input: { runId: string; config: ExperimentConfig; iteration: number }): Promise<RolloutResult> {
      const args = { ...input, runDir: dirOf(input.runId) };
      return answered('rollout', args, recordedRollout(args.runDir, input.iteration)) ?? step('rollout', args);
    },

    /**
     * SPO's method step (objective spo only): Monte Carlo values at the cutpoints of iteration
     * `iteration`'s completions, written beside its rollout file. Idempotent: an existing file is returned.
     */
    async spoValues(input: { runId: string; config: ExperimentConfig; iteration: number }): Promise<SpoValuesResult> {
      return step('spoValues', { ...input, runDir: dirOf(input.runId) });
    },

    /**
     * One optimizer update; also records the iteration's line in metrics.jsonl (the rollout and score
     * metrics come in as `iterationMetrics`), which saves the run a separate bookkeeping step.
     */
    async update(input: { runId: string; config: ExperimentConfig; iteration: number; iterationMetrics: Metrics }): Promise<UpdateResult> {
      const { iterationMetrics, ...rest } = input;
      const args = { ...rest, runDir: dirOf(input.runId) };
      const result = answered('update', args, recordedUpdate(args.runDir, input.iteration)) ?? await step<UpdateResult>('update', args);
      const metrics = { ...result.metrics, 'update/attempt': attempt() };
      appendMetricsOnce(dirOf(input.runId), input.iteration, 'train', { ...iterationMetrics, ...metrics });
      return { ...result, metrics };
    },

    /** Held-out accuracy of weights version `iteration`, recorded as the iteration's eval line. */
    async evaluate(input: { runId: string; config: ExperimentConfig; iteration: number }): Promise<EvaluateResult> {
      const args = { ...input, runDir: dirOf(input.runId) };
      const result = answered('evaluate', args, recordedEvaluation(args.runDir, input.iteration)) ?? await step<EvaluateResult>('evaluate', args);
      appendMetricsOnce(dirOf(input.runId), input.iteration, 'eval', result.metrics);
      return result;
    },

    /** Frees the run's resident model; the next activity of the run reloads from disk. */
    async releaseRun(input: { runId: string }): Promise<void> {
      await deps.host.call('release', input);
    },
  };
}
