// Preference family against objectives.md §0.1, §1, §2, §3 and §10. Run: npx vitest run test/losses
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  activationMask,
  contrastiveTokenRewards,
  criticalTokenDpo,
  criticalTokenScores,
  dpo,
  ipo,
  klRefPolicyFromLogits,
  sparsePo,
  takenLogProbs,
  tokenWeightedDpo,
  tReg,
} from '../../losses/index.js';
import type { PreferenceLossFn, PreferenceLossInputs, PreferenceLossParams, PreferenceSide } from '../../losses/index.js';
import { expectClose, gradCheck, num, randMat, rng, t2, useCpu } from './helpers.js';

beforeAll(useCpu);

// §0.1 shared toy pair
const polW = [-1, -0.5, -2, -0.1];
const refW = [-1.2, -0.6, -2.5, -0.2];
const polL = [-0.8, -1.5, -0.3, -2];
const refL = [-0.9, -1, -0.4, -1.5];
const ones4 = [[1, 1, 1, 1]];

type SideExtra = Omit<PreferenceSide, 'logp' | 'refLogp' | 'mask'>;
function pair(extraW: SideExtra = {}, extraL: SideExtra = {}, p = { polW, polL }): PreferenceLossInputs {
  return {
    chosen: { logp: t2([p.polW]), refLogp: t2([refW]), mask: t2(ones4), ...extraW },
    rejected: { logp: t2([p.polL]), refLogp: t2([refL]), mask: t2(ones4), ...extraL },
  };
}
const lossOf = (fn: PreferenceLossFn, mk: () => PreferenceLossInputs, params: PreferenceLossParams) => tf.tidy(() => num(fn(mk(), params).loss));

describe('DPO / IPO (§0.1)', () => {
  it('DPO: margin 0.17, loss 0.611755', () => {
    const r = tf.tidy(() => {
      const out = dpo(pair(), { beta: 0.1 });
      return { loss: num(out.loss), margin: out.metrics.margin };
    });
    expect(r.loss).toBeCloseTo(0.611755, 5);
    expect(r.margin).toBeCloseTo(0.17, 5);
  });
  it('label smoothing: −(1−ε)logσ(h) − ε logσ(−h)', () => {
    const h = 0.17;
    const expected = 0.9 * Math.log1p(Math.exp(-h)) + 0.1 * Math.log1p(Math.exp(h));
    expect(lossOf(dpo, () => pair(), { beta: 0.1, labelSmoothing: 0.1 })).toBeCloseTo(expected, 5);
  });
  it('all-ones token weights give DPO; token-weighted DPO needs weights', () => {
    const w = () => pair({ tokenWeights: t2(ones4) }, { tokenWeights: t2(ones4) });
    expect(lossOf(tokenWeightedDpo, w, { beta: 0.1 })).toBeCloseTo(0.611755, 5);
    expect(() => tokenWeightedDpo(pair(), { beta: 0.1 })).toThrow(/tokenWeights/);
    // a real weighting changes the margin as the formula says
    const wl = [0.5, 2, 0, 1];
    const ratioL = polL.map((v, i) => v - refL[i]);
    const h = 0.1 * (0.9 - ratioL.reduce((s, r, i) => s + wl[i] * r, 0));
    expect(lossOf(tokenWeightedDpo, () => pair({}, { tokenWeights: t2([wl]) }), { beta: 0.1 })).toBeCloseTo(Math.log1p(Math.exp(-h)), 5);
  });
  it('IPO: (mean-ratio margin − 1/(2τ))²', () => {
    const h = 0.9 / 4 - -0.8 / 4;
    expect(lossOf(ipo, () => pair(), { beta: 0.1 })).toBeCloseTo((h - 5) ** 2, 4);
  });
});

// §1 cDPO worked example
const zp = [[2, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 3]];
const zn = [[1, 0, 0], [0, 3, 0], [1, 0, 0], [0, 0, 2]];
const yl = [0, 1, 1, 2];
const sSpec = [0.9094, 0.1554, 0.6652, 0.9647];

