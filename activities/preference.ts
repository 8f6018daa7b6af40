/**
 * Activities of an offline preference run (workflows/preference-run.ts).
 *
 * `createPreferenceCpuActivities` (cpu queue): preparing the data set, which validates every pair
 * (file lines with their numbers) before anything trains and writes the run's copy of its pairs.
 *
 * `createPreferenceComputeActivities` (a worker's pinned queue): model work, delegated to the
 * compute host thread with a heartbeat from the main thread while it runs. Each is keyed by (run,
 * step) or (run, role) and idempotent on the host side; the update and evaluate activities also
 * record their metrics line, exactly once, like the RL ones.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { warmStartConfigOf, type PreferenceConfig } from '../configs/preference-schema.js';
import type { ComputeHost } from '../engine/compute-host.js';
import type { PreferenceHostOp } from '../engine/host-protocol.js';
import { runTokenizer } from '../engine/run-tokenizer.js';
import { appendMetricsOnce } from '../store/metrics-log.js';
import { runDir } from '../store/paths.js';
import { readPairs, verifiedPairsCopy, writePairs, type CriticalModelRole } from '../store/preference-files.js';
import { preferenceDataSet } from '../tasks/preference-data.js';
import { PreferenceDataError } from '../tasks/preference-pairs.js';
import type { Metrics } from '../common/metrics.js';
import { prepareData } from './cpu.js';
import { whileHeartbeating } from './heartbeat.js';
import { RayPlacement } from './ray-placement.js';

export interface PreferenceComputeDeps {
  host: ComputeHost;
  stateDir: string;
  /** Runs the steps of runs with `compute.placement: ray` as Ray jobs (ray-placement.ts). */
  ray?: RayPlacement;
}

export interface PreparedData { runDir: string; metrics: Metrics }
export interface PreferenceWarmStartResult { runDir: string; accuracy: number; metrics: Metrics }
export interface PreferenceUpdateResult { version: number; metrics: Metrics }
export interface PreferenceEvaluateResult { accuracy: number; metrics: Metrics }

interface RunArgs { runId: string; config: PreferenceConfig }

export function createPreferenceCpuActivities(deps: { stateDir: string }) {
  return {
    /**
     * Validate and copy the rows (`rows/`, as an RL run does), validate and split the pairs, write
     * data/train.jsonl and data/heldout.jsonl. Bad data fails for good, naming its lines.
     */
    async preparePreferenceData(input: RunArgs): Promise<PreparedData> {
      const dir = runDir(input.runId, deps.stateDir);
      const rowsConfig = warmStartConfigOf(input.config);
      const rows = prepareData(rowsConfig, dir);
      try {
        // Submit copied the validated pairs into the run folder (store/preference-files.ts); only a
        // run started without it (a sweep trial, an older submit) reads the config's path here.
        const copied = verifiedPairsCopy(dir);
        const limits = { tokenizer: runTokenizer(rowsConfig), maxSeqLen: input.config.model.maxSeqLen };
        const data = copied
          ? { train: readPairs(dir, 'train', limits), heldOut: readPairs(dir, 'heldout', limits) }
          : preferenceDataSet(input.config, limits.tokenizer);
        if (!copied) {
          writePairs(dir, 'train', data.train);
          writePairs(dir, 'heldout', data.heldOut);
        }
        return { runDir: dir, metrics: { ...rows.metrics, 'data/trainPairs': data.train.length, 'data/heldOutPairs': data.heldOut.length } };
      } catch (err) {
        if (err instanceof PreferenceDataError) throw ApplicationFailure.nonRetryable(err.message, 'DataError');
        throw err;
      }
    },
  };
}

export function createPreferenceComputeActivities(deps: PreferenceComputeDeps) {
  const dirOf = (runId: string) => runDir(runId, deps.stateDir);
  const ray = deps.ray ?? new RayPlacement();
  const call = <T>(op: PreferenceHostOp, input: RunArgs & Record<string, unknown>): Promise<T> => {
    // The placement switch: this worker's compute host, or a Ray job.
    if (input.config.compute?.placement === 'ray') return ray.run<T>(op, { ...input, runDir: dirOf(input.runId) });
    let details: Record<string, number | string> = { op };
    return whileHeartbeating(deps.host.call<T>(op, { ...input, runDir: dirOf(input.runId) }, (d) => { details = { op, ...d }; }), () => details);
  };
  return {
    /** The RL warm start (SFT on the task), then its weights become the frozen reference. */
    async preferenceWarmStart(input: RunArgs): Promise<PreferenceWarmStartResult> {
      const result = await call<PreferenceWarmStartResult>('prefWarmStart', { ...input });
      appendMetricsOnce(dirOf(input.runId), 0, 'warm-start', result.metrics);
      return result;
    },

    /** cDPO: SFT of the positive or the negative model from the warm start. */
    async trainCriticalModel(input: RunArgs & { role: CriticalModelRole }): Promise<{ metrics: Metrics }> {
      return call('prefCriticalModel', { ...input });
    },

    /** cDPO: the critical-token scores of every training pair, once. */
    async scoreCriticalTokens(input: RunArgs): Promise<{ metrics: Metrics }> {
      return call('prefCriticalScores', { ...input });
    },

    /** T-REG: the contrastive token rewards of every training pair, once. */
    async scoreTokenRewards(input: RunArgs): Promise<{ metrics: Metrics }> {
      return call('prefTokenRewards', { ...input });
    },

    /** One optimizer step on the next batch of pairs; records the step's train line. */
    async preferenceUpdate(input: RunArgs & { step: number; setupMetrics?: Metrics }): Promise<PreferenceUpdateResult> {
      const { setupMetrics, ...args } = input;
      const result = await call<PreferenceUpdateResult>('prefUpdate', args);
      const metrics = { ...result.metrics, 'update/attempt': Context.current().info.attempt };
      appendMetricsOnce(dirOf(input.runId), input.step, 'train', { ...setupMetrics, ...metrics });
      return { ...result, metrics };
    },

    /** Held-out accuracy and pair metrics of weights version `step`; records the step's eval line. */
    async preferenceEvaluate(input: RunArgs & { step: number }): Promise<PreferenceEvaluateResult> {
      const result = await call<PreferenceEvaluateResult>('prefEvaluate', { ...input });
      appendMetricsOnce(dirOf(input.runId), input.step, 'eval', result.metrics);
      return result;
    },

    /** Frees the run's resident models; its next activity reloads from disk. */
    async releasePreferenceRun(input: { runId: string }): Promise<void> {
      await deps.host.call('prefRelease', input);
    },
  };
}
