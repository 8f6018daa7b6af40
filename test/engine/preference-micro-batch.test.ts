/**
 * Gradient accumulation in a preference step (optimizer.microBatchSize, engine/preference-step.ts):
 * for every objective, a step of 7 pairs in micro-batches of 2 or 3 gives the weights, AdamW moments,
 * loss and metrics of the same step in one pass, to float rounding; microBatchSize = batchSize is
 * that pass bit for bit; a micro-batched run resumed on a fresh host, its lost versions rebuilt, ends
 * with the uninterrupted run's weights bit for bit; and the memory check sizes the micro-batch and
 * names optimizer.microBatchSize.
 * npx vitest run test/engine/preference-micro-batch.test.ts
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PreferenceExperimentSchema, type PreferenceConfig } from '../../configs/preference-schema.js';
import { PreferenceSessions } from '../../engine/preference-sessions.js';
import { preferenceBatchOf } from '../../engine/run-batch.js';
import { RunSessions } from '../../engine/run-sessions.js';
import type { Metrics } from '../../common/metrics.js';
import { WEIGHTS_BIN } from '../../models/weights-io.js';
import { versionDir } from '../../store/weight-versions.js';
import { learningTinyConfig } from '../support/harness.js';
import { preparedPreferenceRun, versionTensors } from '../support/preference-run.js';

const fixture = learningTinyConfig();
const BATCH = 7;
const LR = 1e-2;
const configOf = (objective: Record<string, unknown>, microBatchSize?: number): PreferenceConfig => PreferenceExperimentSchema.parse({
  kind: 'preference', experiment: 'pref-micro', seed: fixture.seed, data: fixture.data, model: fixture.model,
  warmStart: { ...fixture.warmStart, steps: 10 }, optimizer: { batchSize: BATCH, lr: LR, microBatchSize }, objective,
});
const noProgress = () => undefined;

type Run = ReturnType<typeof preparedPreferenceRun>;

/** A run warmed up, and for cDPO and T-REG scored, up to its first update. */
async function readyRun(config: PreferenceConfig, label: string): Promise<Run> {
  const run = preparedPreferenceRun(config, label);
  await run.sessions.warmStart(run.args, noProgress);
  if (config.objective.name === 'critical-token-dpo') {
    for (const role of ['positive', 'negative'] as const) await run.sessions.trainCriticalModel({ ...run.args, role }, noProgress);
    await run.sessions.scoreCriticalTokens(run.args, noProgress);
  }
  if (config.objective.name === 't-reg') await run.sessions.scoreTokenRewards(run.args, noProgress);
  return run;
}

/** The same run folder (warm start, reference, scores) served under another config. */
function copiedRun(from: Run, config: PreferenceConfig, label: string): Run {
  const run = preparedPreferenceRun(config, label);
  cpSync(from.runDir, run.runDir, { recursive: true });
  return run;
}

/** Version `version` of two runs, byte for byte. */
const sameWeightsBytes = (a: Run, b: Run, version: number) =>
  readFileSync(join(versionDir(a.runDir, version), WEIGHTS_BIN)).equals(readFileSync(join(versionDir(b.runDir, version), WEIGHTS_BIN)));

const withoutTimes = (m: Metrics) => Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith('perf/')));

/** Every metric of `a` in `b`, equal to float rounding (relative 1e-5; 1e-8 absolute near 0). */
function expectSameMetrics(a: Metrics, b: Metrics): void {
  expect(Object.keys(withoutTimes(b)).sort()).toEqual(Object.keys(withoutTimes(a)).sort());
  for (const [k, v] of Object.entries(withoutTimes(a))) {
    expect(Math.abs(b[k] - v), `${k}: ${v} against ${b[k]}`).toBeLessThanOrEqual(1e-5 * Math.max(Math.abs(v), 1e-3));
  }
}

/**
 * Every tensor of a version equal to float rounding: max |Δ| ≤ 1e-5 × max |x| per tensor, plus, for
 * the parameters, 1e-2 × lr. The AdamW moments are the step's gradient (summed over micro-batches)
 * and its square, so they hold micro-batching to 1e-5. The update divides by √v + ε (ε = 1e-8), so a
 * weight whose gradient is rounding noise moves by about lr × noise / ε, whatever the noise: the
 * attention key bias, whose gradient is 0 but for rounding (softmax ignores a shift of all key
 * scores), moved by up to 8e-6 = 8e-4 × lr at lr 1e-2 when the sum was taken in another order
 * (measured). A wrong gradient moves weights by about lr, and shows in the moments.
 */
function expectSameTensors(a: Map<string, Float32Array>, b: Map<string, Float32Array>, lr: number): void {
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [name, x] of a) {
    const y = b.get(name)!;
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < x.length; i++) {
      scale = Math.max(scale, Math.abs(x[i]));
      diff = Math.max(diff, Math.abs(x[i] - y[i]));
    }
    expect(diff, name).toBeLessThanOrEqual(1e-5 * scale + (name.startsWith('param/') ? 1e-2 * lr : 0));
  }
}

