// PPO-clip / GRPO / DAPO / Dr.GRPO against objectives.md §0.2 and §10. Run: npx vitest run test/losses
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ppoClip, groupAdvantages, aggregate } from '../../losses/index.js';
import type { PolicyLossParams } from '../../losses/index.js';
import { expectClose, gradCheck, num, randMat, rng, t2, useCpu } from './helpers.js';

beforeAll(useCpu);

// §0.2 worked example: two responses of lengths 4 and 2 (padded to 4).
const A = 0.8659; // spec value of the GRPO advantage with unbiased std (4 decimals)
const adv = groupAdvantages([1, 0, 0, 1], 4, 'grpo');
const lpOld = [[-0.5, -1, -0.2, -2], [-0.7, -0.1, 0, 0]];
const lpNew = [[-0.3, -1.1, -0.2, -1.5], [-0.9, -0.05, 0, 0]];
const mask = [[1, 1, 1, 1], [1, 1, 0, 0]];
const advMat = [[adv[0], adv[0], adv[0], adv[0]], [adv[1], adv[1], adv[1], adv[1]]];

function run(params: PolicyLossParams, over: Partial<Record<'logp' | 'oldLogp' | 'advantages' | 'mask', number[][]>> = {}) {
  return tf.tidy(() =>
    num(
      ppoClip(
        {
          logp: t2(over.logp ?? lpNew),
          oldLogp: t2(over.oldLogp ?? lpOld),
          advantages: t2(over.advantages ?? advMat),
          mask: t2(over.mask ?? mask),
        },
        params,
      ).loss,
    ),
  );
}

describe('group advantages (§0.2)', () => {
  it('GRPO unbiased std gives ±0.8659, population ±1', () => {
    expectClose(adv, [A, -A, -A, A], 1e-4);
    expectClose(groupAdvantages([1, 0, 0, 1], 4, 'grpo', { std: 'population', eps: 1e-6 }), [1, -1, -1, 1], 1e-5);
  });
  it('Dr.GRPO subtracts the mean only; RLOO the leave-one-out mean', () => {
    expectClose(groupAdvantages([1, 0, 0, 1, 3, 1], 3, 'dr-grpo'), [2 / 3, -1 / 3, -1 / 3, -2 / 3, 4 / 3, -2 / 3], 1e-12);
    // RLOO: r_i − mean of the others
    expectClose(groupAdvantages([1, 0, 0, 1], 4, 'rloo'), [1 - 1 / 3, 0 - 2 / 3, 0 - 2 / 3, 1 - 1 / 3], 1e-12);
  });
  it('identical rewards and singleton groups give 0, never NaN', () => {
    for (const mode of ['grpo', 'dr-grpo', 'rloo'] as const) {
      expect(groupAdvantages([0.5, 0.5, 0.5, 0.5], 4, mode)).toEqual([0, 0, 0, 0]);
      expect(groupAdvantages([1, 0], 1, mode)).toEqual([0, 0]);
      expect(groupAdvantages([0, 0], 2, mode, { std: 'population', eps: 0 })).toEqual([0, 0]);
    }
  });
  it('rejects ragged groups and non-finite rewards', () => {
    expect(() => groupAdvantages([1, 0, 1], 2, 'grpo')).toThrow(/groups of 2/);
    expect(() => groupAdvantages([1, NaN], 2, 'grpo')).toThrow(/not finite/);
  });
});

