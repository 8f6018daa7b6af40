// Token statistics from logits, the SparsePO mask head, and the registries. Run: npx vitest run test/losses
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  entropyFromLogits,
  getPolicyLoss,
  getPreferenceLoss,
  k3,
  klRefPolicyFromLogits,
  POLICY_LOSS_NAMES,
  POLICY_LOSSES,
  PREFERENCE_LOSS_NAMES,
  PREFERENCE_LOSSES,
  SparseMaskHead,
  sparsePo,
  takenLogProbs,
  UnknownVariantError,
} from '../../losses/index.js';
import type { PolicyLossParams, PreferenceLossInputs } from '../../losses/index.js';
import { expectClose, gradCheck, num, randMat, rng, t2, useCpu } from './helpers.js';

beforeAll(useCpu);

function refLogSoftmax(row: number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
}

describe('token statistics from logits', () => {
  const r = rng(3);
  const logits = Array.from({ length: 2 }, () => randMat(r, 3, 5, -4, 4)); // [2, 3, 5]
  const ids = [[0, 4, 2], [1, 1, 3]];
  it('taken log-probs and entropies match a float64 reference (with temperature)', () => {
    for (const temp of [1, 0.7]) {
      const got = tf.tidy(() => {
        const z = tf.tensor3d(logits);
        return [Array.from(takenLogProbs(z, tf.tensor2d(ids, undefined, 'int32'), temp).dataSync()), Array.from(entropyFromLogits(z, temp).dataSync())];
      });
      const lp: number[] = [];
      const ent: number[] = [];
      logits.forEach((seq, b) =>
        seq.forEach((row, t) => {
          const ls = refLogSoftmax(row.map((v) => v / temp));
          lp.push(ls[ids[b][t]]);
          ent.push(-ls.reduce((s, l) => s + Math.exp(l) * l, 0));
        }),
      );
      expectClose(got[0], lp, 1e-5);
      expectClose(got[1], ent, 1e-5);
    }
  });
  it('stay finite for extreme logits (1e4 gaps)', () => {
    const v = tf.tidy(() => {
      const z = tf.tensor3d([[[1e4, -1e4, 0]]]);
      return [...takenLogProbs(z, tf.tensor2d([[1]], undefined, 'int32')).dataSync(), ...entropyFromLogits(z).dataSync()];
    });
    expect(v[0]).toBeCloseTo(-2e4, 0);
    expect(v[1]).toBeCloseTo(0, 6);
  });
  it('entropy is never negative for large logits (row max taken out first: [64, 50] gave −3.8e-5)', () => {
    const rows = [[64, 50], [1000, 990, 980], [88, 88, 70], [-300, -310]];
    const got = tf.tidy(() => rows.map((row) => entropyFromLogits(tf.tensor3d([[row]])).dataSync()[0]));
    const want = rows.map((row) => {
      const ls = refLogSoftmax(row);
      return -ls.reduce((s, l) => s + Math.exp(l) * l, 0);
    });
    for (const h of got) expect(h).toBeGreaterThanOrEqual(0);
    // float64 reference: [64, 50] has H = 1.245e-5; relative error, since the values are tiny
    got.forEach((h, i) => expect(Math.abs(h - want[i])).toBeLessThanOrEqual(1e-3 * want[i] + 1e-9));
  });
  it('gradient of the taken log-prob matches finite differences', () => {
    const idsT = tf.tensor2d(ids, undefined, 'int32');
    const w = randMat(r, 2, 3, -1, 1);
    const f = (z: tf.Tensor) => tf.sum(tf.mul(takenLogProbs(z as tf.Tensor3D, idsT), t2(w))) as tf.Scalar;
    const { analytic, numeric } = gradCheck(f, logits.flat(2), 1e-2, [2, 3, 5]);
    expectClose(analytic, numeric, 1e-3, 1e-2);
  });
  it('k3 is exp(d) − d − 1 with d = lp_ref − lp_θ, finite at 1e4 gaps', () => {
    const v = tf.tidy(() => Array.from(k3(t2([[-1, 0, -1e4]]), t2([[-0.5, -2, 0]])).dataSync()));
    expectClose(v.slice(0, 2), [Math.exp(0.5) - 1.5, Math.exp(-2) + 1], 1e-6);
    expect(Number.isFinite(v[2])).toBe(true);
  });
});

