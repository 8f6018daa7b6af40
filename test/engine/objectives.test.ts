/**
 * The compute host runs the configured objective: SPO's values step is keyed by (run, iteration),
 * idempotent and deterministic, and its update trains on the values; a KL run keeps the warm-start
 * weights as its reference; the learning-rate schedule follows the run's RL optimizer steps.
 * npx vitest run test/engine/objectives.test.ts
 */
import { cpSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { stepsAfter } from '../../engine/run-ahead.js';
import { RunSessions } from '../../engine/run-sessions.js';
import { scoreAhead } from '../support/score-ahead.js';
import { readVerifiedManifest } from '../../store/atomic-dir.js';
import { readRollouts } from '../../store/rollout-files.js';
import { readSpoValues } from '../../store/spo-values.js';
import { versionDir } from '../../store/weight-versions.js';
import { learningTinyConfig, tempStateDir } from '../support/harness.js';

const noProgress = () => undefined;

const stateOf = (runDir: string, v: number) => JSON.parse(readFileSync(join(versionDir(runDir, v), 'state.json'), 'utf8')) as { rlSteps: number };

describe('objectives in the compute host', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('SPO: the values file is written once, deterministically, and the update trains on it', async () => {
    const config = learningTinyConfig({ experiment: 'spo-step', objective: { name: 'spo', spo: { samples: 2, cutpointInterval: 1 } } });
    const sessions = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
    const runDir = join(tempStateDir('spo'), 'run');
    const args = { runId: 'spo', config, runDir, iteration: 1 };
    await sessions.warmStart(args, noProgress);
    const rollout = await sessions.rollout(args, noProgress);
    expect(scoreAhead(rollout.rolloutFile)).toBeTruthy(); // the task's own verifier, as the score activity runs it
    await expect(sessions.update(args, noProgress)).rejects.toThrow(/no SPO values file/);

    const first = await sessions.spoValues(args, noProgress);
    expect(first.valuesFile).toBe(rollout.rolloutFile.replace(/\.jsonl$/, '.spo.json'));
    const values = readSpoValues(first.valuesFile)!;
    expect(values.records).toHaveLength(readRollouts(rollout.rolloutFile).length);
    expect(first.metrics['spo/continuations']).toBe(values.continuations);
    expect(values.continuations).toBeGreaterThan(0);
    const bytes = readFileSync(first.valuesFile, 'utf8');
    const mtime = statSync(first.valuesFile).mtimeMs;

    // A retry returns the recorded values without sampling again.
    const retried = await sessions.spoValues(args, noProgress);
    expect(retried.valuesFile).toBe(first.valuesFile);
    expect(statSync(first.valuesFile).mtimeMs).toBe(mtime);
    const { 'perf/spoSeconds': _seconds, ...withoutTime } = first.metrics;
    expect(retried.metrics).toEqual(withoutTime);

    // Another worker, from the files alone (values file removed): the same values, byte for byte.
    const otherDir = join(tempStateDir('spo-other'), 'run');
    cpSync(runDir, otherDir, { recursive: true });
    rmSync(join(otherDir, 'rollouts', '1.spo.json'));
    const other = await new RunSessions({ memoryBudgetBytes: 2 ** 30 }).spoValues({ ...args, runDir: otherDir }, noProgress);
    expect(readFileSync(other.valuesFile, 'utf8')).toBe(bytes);

    const update = await sessions.update(args, noProgress);
    expect(update.metrics['update/steps']).toBeGreaterThan(0);
    expect(update.metrics['update/probMaskFraction']).toBeGreaterThan(0);
    expect(update.metrics['update/probMaskFraction']).toBeLessThanOrEqual(1);
  }, 60_000);

  it('forking tokens with a KL term and a cosine schedule: reference kept from the warm start, lr from the RL step count', async () => {
    const config = learningTinyConfig({
      experiment: 'kl-step',
      objective: { name: 'forking-tokens', klCoef: 0.05, aggregation: 'token-mean', forking: { rho: 0.5 } },
      optimizer: { schedule: 'cosine', warmupSteps: 2, totalSteps: 6, epochsPerIteration: 2 },
    });
    const sessions = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
    const runDir = join(tempStateDir('kl'), 'run');
    const base = { runId: 'kl', config, runDir };
    await sessions.warmStart(base, noProgress);
    expect(readVerifiedManifest(join(runDir, 'reference'))).not.toBeNull();
    const lrs: number[] = [];
    for (const iteration of [1, 2]) {
      const rollout = await sessions.rollout({ ...base, iteration }, noProgress);
      expect(scoreAhead(rollout.rolloutFile)).toBeTruthy();
      const update = await sessions.update({ ...base, iteration }, noProgress);
      expect(update.metrics['update/steps']).toBe(2); // with KL no group is dropped
      expect(update.metrics['update/kl']).toBeGreaterThanOrEqual(0);
      expect(update.metrics['update/keptFraction']).toBeGreaterThan(0.3);
      expect(update.metrics['update/keptFraction']).toBeLessThan(0.7);
      lrs.push(update.metrics['update/lr']);
      expect(stateOf(runDir, iteration).rlSteps).toBe(2 * iteration);
    }
    // Steps 0,1 warm up (lr·1/2, lr), steps 2,3 decay: the second iteration's mean lr is lower.
    const lr = config.optimizer.lr;
    expect(lrs[0]).toBeCloseTo((lr / 2 + lr) / 2, 12);
    expect(lrs[1]).toBeLessThan(lr);

    // Evicted and reloaded (a new worker): the reference comes back from disk and the schedule from state.json.
    const fresh = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
    const rollout = await fresh.rollout({ ...base, iteration: 3 }, noProgress);
    expect(scoreAhead(rollout.rolloutFile)).toBeTruthy();
    const third = await fresh.update({ ...base, iteration: 3 }, noProgress);
    expect(stateOf(runDir, 3).rlSteps).toBe(6);
    expect(third.metrics['update/lr']).toBeLessThan(lrs[1]);
    expect(third.metrics['update/kl']).toBeGreaterThan(0);
  }, 60_000);
});

describe('run-ahead', () => {
  it('plans SPO\'s values step between score and update, for objective spo only', () => {
    const spo = learningTinyConfig({ experiment: 'ahead-spo', objective: { name: 'spo' }, run: { iterations: 4, evalEvery: 2 } });
    const show = (op: string, i: number) => stepsAfter(op, i, spo).map((s) => `${s.op}${s.iteration}`).join(' ');
    expect(show('warmStart', 0)).toBe('rollout1 score1 spoValues1 update1 rollout2 score2 spoValues2 update2 evaluate2');
    expect(show('rollout', 3)).toBe('score3 spoValues3 update3 rollout4 score4 spoValues4 update4 evaluate4');
    expect(show('spoValues', 4)).toBe('update4 evaluate4');
    expect(show('update', 3)).toBe('rollout4 score4 spoValues4 update4 evaluate4');
    const ppo = learningTinyConfig({ experiment: 'ahead-ppo', run: { iterations: 4, evalEvery: 2 } });
    expect(stepsAfter('rollout', 4, ppo).map((s) => s.op)).toEqual(['score', 'update', 'evaluate']);
  });
});