describe('critical-token DPO (§1)', () => {
  const scores = () => criticalTokenScores(tf.tensor3d([zp]), tf.tensor3d([zn]), tf.tensor2d([yl], undefined, 'int32'), 1);
  it('scores s = softmax(2 z_pos − z_neg)[y]', () => {
    const s = tf.tidy(() => Array.from(scores().dataSync()));
    expectClose(s, sSpec, 5e-5);
  });
  it('γ = 0.1 → 0.630377, γ = 1.0 → 0.241554', () => {
    expect(lossOf(criticalTokenDpo, () => pair({}, { criticalScores: scores() }), { beta: 0.1 })).toBeCloseTo(0.630377, 5);
    expect(lossOf(criticalTokenDpo, () => pair({}, { criticalScores: scores() }), { beta: 1.0 })).toBeCloseTo(0.241554, 5);
  });
  it('s = 0 gives DPO; chosen scores are ignored unless criticalSide is both', () => {
    const zero = () => t2([[0, 0, 0, 0]]);
    expect(lossOf(criticalTokenDpo, () => pair({}, { criticalScores: zero() }), { beta: 0.1 })).toBeCloseTo(0.611755, 5);
    expect(lossOf(criticalTokenDpo, () => pair({ criticalScores: t2([[0.9, 0.9, 0.9, 0.9]]) }, { criticalScores: scores() }), { beta: 0.1 })).toBeCloseTo(0.630377, 5);
    const both = lossOf(criticalTokenDpo, () => pair({ criticalScores: t2([[0.5, 0.5, 0.5, 0.5]]) }, { criticalScores: zero() }), { beta: 0.1, criticalSide: 'both' });
    const h = 0.1 * (0.5 * 0.9 - -0.8);
    expect(both).toBeCloseTo(Math.log1p(Math.exp(-h)), 5);
  });
  it("criticalSide 'both' weights chosen tokens by s_t, as the official two-sided mode (only_neg=False)", () => {
    // chosen log-ratios [0.2, 0.1, 0.5, 0.1] (§0.1), rejected ones [0.1, −0.5, 0.1, −0.5]
    const sw = [0.9, 0.1, 0.5, 0.3];
    const got = lossOf(criticalTokenDpo, () => pair({ criticalScores: t2([sw]) }, { criticalScores: t2([[0, 0, 0, 0]]) }), { beta: 0.1, criticalSide: 'both' });
    const h = 0.1 * (0.9 * 0.2 + 0.1 * 0.1 + 0.5 * 0.5 + 0.3 * 0.1 - -0.8); // Σ s_t · ratio_w, not Σ (1 − s_t) · ratio_w
    expect(got).toBeCloseTo(Math.log1p(Math.exp(-h)), 5);
  });
  it('keeps the paper\'s sequence sums, not the official code\'s per-position −logσ (documented convention)', () => {
    const rw = [0.2, 0.1, 0.5, 0.1];
    const rl = [0.1, -0.5, 0.1, -0.5];
    const softplus = (x: number) => Math.log1p(Math.exp(x));
    const sequence = softplus(-0.1 * (rw.reduce((a, b) => a + b) - rl.reduce((a, r, t) => a + (1 - sSpec[t]) * r, 0)));
    const perPosition = rw.reduce((a, r, t) => a + softplus(-0.1 * (r - (1 - sSpec[t]) * rl[t])), 0) / 4;
    const got = lossOf(criticalTokenDpo, () => pair({}, { criticalScores: scores() }), { beta: 0.1 });
    expect(got).toBeCloseTo(sequence, 5);
    expect(Math.abs(got - perPosition)).toBeGreaterThan(0.02); // 0.6304 against 0.6771
  });
  it('requires rejected scores', () => {
    expect(() => criticalTokenDpo(pair(), { beta: 0.1 })).toThrow(/criticalScores/);
  });
});

// §2 SparsePO worked example
const refLogitsW = [[1, 0, 0], [0, 2, 0], [0, 0, 1], [1, 1, 0]];
const polLogitsW = refLogitsW.map((r, i) => r.map((v, j) => v + [[0.5, 0, 0], [0, 0.2, 0], [0, 0, 0.3], [0.1, 0, 0]][i][j]));
const refLogitsL = [[0, 1, 0], [1, 0, 0], [0, 0, 2], [0, 1, 1]];
const polLogitsL = refLogitsL.map((r, i) => r.map((v, j) => v + [[0, -0.4, 0], [-0.2, 0, 0], [0, 0, -0.1], [0, 0, -0.3]][i][j]));
const yw = [0, 1, 2, 0];
const ylb = [1, 0, 2, 2];
const mW = [[0.9, 0, 0.4, 0]];
const mL = [[0, 1.2, 0, 0.3]];

