/**
 * CPU activities: scoring with the reward verifiers, and durable checkpoints.
 * All are idempotent: a retry finds its output already on disk and returns it.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { whileHeartbeating } from './heartbeat.js';
import { verifyBatch } from '../rewards/index.js';
import { runDir } from '../store/paths.js';
import { checkpointVersion } from '../store/weight-versions.js';
import { readRewards, readRollouts, rewardsFileFor, writeRewards, type RewardRecord } from '../store/rollout-files.js';
import type { Metrics } from '../common/metrics.js';

export interface CpuDeps {
  stateDir: string;
  /** Verifier concurrency within one score activity. */
  verifierConcurrency?: number;
}

export interface ScoreResult { rewardsFile: string; metrics: Metrics }

function summarise(results: Pick<RewardRecord, 'status' | 'score'>[]): Metrics {
  const counted = results.filter((r) => r.status !== 'skipped');
  const byStatus = (s: RewardRecord['status']) => results.filter((r) => r.status === s).length;
  return {
    'reward/mean': counted.length ? counted.reduce((a, r) => a + r.score, 0) / counted.length : 0,
    'reward/correct': byStatus('correct'),
    'reward/incorrect': byStatus('incorrect'),
    'reward/error': byStatus('error'),
    'reward/timeout': byStatus('timeout'),
    'reward/skipped': byStatus('skipped'),
  };
}

export function createCpuActivities(deps: CpuDeps) {
  const dirOf = (runId: string) => runDir(runId, deps.stateDir);
  return {
    async score(input: { runId: string; iteration: number; rolloutFile: string }): Promise<ScoreResult> {
      const rewardsFile = rewardsFileFor(input.rolloutFile);
      let records = readRewards(input.rolloutFile);
      if (!records) {
        const rollouts = readRollouts(input.rolloutFile);
        const results = await whileHeartbeating(verifyBatch(
          rollouts.map((r) => ({ id: r.id, verifier: r.verifier, completion: r.completion, gold: r.answer })),
          { concurrency: deps.verifierConcurrency },
        ), () => ({ cases: rollouts.length }));
        records = results.map((r, i) => ({ id: rollouts[i].id, status: r.status, score: r.score, reason: r.reason }));
        writeRewards(input.rolloutFile, records);
      }
      return { rewardsFile, metrics: summarise(records) };
    },

    async checkpoint(input: { runId: string; version: number; keep: number }): Promise<{ version: number }> {
      try {
        await checkpointVersion(dirOf(input.runId), input.version, input.keep);
      } catch (err) {
        throw ApplicationFailure.nonRetryable((err as Error).message, 'CheckpointError');
      }
      return { version: input.version };
    },
  };
}