describe('ppoClip (§10 numbers)', () => {
  const base = { klCoef: 0 };
  it('GRPO seq-mean, ε = 0.2', () => {
    expect(run({ ...base, clipLow: 0.2, clipHigh: 0.2, aggregation: 'seq-mean-token-mean' })).toBeCloseTo(-0.061134, 5);
  });
  it('GRPO token-mean, ε = 0.2', () => {
    expect(run({ ...base, clipLow: 0.2, clipHigh: 0.2, aggregation: 'token-mean' })).toBeCloseTo(-0.351377, 5);
  });
  it('DAPO token-mean, 0.2 / 0.28', () => {
    expect(run({ ...base, clipLow: 0.2, clipHigh: 0.28, aggregation: 'token-mean' })).toBeCloseTo(-0.366011, 5);
  });
  it('Dr.GRPO divides the token sum by B · L_max', () => {
    const dapoSum = -0.366011 * 6; // token-mean × 6 valid tokens
    expect(run({ ...base, clipLow: 0.2, clipHigh: 0.28, aggregation: 'seq-mean-token-sum-norm' })).toBeCloseTo(dapoSum / 8, 5);
    expect(run({ ...base, clipLow: 0.2, clipHigh: 0.28, aggregation: 'seq-mean-token-sum-norm', maxLen: 10 })).toBeCloseTo(dapoSum / 20, 5);
  });
  it('reports clip fraction and approx KL over valid tokens', () => {
    const r = tf.tidy(() => {
      const out = ppoClip({ logp: t2(lpNew), oldLogp: t2(lpOld), advantages: t2(advMat), mask: t2(mask) }, { ...base, clipLow: 0.2, clipHigh: 0.2, aggregation: 'token-mean' });
      return out.metrics;
    });
    // ratios 1.2214 and 1.6487 exceed 1.2 with A > 0; 0.8187 < 0.8 is false -> 2 of 6 clipped
    expect(r.clipFraction).toBeCloseTo(2 / 6, 6);
    const lr = [0.2, -0.1, 0, 0.5, -0.2, 0.05];
    expect(r.approxKl).toBeCloseTo(-lr.reduce((a, b) => a + b) / 6, 6);
    expect(r.validTokens).toBe(6);
  });
  it('adds β_KL · k3 per token before aggregation', () => {
    const ref = [[-0.4, -1, -0.3, -1.7], [-0.8, -0.2, 0, 0]];
    const got = tf.tidy(() => {
      const out = ppoClip({ logp: t2(lpNew), oldLogp: t2(lpOld), advantages: t2(advMat), mask: t2(mask), refLogp: t2(ref) }, { clipLow: 0.2, clipHigh: 0.28, klCoef: 0.04, aggregation: 'token-mean' });
      return { loss: num(out.loss), kl: out.metrics.kl };
    });
    let k = 0;
    for (let i = 0; i < 2; i++) for (let j = 0; j < 4; j++) if (mask[i][j]) { const d = ref[i][j] - lpNew[i][j]; k += Math.exp(d) - d - 1; }
    expect(got.kl).toBeCloseTo(k / 6, 6);
    expect(got.loss).toBeCloseTo(-0.366011 + 0.04 * (k / 6), 5);
  });
});

describe('ppoClip gradients', () => {
  it('match central finite differences', () => {
    const r = rng(7);
    const B = 3, T = 5;
    const old = randMat(r, B, T, -2, -0.1);
    // keep log-ratios away from the clip kinks (|lr| ∈ [0.02, 0.1] ∪ [0.4, 0.6])
    const x0 = old.map((row) => row.map((v) => v + (r() < 0.3 ? 1 : -1) * (r() < 0.5 ? 0.02 + 0.08 * r() : 0.4 + 0.2 * r())));
    const advs = randMat(r, B, T, -1, 1);
    const ref = randMat(r, B, T, -2, -0.1);
    const m = [[1, 1, 1, 1, 0], [1, 1, 0, 0, 0], [1, 1, 1, 1, 1]];
    for (const aggregation of ['seq-mean-token-mean', 'token-mean', 'seq-mean-token-sum-norm'] as const) {
      const f = (x: tf.Tensor) =>
        ppoClip({ logp: x as tf.Tensor2D, oldLogp: t2(old), advantages: t2(advs), mask: t2(m), refLogp: t2(ref) }, { clipLow: 0.2, clipHigh: 0.28, klCoef: 0.1, aggregation, skipMetrics: true }).loss;
      const { analytic, numeric } = gradCheck(f, x0, 1e-3);
      expectClose(analytic, numeric, 2e-3, 2e-2);
    }
  });
});