describe('full-vocabulary KL(π_ref ‖ πθ) from logits', () => {
  it('value and gradient (softmax(z) − π_ref, one op) equal the taped formula Σ π_ref (log π_ref − log πθ)', () => {
    const r = rng(11);
    const z = Array.from({ length: 2 }, () => randMat(r, 3, 6, -5, 5)); // [2, 3, 6]
    const ref = Array.from({ length: 2 }, () => randMat(r, 3, 6, -5, 5));
    const w = randMat(r, 2, 3, -1, 1);
    const taped = (x: tf.Tensor3D, refT: tf.Tensor3D) => {
      const lpRef = tf.logSoftmax(refT, -1);
      return tf.sum(tf.mul(tf.exp(lpRef), tf.sub(lpRef, tf.logSoftmax(x, -1))), -1) as tf.Tensor2D;
    };
    const run = (kl: typeof taped) =>
      tf.tidy(() => {
        const refT = tf.tensor3d(ref);
        const f = (x: tf.Tensor) => tf.sum(tf.mul(kl(x as tf.Tensor3D, refT), t2(w))) as tf.Scalar;
        const { value, grad } = tf.valueAndGrad(f)(tf.tensor3d(z));
        return { kl: Array.from(kl(tf.tensor3d(z), refT).dataSync()), value: value.dataSync()[0], grad: Array.from(grad.dataSync()) };
      });
    const fused = run(klRefPolicyFromLogits);
    const plain = run(taped);
    expect(fused.kl.every((v) => v >= -1e-6)).toBe(true);
    expectClose(fused.kl, plain.kl, 1e-6, 1e-6);
    expectClose([fused.value], [plain.value], 1e-6, 1e-6);
    expectClose(fused.grad, plain.grad, 1e-6, 1e-5);
  });
});