function sparseSide(polLogits: tf.Tensor3D, refLogits: number[][], ids: number[], extra: SideExtra = {}): PreferenceSide {
  const idsT = tf.tensor2d([ids], undefined, 'int32');
  const ref = tf.tensor3d([refLogits]);
  return { logp: takenLogProbs(polLogits, idsT), refLogp: takenLogProbs(ref, idsT), mask: t2(ones4), kl: klRefPolicyFromLogits(polLogits, ref), ...extra };
}

describe('SparsePO (§2)', () => {
  it('per-token ratios and −KL(ref‖θ) match the spec', () => {
    const got = tf.tidy(() => {
      const w = sparseSide(tf.tensor3d([polLogitsW]), refLogitsW, yw);
      const l = sparseSide(tf.tensor3d([polLogitsL]), refLogitsL, ylb);
      return [tf.sub(w.logp, w.refLogp), tf.neg(w.kl!), tf.sub(l.logp, l.refLogp), tf.neg(l.kl!)].map((t) => Array.from(t.dataSync()));
    });
    expectClose(got[0], [0.1825, 0.0394, 0.1164, 0.0565], 5e-5);
    expectClose(got[1], [-0.0295, -0.0032, -0.0108, -0.0012], 5e-5);
    expectClose(got[2], [-0.1894, -0.0897, -0.0222, -0.1841], 5e-5);
    expectClose(got[3], [-0.0198, -0.0049, -0.0009, -0.0108], 5e-5);
  });
  const mk = (extraW: SideExtra, extraL: SideExtra) => () => ({
    chosen: sparseSide(tf.tensor3d([polLogitsW]), refLogitsW, yw, extraW),
    rejected: sparseSide(tf.tensor3d([polLogitsL]), refLogitsL, ylb, extraL),
  });
  it('common mask: u = 0.373635, d = −0.021702, core 0.673576, with λ = 0.001 total 0.676376', () => {
    const r = tf.tidy(() => {
      const out = sparsePo(mk({ sparseMaskReward: t2(mW) }, { sparseMaskReward: t2(mL) })(), { beta: 0.1 });
      return { ...out.metrics, loss: num(out.loss) } as Record<string, number>;
    });
    expect(r.u).toBeCloseTo(0.373635, 5);
    expect(r.d).toBeCloseTo(-0.021702, 5);
    expect(r.loss).toBeCloseTo(0.673576, 5);
    expect(r.maskDensity).toBeCloseTo(4 / 8, 6);
    const withL1 = lossOf(sparsePo, mk({ sparseMaskReward: t2(mW) }, { sparseMaskReward: t2(mL) }), { beta: 0.1, sparseL1Reward: 0.001, sparseL1Kl: 0.001 });
    expect(withL1).toBeCloseTo(0.676376, 5);
  });
  it('independent masks: full λ_u on reward masks, full λ_d on KL masks', () => {
    const ones = () => t2(ones4);
    const base = lossOf(sparsePo, mk({ sparseMaskReward: t2(mW), sparseMaskKl: ones() }, { sparseMaskReward: t2(mL), sparseMaskKl: ones() }), { beta: 0.1 });
    const pen = lossOf(sparsePo, mk({ sparseMaskReward: t2(mW), sparseMaskKl: ones() }, { sparseMaskReward: t2(mL), sparseMaskKl: ones() }), { beta: 0.1, sparseL1Reward: 0.01, sparseL1Kl: 0.1 });
    expect(pen - base).toBeCloseTo(0.01 * 2.8 + 0.1 * 8, 5);
  });
  it('all-ones masks give TDPO₁; no KL term and ones give DPO', () => {
    // TDPO₁: −logσ(β(Σ ratio_w − Σ ratio_l − (KL_l − KL_w)))
    const rw = [0.1825, 0.0394, 0.1164, 0.0565], kw = [0.0295, 0.0032, 0.0108, 0.0012];
    const rl = [-0.1894, -0.0897, -0.0222, -0.1841], kl = [0.0198, 0.0049, 0.0009, 0.0108];
    const s = (a: number[]) => a.reduce((x, y) => x + y, 0);
    const h = 0.1 * (s(rw) - s(rl) - (s(kl) - s(kw)));
    const ones = () => t2(ones4);
    expect(lossOf(sparsePo, mk({ sparseMaskReward: ones() }, { sparseMaskReward: ones() }), { beta: 0.1 })).toBeCloseTo(Math.log1p(Math.exp(-h)), 4);
    expect(lossOf(sparsePo, mk({}, {}), { beta: 0.1 })).toBeCloseTo(Math.log1p(Math.exp(-h)), 4);
    expect(lossOf(sparsePo, () => pair(), { beta: 0.1 })).toBeCloseTo(0.611755, 5);
  });
  it('activation mask (zn_rescale) of [0.3, −1, 2, 0.5] is [0.4333, 0, 1, 0.5]; averaged over hooks; masked → 0', () => {
    const m = tf.tidy(() => Array.from(activationMask([tf.tensor3d([[[0.3], [-1], [2], [0.5]]])], t2(ones4)).dataSync()));
    expectClose(m, [0.43333, 0, 1, 0.5], 1e-5);
    const two = tf.tidy(() => {
      // hook 2 has hidden size 2 (mean over it first) and the reverse ordering
      const h2 = tf.tensor3d([[[2, 2], [3, 3], [0, 0], [1, 1]]]);
      return Array.from(activationMask([tf.tensor3d([[[0.3], [-1], [2], [0.5]]]), h2], t2([[1, 1, 1, 0]])).dataSync());
    });
    // hook 1 over 3 valid tokens: (a − (−1))/3 → [0.4333, 0, 1]; hook 2: [2,3,0]/3 → [0.6667, 1, 0]
    expectClose(two, [(1.3 / 3 + 2 / 3) / 2, 0.5, 0.5, 0], 1e-5);
  });
  it('activation mask: constant or single-token sequences fall back to 1, no NaN', () => {
    const m = tf.tidy(() => Array.from(activationMask([tf.tensor3d([[[1], [1], [1]], [[5], [0], [0]]])], t2([[1, 1, 1], [1, 0, 0]])).dataSync()));
    expect(m).toEqual([1, 1, 1, 1, 0, 0]);
  });
});