describe('ppoClip inside tf.variableGrads (how the training step calls it)', () => {
  it('gives the same gradient as tf.grad and readable metrics', () => {
    const v = tf.variable(t2(lpNew));
    const params: PolicyLossParams = { clipLow: 0.2, clipHigh: 0.28, klCoef: 0, aggregation: 'token-mean' };
    let metrics: Record<string, number> = {};
    const { value, grads } = tf.variableGrads(() => {
      const out = ppoClip({ logp: v as unknown as tf.Tensor2D, oldLogp: t2(lpOld), advantages: t2(advMat), mask: t2(mask) }, params);
      metrics = out.metrics;
      return out.loss;
    }, [v]);
    const ref = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => ppoClip({ logp: x as tf.Tensor2D, oldLogp: t2(lpOld), advantages: t2(advMat), mask: t2(mask) }, params).loss)(t2(lpNew)).dataSync()));
    expect(num(value)).toBeCloseTo(-0.366011, 5);
    expectClose(Array.from(grads[v.name].dataSync()), ref, 1e-7);
    expect(metrics.validTokens).toBe(6);
    v.dispose();
  });
});

describe('ppoClip degenerate inputs', () => {
  const p: PolicyLossParams = { clipLow: 0.2, clipHigh: 0.28, klCoef: 0.04, aggregation: 'seq-mean-token-mean' };
  it('all-masked batch and empty responses give finite loss and zero gradient', () => {
    for (const aggregation of ['seq-mean-token-mean', 'token-mean', 'seq-mean-token-sum-norm'] as const) {
      const zero = [[0, 0, 0], [0, 0, 0]];
      const g = tf.tidy(() => {
        const f = (x: tf.Tensor) => ppoClip({ logp: x as tf.Tensor2D, oldLogp: t2(zero), advantages: t2([[1, 1, 1], [-1, -1, -1]]), mask: t2(zero), refLogp: t2(zero) }, { ...p, aggregation }).loss;
        const { value, grad } = tf.valueAndGrad(f)(t2([[-1, -2, -3], [-1, -1, -1]]));
        return [num(value), ...grad.dataSync()];
      });
      expect(g.every(Number.isFinite)).toBe(true);
      expect(g.every((v) => v === 0)).toBe(true);
    }
  });
  it('extreme log-prob gaps (1e4), also as padding garbage, stay finite', () => {
    const vals = tf.tidy(() => {
      const f = (x: tf.Tensor) => ppoClip({ logp: x as tf.Tensor2D, oldLogp: t2([[-1e4, 0, -1e4]]), advantages: t2([[1, -1, 1]]), mask: t2([[1, 1, 0]]), refLogp: t2([[0, -1e4, -1e4]]) }, p).loss;
      const { value, grad } = tf.valueAndGrad(f)(t2([[0, -1e4, -1e4]]));
      return [num(value), ...grad.dataSync()];
    });
    expect(vals.every(Number.isFinite)).toBe(true);
  });
  it('rejects a KL term without reference log-probs, and mismatched shapes', () => {
    const z = t2([[0, 0]]);
    expect(() => ppoClip({ logp: z, oldLogp: z, advantages: z, mask: z }, p)).toThrow(/refLogp/);
    expect(() => ppoClip({ logp: z, oldLogp: t2([[0]]), advantages: z, mask: z }, { ...p, klCoef: 0 })).toThrow(/shape/);
  });
  it('aggregate: seq-mean skips empty sequences', () => {
    const v = tf.tidy(() => num(aggregate(t2([[2, 4], [9, 9]]), t2([[1, 1], [0, 0]]), 'seq-mean-token-mean')));
    expect(v).toBeCloseTo(3, 6);
  });
});