describe('SparsePO learned mask head', () => {
  const L = 3, B = 2, T = 4, Hd = 6;
  const r = rng(9);
  const hidden = () => Array.from({ length: L }, () => tf.tensor3d(Array.from({ length: B }, () => randMat(r, T, Hd, -2, 2))));
  it('is deterministic for a seed and non-negative; dropout follows (seed, step) and is off in eval', () => {
    const hs = hidden();
    const a = new SparseMaskHead({ numLayers: L, hiddenSize: Hd, seed: 42, dropout: 0.3 });
    const b = new SparseMaskHead({ numLayers: L, hiddenSize: Hd, seed: 42, dropout: 0.3 });
    const c = new SparseMaskHead({ numLayers: L, hiddenSize: Hd, seed: 43, dropout: 0.3 });
    const ev = (h: SparseMaskHead) => tf.tidy(() => Array.from(h.apply(hs, { training: false }).dataSync()));
    expect(ev(a)).toEqual(ev(b));
    expect(ev(a)).not.toEqual(ev(c));
    expect(ev(a)).toEqual(ev(a));
    expect(ev(a).every((v) => v >= 0)).toBe(true);
    const tr = (h: SparseMaskHead, step: number) => tf.tidy(() => Array.from(h.apply(hs, { training: true, step }).dataSync()));
    expect(tr(a, 5)).toEqual(tr(b, 5)); // same stream for the same (seed, step)
    expect(tr(a, 5)).not.toEqual(tr(a, 6));
    [a, b, c].forEach((h) => h.dispose());
    hs.forEach((h) => h.dispose());
  });
  it('dropout over a frame: a block of the batch (rows from..from+n, its own shorter width) is masked as in the whole', () => {
    const head = new SparseMaskHead({ numLayers: L, hiddenSize: Hd, seed: 42, dropout: 0.3 });
    const hs = Array.from({ length: L }, () => tf.tensor3d(Array.from({ length: 4 }, () => randMat(r, 8, Hd, -2, 2))));
    const block = hs.map((h) => tf.slice(h, [1, 0, 0], [2, 6, Hd]) as tf.Tensor3D);
    const whole = tf.tidy(() => tf.slice(head.apply(hs, { training: true, step: 7 }), [1, 0], [2, 6]).arraySync() as number[][]);
    const framed = tf.tidy(() => head.apply(block, { training: true, step: 7, frame: { rows: 4, cols: 8, from: 1 } }).arraySync() as number[][]);
    const own = tf.tidy(() => head.apply(block, { training: true, step: 7 }).arraySync() as number[][]);
    const zeros = (m: number[][]) => m.flat().map((v) => v === 0);
    expect(zeros(whole).some((z) => z)).toBe(true); // some of these tokens are dropped
    expect(zeros(framed)).toEqual(zeros(whole));
    framed.flat().forEach((v, i) => expect(v).toBeCloseTo(whole.flat()[i], 6));
    expect(own).not.toEqual(framed); // the block's own frame draws other noise
    expect(() => head.apply(block, { training: true, step: 7, frame: { rows: 2, cols: 8, from: 1 } })).toThrow(/does not fit its dropout frame/);
    tf.dispose([...hs, ...block]);
    head.dispose();
  });
  it('dispose frees everything the head made', () => {
    const before = tf.memory().numTensors;
    new SparseMaskHead({ numLayers: L, hiddenSize: Hd, seed: 3 }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
  it('trains jointly: gradients reach every head variable through the SparsePO loss and match finite differences', () => {
    const hs = hidden();
    const head = new SparseMaskHead({ numLayers: L, hiddenSize: Hd, seed: 1, dropout: 0 });
    // make every token's mask positive so all parameters get gradient
    head.mixer.assign(tf.tensor1d([0.5, 0.4, 0.3]));
    head.layerBias.assign(tf.tensor1d([2, 2, 2]));
    const lp = randMat(r, B, T, -2, -0.1);
    const inputs = (m: tf.Tensor2D): PreferenceLossInputs => ({
      chosen: { logp: t2(lp), refLogp: t2(randMat(rng(1), B, T, -2, -0.1)), mask: t2([[1, 1, 1, 1], [1, 1, 1, 0]]), sparseMaskReward: m },
      rejected: { logp: t2(randMat(rng(2), B, T, -2, -0.1)), refLogp: t2(randMat(rng(3), B, T, -2, -0.1)), mask: t2([[1, 1, 0, 0], [1, 1, 1, 1]]), sparseMaskReward: m },
    });
    const { grads, value } = tf.variableGrads(() => sparsePo(inputs(head.apply(hs, { training: true, step: 0 })), { beta: 0.8, sparseL1Reward: 0.01 }).loss, head.variables);
    expect(Number.isFinite(num(value))).toBe(true);
    for (const v of head.variables) {
      const g = grads[v.name].dataSync();
      expect(Array.from(g).every(Number.isFinite)).toBe(true);
      expect(Array.from(g).some((x) => x !== 0)).toBe(true);
    }
    // finite differences on the mixer weights
    const mixer0 = Array.from(head.mixer.dataSync());
    const f = (w: tf.Tensor) => {
      head.mixer.assign(w as tf.Tensor1D);
      return sparsePo(inputs(head.apply(hs, { training: false })), { beta: 0.8, sparseL1Reward: 0.01, skipMetrics: true }).loss;
    };
    const numeric = mixer0.map((_, i) => {
      const h = 1e-2;
      const plus = mixer0.slice();
      const minus = mixer0.slice();
      plus[i] += h;
      minus[i] -= h;
      return (tf.tidy(() => num(f(tf.tensor1d(plus)))) - tf.tidy(() => num(f(tf.tensor1d(minus))))) / (2 * h);
    });
    head.mixer.assign(tf.tensor1d(mixer0));
    expectClose(Array.from(grads[head.mixer.name].dataSync()), numeric, 1e-3, 1e-2);
    head.dispose();
  });
});

describe('registries', () => {
  it('name lists come from the registries', () => {
    expect(POLICY_LOSS_NAMES).toEqual(Object.keys(POLICY_LOSSES));
    expect(PREFERENCE_LOSS_NAMES).toEqual(Object.keys(PREFERENCE_LOSSES));
    expect(PREFERENCE_LOSS_NAMES).toContain('critical-token-dpo');
    expect(PREFERENCE_LOSS_NAMES).not.toContain('cdpo');
  });
  it('unknown names throw UnknownVariantError listing the valid names', () => {
    expect(() => getPolicyLoss('grpo-typo')).toThrow(UnknownVariantError);
    expect(() => getPolicyLoss('grpo-typo')).toThrow(/ppo-clip, forking-tokens, spo/);
    expect(() => getPreferenceLoss('cdpo')).toThrow(/critical-token-dpo/);
    expect(() => getPreferenceLoss('toString')).toThrow(UnknownVariantError);
  });
  it('every registered variant runs and gives a finite loss and gradient', () => {
    const r = rng(4);
    const B = 2, T = 3;
    const m = t2([[1, 1, 0], [1, 1, 1]]);
    const rand = (lo: number, hi: number) => t2(randMat(r, B, T, lo, hi));
    const params: PolicyLossParams = { clipLow: 0.2, clipHigh: 0.28, klCoef: 0.01, aggregation: 'seq-mean-token-mean', forkingRho: 0.5 };
    for (const name of POLICY_LOSS_NAMES) {
      const v = tf.tidy(() => {
        const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => getPolicyLoss(name)({ logp: x as tf.Tensor2D, oldLogp: rand(-2, -0.1), advantages: rand(-1, 1), mask: m, refLogp: rand(-2, -0.1), entropies: rand(0, 2) }, params).loss)(rand(-2, -0.1));
        return [num(value), ...grad.dataSync()];
      });
      expect(v.every(Number.isFinite), name).toBe(true);
    }
    for (const name of PREFERENCE_LOSS_NAMES) {
      const v = tf.tidy(() => {
        const side = (logp: tf.Tensor2D) => ({ logp, refLogp: rand(-2, -0.1), mask: m, tokenWeights: rand(0.5, 1), criticalScores: rand(0, 1), kl: rand(0, 0.1), sparseMaskReward: rand(0, 1), tokenRewards: rand(-0.4, 0.4) });
        const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => getPreferenceLoss(name)({ chosen: side(x as tf.Tensor2D), rejected: side(rand(-2, -0.1)) }, { beta: 0.1 }).loss)(rand(-2, -0.1));
        return [num(value), ...grad.dataSync()];
      });
      expect(v.every(Number.isFinite), name).toBe(true);
    }
  });
});