// §3 T-REG worked example
describe('T-REG (§3)', () => {
  const rhat = (b: number[], w: number[]) => contrastiveTokenRewards(t2([b]), t2([w]));
  const mk = () =>
    pair({ tokenRewards: rhat([-0.5, -1, -0.2, -3], [-1.5, -0.9, -1.2, -1]) }, { tokenRewards: rhat([-2, -0.7, -1, -0.4], [-0.5, -0.8, -0.2, -0.6]) });
  it('token rewards r̂ = σ(Δ) − 0.5', () => {
    const r = tf.tidy(() => [Array.from(rhat([-0.5, -1, -0.2, -3], [-1.5, -0.9, -1.2, -1]).dataSync()), Array.from(rhat([-2, -0.7, -1, -0.4], [-0.5, -0.8, -0.2, -0.6]).dataSync())]);
    expectClose(r[0], [0.2311, -0.025, 0.2311, -0.3808], 5e-5);
    expectClose(r[1], [-0.3176, 0.025, -0.19, 0.0498], 5e-5);
  });
  it('L_DPO 0.611755, w 0.457602, L_REG 0.046869, total 0.622479 (α = 0.5)', () => {
    const r = tf.tidy(() => {
      const out = tReg(mk(), { beta: 0.1, tregAlpha: 0.5 });
      return { ...out.metrics, loss: num(out.loss) } as Record<string, number>;
    });
    expect(r.dpoLoss).toBeCloseTo(0.611755, 5);
    expect(r.regWeight).toBeCloseTo(0.457602, 5);
    expect(r.regLoss).toBeCloseTo(0.046869, 5);
    expect(r.loss).toBeCloseTo(0.622479, 5);
  });
  it('α = 0 gives DPO', () => {
    expect(lossOf(tReg, mk, { beta: 0.1, tregAlpha: 0 })).toBeCloseTo(0.611755, 5);
  });
  it('the pair weight is detached: gradient = DPO gradient + α w ∂L_REG', () => {
    const g = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => tReg({ ...mk(), chosen: { ...mk().chosen, logp: x as tf.Tensor2D } }, { beta: 0.1, tregAlpha: 0.5 }).loss)(t2([polW])).dataSync()));
    const rW = [0.2311, -0.025, 0.2311, -0.3808];
    const w = 0.457602;
    // ∂L_DPO/∂lp_w = −β σ(−h) = −0.1 w ; ∂(α w L_REG(y_w))/∂lp_w = −α w β r̂
    const expected = rW.map((r) => -0.1 * w - 0.5 * w * 0.1 * r);
    expectClose(g, expected, 2e-5);
  });
  it('label smoothing ε smooths the DPO part only: loss = DPO_ε + α w L_REG, gradient −β((1−ε)σ(−h) − εσ(h)) − α w β r̂', () => {
    const eps = 0.1;
    const w = 0.457602; // σ(−h), h = 0.17: ε does not change the pair weight
    const loss = lossOf(tReg, mk, { beta: 0.1, tregAlpha: 0.5, labelSmoothing: eps });
    expect(loss).toBeCloseTo(lossOf(dpo, () => pair(), { beta: 0.1, labelSmoothing: eps }) + 0.5 * w * 0.046869, 5);
    const g = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => tReg({ ...mk(), chosen: { ...mk().chosen, logp: x as tf.Tensor2D } }, { beta: 0.1, tregAlpha: 0.5, labelSmoothing: eps }).loss)(t2([polW])).dataSync()));
    const rW = [0.2311, -0.025, 0.2311, -0.3808];
    const dCore = -(1 - eps) * w + eps * (1 - w);
    expectClose(g, rW.map((r) => 0.1 * dCore - 0.5 * w * 0.1 * r), 2e-5);
  });
});