/** SparsePO's learned mask head: the one objective with randomness in its step (dropout, keyed by step). */
const LEARNED_MASK = { name: 'sparse-po', mask: 'learned', maskL1: 0.01, maskDropout: 0.3 };

const OBJECTIVES: [string, Record<string, unknown>, number][] = [
  ['dpo (sigmoid, label smoothing)', { name: 'dpo', labelSmoothing: 0.1 }, 3],
  ['ipo', { name: 'ipo' }, 2],
  ['token-weighted-dpo', { name: 'token-weighted-dpo' }, 3],
  ['sparse-po, activation mask, KL term', { name: 'sparse-po' }, 2],
  ['sparse-po, learned mask head, KL and L1 terms', LEARNED_MASK, 3],
  ['critical-token-dpo, both sides', { name: 'critical-token-dpo', criticalSide: 'both', auxiliary: { steps: 3, batchSize: 8 } }, 2],
  ['t-reg', { name: 't-reg', alpha: 0.5 }, 3],
];

describe('preference steps in micro-batches', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [label, objective, micro] of OBJECTIVES) {
    it(`${label}: ${BATCH} pairs in micro-batches of ${micro} step like one pass`, async () => {
      // Step 2, both from the one-pass run's version 1: at step 1 the policy is the reference, so
      // every log-ratio, and with it margin, accuracy and the rewards, is 0 whatever the batching.
      const whole = await readyRun(configOf(objective), 'micro-whole');
      await whole.sessions.update({ ...whole.args, step: 1 }, noProgress);
      const split = copiedRun(whole, configOf(objective, micro), 'micro-split');
      const a = await whole.sessions.update({ ...whole.args, step: 2 }, noProgress);
      const b = await split.sessions.update({ ...split.args, step: 2 }, noProgress);
      expect(a.metrics['update/margin']).not.toBe(0);
      expect(b.metrics['update/pairs']).toBe(BATCH);
      expectSameMetrics(a.metrics, b.metrics);
      expectSameTensors(versionTensors(whole.runDir, 2), versionTensors(split.runDir, 2), LR);
      whole.sessions.release('r');
      split.sessions.release('r');
    }, 60_000);
  }

  it('microBatchSize = batchSize is the one-pass step, bit for bit', async () => {
    const whole = await readyRun(configOf(LEARNED_MASK), 'micro-unset');
    const same = copiedRun(whole, configOf(LEARNED_MASK, BATCH), 'micro-all');
    const a = await whole.sessions.update({ ...whole.args, step: 1 }, noProgress);
    const b = await same.sessions.update({ ...same.args, step: 1 }, noProgress);
    expect(withoutTimes(b.metrics)).toEqual(withoutTimes(a.metrics));
    expect(sameWeightsBytes(whole, same, 1)).toBe(true);
    whole.sessions.release('r');
    same.sessions.release('r');
  }, 60_000);

  it('a micro-batched run resumed on a fresh host, lost versions rebuilt, ends with the same weights', async () => {
    const config = configOf(LEARNED_MASK, 3);
    const a = await readyRun(config, 'micro-resume-a');
    await a.sessions.update({ ...a.args, step: 1 }, noProgress);
    const tensors = tf.memory().numTensors;
    for (const step of [2, 3]) await a.sessions.update({ ...a.args, step }, noProgress);
    expect(tf.memory().numTensors).toBe(tensors); // every micro-batch's reference pass, constants and masks freed
    const b = preparedPreferenceRun(config, 'micro-resume-b');
    cpSync(a.runDir, b.runDir, { recursive: true, filter: (src) => !/versions\/[123]/.test(src) });
    await b.sessions.update({ ...b.args, step: 3 }, noProgress);
    expect(sameWeightsBytes(a, b, 3)).toBe(true);
    a.sessions.release('r');
    b.sessions.release('r');
  }, 90_000);

  it('the memory check sizes one micro-batch and names optimizer.microBatchSize', async () => {
    const config = configOf({ name: 'dpo' }, 3);
    expect(preferenceBatchOf(config)).toMatchObject({ microBatch: 6, accumulates: true, rolloutRows: 14 });
    expect(preferenceBatchOf(configOf({ name: 'dpo' }))).toMatchObject({ microBatch: 14, accumulates: false });
    expect(preferenceBatchOf(configOf({ name: 'dpo' }, BATCH))).toMatchObject({ microBatch: 14, accumulates: false });
    const ready = await readyRun(config, 'micro-refused');
    const small = new PreferenceSessions({ runs: new RunSessions({ memoryBudgetBytes: 2 ** 30 }), memoryBudgetBytes: 2 ** 20 });
    await expect(small.update({ ...ready.args, step: 1 }, noProgress))
      .rejects.toThrow(/update .*2 × optimizer\.microBatchSize \(chosen and rejected; default optimizer\.batchSize\) = 6 rows.*lower optimizer\.microBatchSize/);
    ready.sessions.release('r');
  }, 60_000);
});
