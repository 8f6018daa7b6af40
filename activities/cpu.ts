/**
 * CPU activities: the run's data (checked and copied before any compute), scoring with the run's
 * reward mix, and durable checkpoints. All are idempotent: a retry finds its output already on disk
 * and returns it.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { whileHeartbeating } from './heartbeat.js';
import type { Metrics } from '../common/metrics.js';
import type { RewardsConfig } from '../configs/data-schema.js';
import type { ExperimentConfig } from '../configs/schema.js';
import { prepareRunRows } from '../engine/run-rows.js';
import { runTokenizer } from '../engine/run-tokenizer.js';
import { mixFromEntries, scoreCases } from '../rewards/mix.js';
import { rewardMetrics } from '../rewards/reward-stats.js';
import { runDir } from '../store/paths.js';
import { checkpointDir, checkpointVersion, listCheckpoints } from '../store/weight-versions.js';
import { manifestProblems } from '../store/run-check.js';
import { readRewards, readRollouts, rewardCaseOf, rewardsFileFor, writeRewards } from '../store/rollout-files.js';
import { DataError } from '../tasks/data-error.js';

export interface CpuDeps {
  stateDir: string;
  /** Verifier concurrency within one score activity. */
  verifierConcurrency?: number;
}

export interface ScoreResult { rewardsFile: string; metrics: Metrics }
export interface PrepareDataResult { runDir: string; metrics: Metrics; sha256: Record<string, string> }

/**
 * Check every row of the run's data (generated or read from its files) against its tokenizer,
 * context and rewards, and write the run's copy (`rows/`, hashed). Bad data fails the run here, for
 * good, naming every bad line; nothing has been computed yet.
 */
export function prepareData(config: ExperimentConfig, dir: string): PrepareDataResult {
  try {
    const { rows, sha256 } = prepareRunRows(config, dir, runTokenizer(config));
    return {
      runDir: dir, sha256,
      metrics: { 'data/trainRows': rows.train.length, 'data/heldOutRows': rows.heldOut.length, 'data/demos': rows.demos.length },
    };
  } catch (err) {
    if (err instanceof DataError) throw ApplicationFailure.nonRetryable(err.message, 'DataError');
    throw err;
  }
}

export function createCpuActivities(deps: CpuDeps) {
  const dirOf = (runId: string) => runDir(runId, deps.stateDir);
  return {
    async prepareData(input: { runId: string; config: ExperimentConfig }): Promise<PrepareDataResult> {
      return prepareData(input.config, dirOf(input.runId));
    },

    async score(input: { runId: string; iteration: number; rolloutFile: string; rewards: RewardsConfig }): Promise<ScoreResult> {
      const rewardsFile = rewardsFileFor(input.rolloutFile);
      let records = readRewards(input.rolloutFile);
      if (!records) {
        const rollouts = readRollouts(input.rolloutFile);
        const mix = mixFromEntries(input.rewards.mode, input.rewards.mix);
        const verdicts = await whileHeartbeating(scoreCases(mix, rollouts.map(rewardCaseOf), { concurrency: deps.verifierConcurrency }), () => ({ cases: rollouts.length }));
        records = verdicts.map((v, i) => ({ id: rollouts[i].id, status: v.status, score: v.score, reason: v.reason, parts: v.parts }));
        writeRewards(input.rolloutFile, records);
      }
      return { rewardsFile, metrics: rewardMetrics(records) };
    },

    async checkpoint(input: { runId: string; version: number; keep: number }): Promise<{ version: number }> {
      try {
        await checkpointVersion(dirOf(input.runId), input.version, input.keep);
      } catch (err) {
        throw ApplicationFailure.nonRetryable((err as Error).message, 'CheckpointError');
      }
      return { version: input.version };
    },

    /**
     * The run's end: every retained checkpoint checked against its manifest (their files share bytes
     * with weights versions, which are not fsync'd and could have been damaged since). The damaged
     * ones are returned, one line each, for the run's status; nothing is changed.
     */
    async verifyCheckpoints(input: { runId: string }): Promise<{ damaged: string[] }> {
      const dir = dirOf(input.runId);
      const damaged = listCheckpoints(dir).flatMap((v) => {
        const problems = manifestProblems(checkpointDir(dir, v));
        return problems.length ? [`checkpoints/${v}: ${problems.join('; ')} (creditflow check --repair ${input.runId} rebuilds it)`] : [];
      });
      return { damaged };
    },
  };
}