describe('gradients agree with central finite differences', () => {
  const r = rng(11);
  const B = 2, T = 4;
  const ref = { w: randMat(r, B, T, -2, -0.2), l: randMat(r, B, T, -2, -0.2) };
  const x0 = randMat(r, B, T, -2, -0.2);
  const other = randMat(r, B, T, -2, -0.2);
  const mask = [[1, 1, 1, 0], [1, 1, 0, 0]];
  const weights = randMat(r, B, T, 0, 1.5);
  const scoresS = randMat(r, B, T, 0.05, 0.95);
  const rh = randMat(r, B, T, -0.45, 0.45);
  const inputsFor = (x: tf.Tensor, extraW: SideExtra = {}, extraL: SideExtra = {}): PreferenceLossInputs => ({
    chosen: { logp: x as tf.Tensor2D, refLogp: t2(ref.w), mask: t2(mask), ...extraW },
    rejected: { logp: t2(other), refLogp: t2(ref.l), mask: t2(mask), ...extraL },
  });
  const cases: Array<[string, (x: tf.Tensor) => tf.Scalar]> = [
    ['dpo (label smoothing)', (x) => dpo(inputsFor(x), { beta: 0.5, labelSmoothing: 0.1, skipMetrics: true }).loss],
    ['ipo', (x) => ipo(inputsFor(x), { beta: 0.5, skipMetrics: true }).loss],
    ['token-weighted-dpo', (x) => tokenWeightedDpo(inputsFor(x, { tokenWeights: t2(weights) }), { beta: 0.5, skipMetrics: true }).loss],
    ['critical-token-dpo (both)', (x) => criticalTokenDpo(inputsFor(x, { criticalScores: t2(scoresS) }, { criticalScores: t2(scoresS) }), { beta: 0.5, criticalSide: 'both', skipMetrics: true }).loss],
    ['sparse-po (masks, kl, L1)', (x) => sparsePo(inputsFor(x, { sparseMaskReward: t2(weights), kl: tf.square(tf.sub(x, t2(ref.w))) as tf.Tensor2D }, { sparseMaskReward: t2(scoresS), kl: t2(weights) }), { beta: 0.5, sparseL1Reward: 0.01, skipMetrics: true }).loss],
    ['sparse-po (label smoothing, L1 on a mask made from x)', (x) => sparsePo(inputsFor(x, { sparseMaskReward: tf.sigmoid(x) as tf.Tensor2D, kl: t2(weights) }, { sparseMaskReward: t2(scoresS) }), { beta: 0.5, labelSmoothing: 0.2, sparseL1Reward: 0.05, sparseL1Kl: 0.02, skipMetrics: true }).loss],
  ];
  for (const [name, f] of cases) {
    it(name, () => {
      const { analytic, numeric } = gradCheck(f, x0, 1e-2);
      expectClose(analytic, numeric, 1e-3, 1e-2);
    });
  }
  it('t-reg (finite differences with the detached pair weight held at its value at x0)', () => {
    const params = { beta: 0.5, skipMetrics: true };
    const pairOf = (x: tf.Tensor, b: number): PreferenceLossInputs => ({
      chosen: { logp: tf.slice(x, [b, 0], [1, T]) as tf.Tensor2D, refLogp: t2([ref.w[b]]), mask: t2([mask[b]]), tokenRewards: t2([rh[b]]) },
      rejected: { logp: t2([other[b]]), refLogp: t2([ref.l[b]]), mask: t2([mask[b]]), tokenRewards: t2([rh[b]]) },
    });
    const wAt = (x: tf.Tensor, b: number) => 1 / (1 + Math.exp(dpo(pairOf(x, b), { beta: 0.5 }).metrics.margin));
    const w0 = tf.tidy(() => [0, 1].map((b) => wAt(t2(x0), b)));
    // g(x) = mean_b [ L_DPO(x) + α w0_b L_REG(x) ],  L_REG = (T-REG with α = 1 − L_DPO) / w(x)
    const frozen = (x: tf.Tensor) =>
      tf.div(
        tf.addN(
          [0, 1].map((b) => {
            const d = dpo(pairOf(x, b), params).loss;
            const reg = tf.div(tf.sub(tReg(pairOf(x, b), { ...params, tregAlpha: 1 }).loss, d), wAt(x, b));
            return tf.add(d, tf.mul(reg, 0.5 * w0[b]));
          }),
        ),
        2,
      ) as tf.Scalar;
    const analytic = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => tReg(inputsFor(x, { tokenRewards: t2(rh) }, { tokenRewards: t2(rh) }), { ...params, tregAlpha: 0.5 }).loss)(t2(x0)).dataSync()));
    const { numeric } = gradCheck(frozen, x0, 1e-2);
    expectClose(analytic, numeric, 1e-3, 1e-2);
  });
  it('sparse-po through policy logits (full-vocabulary KL and log-softmax)', () => {
    const ids = tf.tensor2d([yw], undefined, 'int32');
    const refT = tf.tensor3d([refLogitsW]);
    const f = (z: tf.Tensor) => {
      const zz = z as tf.Tensor3D;
      return sparsePo(
        {
          chosen: { logp: takenLogProbs(zz, ids), refLogp: takenLogProbs(refT, ids), mask: t2(ones4), kl: klRefPolicyFromLogits(zz, refT), sparseMaskReward: t2(mW) },
          rejected: sparseSide(tf.tensor3d([polLogitsL]), refLogitsL, ylb, { sparseMaskReward: t2(mL) }),
        },
        { beta: 0.8, skipMetrics: true },
      ).loss;
    };
    const { analytic, numeric } = gradCheck(f, polLogitsW.flat(), 1e-2, [1, 4, 3]);
    expectClose(analytic, numeric, 1e-3, 1e-2);
  });
});

