// The losses on the wasm backend (what users get, engine/backend.ts) against the cpu backend the
// other tests use: the fused ops run tensor ops on wasm and a host pass on cpu, so this is where
// the tensor implementations meet the worked numbers. Run: npx vitest run test/losses
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { criticalTokenDpo, dpo, ipo, k3, ppoClip, sparsePo, tokenWeightedDpo, tReg } from '../../losses/index.js';
import type { PolicyLossParams, PreferenceLossFn, PreferenceLossInputs, PreferenceLossParams } from '../../losses/index.js';
import { expectClose, randMat, rng, t2, useCpu } from './helpers.js';

interface Result {
  loss: number;
  grads: number[][];
  metrics: Record<string, number>;
}

/** Runs `cases` on cpu, then on wasm (cpu restored after); the results fill in before the tests run. */
function onBothBackends(cases: Array<() => Result>): { cpu: Result[]; wasm: Result[] } {
  const out = { cpu: [] as Result[], wasm: [] as Result[] };
  beforeAll(async () => {
    await useCpu();
    out.cpu = cases.map((c) => c());
    await tf.setBackend('wasm');
    await tf.ready();
    if (tf.getBackend() !== 'wasm') throw new Error('wasm backend did not initialise');
    out.wasm = cases.map((c) => c());
    await useCpu();
  });
  afterAll(useCpu);
  return out;
}

/** Equal to float32 precision (relative 1e-5 / 1e-4 for gradients, with an absolute floor). */
function expectSame(c: Result, w: Result): void {
  expectClose([w.loss], [c.loss], 1e-5, 1e-5);
  c.grads.forEach((g, j) => expectClose(w.grads[j], g, 1e-5, 1e-4));
  expect(Object.keys(w.metrics).sort()).toEqual(Object.keys(c.metrics).sort());
  for (const k of Object.keys(c.metrics)) expectClose([w.metrics[k]], [c.metrics[k]], 1e-5, 1e-5);
}

describe('preference losses: wasm agrees with cpu (loss, gradients, metrics)', () => {
  const P = 3;
  const L = 6;
  const q = rng(21);
  const m = [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0]];
  const side = () => ({
    logp: randMat(q, P, L, -2, -0.1),
    refLogp: randMat(q, P, L, -2, -0.1),
    mask: m,
    kl: randMat(q, P, L, 0, 0.2),
    sparseMaskReward: randMat(q, P, L, -0.5, 1.5).map((row) => row.map((v) => Math.max(v, 0))),
    tokenRewards: randMat(q, P, L, -0.45, 0.45),
    criticalScores: randMat(q, P, L, 0.05, 0.95),
    tokenWeights: randMat(q, P, L, 0, 1.5),
  });
  const raw = { chosen: side(), rejected: side() };
  const cases: Array<[string, PreferenceLossFn, PreferenceLossParams, Array<keyof ReturnType<typeof side>>]> = [
    ['dpo', dpo, { beta: 0.3, labelSmoothing: 0.1 }, []],
    ['ipo', ipo, { beta: 0.3 }, []],
    ['token-weighted-dpo', tokenWeightedDpo, { beta: 0.3 }, ['tokenWeights']],
    ['critical-token-dpo', criticalTokenDpo, { beta: 0.3, criticalSide: 'both' }, ['criticalScores']],
    ['sparse-po (learned masks: gradients to KL and masks)', sparsePo, { beta: 0.3, sparseL1Reward: 0.01, sparseL1Kl: 0.02 }, ['kl', 'sparseMaskReward']],
    ['t-reg', tReg, { beta: 0.3, tregAlpha: 0.5 }, ['tokenRewards']],
  ];
  const run = (fn: PreferenceLossFn, params: PreferenceLossParams, extra: string[]): Result =>
    tf.tidy(() => {
      const mk = (s: typeof raw.chosen) => {
        const out: Record<string, tf.Tensor2D> = { logp: t2(s.logp), refLogp: t2(s.refLogp), mask: t2(s.mask) };
        for (const k of extra) out[k] = t2((s as unknown as Record<string, number[][]>)[k]);
        return out as unknown as PreferenceLossInputs['chosen'];
      };
      const inputs = { chosen: mk(raw.chosen), rejected: mk(raw.rejected) };
      const diff: Array<['chosen' | 'rejected', 'logp' | 'kl' | 'sparseMaskReward']> = [['chosen', 'logp'], ['rejected', 'logp']];
      if (extra.includes('kl')) diff.push(['chosen', 'kl'], ['rejected', 'kl'], ['chosen', 'sparseMaskReward'], ['rejected', 'sparseMaskReward']);
      let metrics: Record<string, number> = {};
      const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => {
        const ins = { chosen: { ...inputs.chosen }, rejected: { ...inputs.rejected } };
        diff.forEach(([s, k], i) => {
          ins[s][k] = xs[i] as tf.Tensor2D;
        });
        const out = fn(ins, params);
        metrics = out.metrics;
        return out.loss;
      })(diff.map(([s, k]) => inputs[s][k] as tf.Tensor2D));
      return { loss: value.dataSync()[0], grads: grads.map((g) => Array.from(g.dataSync())), metrics };
    });
  const res = onBothBackends(cases.map(([, fn, params, extra]) => () => run(fn, params, extra as string[])));
  cases.forEach(([name], i) => it(name, () => expectSame(res.cpu[i], res.wasm[i])));
});

describe('k3 and PPO-clip with the k3 term: wasm agrees with cpu', () => {
  const q = rng(5);
  const B = 3;
  const L = 5;
  const lp = randMat(q, B, L, -3, -0.05);
  const ref = randMat(q, B, L, -3, -0.05);
  lp[0][1] = 40; // |lp_ref − lp_θ| > 20: the clamp's zero gradient
  lp[1][2] = -1e4;
  const old = lp.map((row) => row.map((v) => v + 0.2 * (q() - 0.5)));
  const adv = randMat(q, B, L, -1, 1);
  const mask = [[1, 1, 1, 1, 0], [1, 1, 1, 0, 0], [1, 1, 1, 1, 1]];
  const params: PolicyLossParams = { clipLow: 0.2, clipHigh: 0.28, klCoef: 0.04, aggregation: 'seq-mean-token-mean' };
  const res = onBothBackends([
    () =>
      tf.tidy(() => {
        const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => tf.sum(tf.mul(k3(x as tf.Tensor2D, t2(ref), 0.3), t2(adv))) as tf.Scalar)(t2(lp));
        return { loss: value.dataSync()[0], grads: [Array.from(grad.dataSync())], metrics: {} };
      }),
    () =>
      tf.tidy(() => {
        let metrics: Record<string, number> = {};
        const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => {
          const out = ppoClip({ logp: x as tf.Tensor2D, oldLogp: t2(old), advantages: t2(adv), mask: t2(mask), refLogp: t2(ref) }, params);
          metrics = out.metrics;
          return out.loss;
        })(t2(lp));
        return { loss: value.dataSync()[0], grads: [Array.from(grad.dataSync())], metrics };
      }),
  ]);
  it('k3: values through a weighted sum, gradient (zero where the clamp is active)', () => {
    expectSame(res.cpu[0], res.wasm[0]);
    for (const r of [res.cpu[0], res.wasm[0]]) expectClose([r.grads[0][1], r.grads[0][7]], [0, 0], 0);
  });
  it('ppo-clip with β_KL = 0.04', () => expectSame(res.cpu[1], res.wasm[1]));
});