describe('degenerate inputs', () => {
  const all: Array<[string, PreferenceLossFn, SideExtra]> = [
    ['dpo', dpo, {}],
    ['ipo', ipo, {}],
    ['token-weighted-dpo', tokenWeightedDpo, { tokenWeights: t2([[1, 1, 1]]) }],
    ['critical-token-dpo', criticalTokenDpo, { criticalScores: t2([[0.5, 0.5, 0.5]]) }],
    ['sparse-po', sparsePo, { sparseMaskReward: t2([[1, 0, 2]]), kl: t2([[0.1, 0.1, 0.1]]) }],
    ['t-reg', tReg, { tokenRewards: t2([[0.2, -0.1, 0.3]]) }],
  ];
  for (const [name, fn, extra] of all) {
    it(`${name}: empty responses and 1e4 log-prob gaps (also in padding) stay finite`, () => {
      const vals = tf.tidy(() => {
        const f = (x: tf.Tensor) =>
          fn(
            {
              chosen: { logp: x as tf.Tensor2D, refLogp: t2([[0, 0, -1e4]]), mask: t2([[1, 1, 0]]), ...extra },
              rejected: { logp: t2([[-1e4, -1e4, -1e4]]), refLogp: t2([[0, 0, 0]]), mask: t2([[1, 0, 0]]), ...extra },
            },
            { beta: 0.1, sparseL1Reward: 0.01 },
          ).loss;
        const a = tf.valueAndGrad(f)(t2([[1e4, -1e4, -1e4]]));
        const empty = (x: tf.Tensor) =>
          fn(
            {
              chosen: { logp: x as tf.Tensor2D, refLogp: t2([[0, 0, 0]]), mask: t2([[0, 0, 0]]), ...extra },
              rejected: { logp: t2([[0, 0, 0]]), refLogp: t2([[0, 0, 0]]), mask: t2([[0, 0, 0]]), ...extra },
            },
            { beta: 0.1 },
          ).loss;
        const b = tf.valueAndGrad(empty)(t2([[-1, -2, -3]]));
        return [num(a.value), ...a.grad.dataSync(), num(b.value), ...b.grad.dataSync()];
      });
      expect(vals.every(Number.isFinite)).toBe(true);
    });
  }
});
