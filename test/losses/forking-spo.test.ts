// Forking-token DAPO (objectives.md §4) and SPO (§5) against the §10 numbers. Run: npx vitest run test/losses
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  entropyQuantileThreshold,
  forkingTokenPpo,
  groupAdvantages,
  ppoClip,
  quantileLinear,
  spoChainAdvantages,
  spoCutpoints,
  spoPpo,
  spoTreeAdvantages,
} from '../../losses/index.js';
import type { PolicyLossFn, PolicyLossInputs, PolicyLossParams } from '../../losses/index.js';
import { expectClose, gradCheck, num, randMat, rng, t2, useCpu } from './helpers.js';

beforeAll(useCpu);

// §0.2 / §4 batch
const adv = groupAdvantages([1, 0, 0, 1], 4, 'grpo');
const lpOld = [[-0.5, -1, -0.2, -2], [-0.7, -0.1, 0, 0]];
const lpNew = [[-0.3, -1.1, -0.2, -1.5], [-0.9, -0.05, 0, 0]];
const mask = [[1, 1, 1, 1], [1, 1, 0, 0]];
const H = [[0.9, 0.2, 0.05, 1.6], [1.1, 0.1, 0, 0]];
const advMat = [Array(4).fill(adv[0]), Array(4).fill(adv[1])];
const dapo: PolicyLossParams = { clipLow: 0.2, clipHigh: 0.28, klCoef: 0, aggregation: 'token-mean' };
const batch = (): PolicyLossInputs => ({ logp: t2(lpNew), oldLogp: t2(lpOld), advantages: t2(advMat), mask: t2(mask), entropies: t2(H) });
const run = (fn: PolicyLossFn, params: PolicyLossParams, mk = batch) =>
  tf.tidy(() => {
    const out = fn(mk(), params);
    return { ...out.metrics, loss: num(out.loss) } as Record<string, number>;
  });

describe('forking tokens (§4)', () => {
  it('τ = 1.1 is the 0.8-quantile of the 6 valid entropies, pooled over the batch', () => {
    expect(tf.tidy(() => entropyQuantileThreshold(t2(H), t2(mask), 0.2))).toBeCloseTo(1.1, 6);
    // numpy linear interpolation on a plain list
    expect(quantileLinear([3, 1, 2, 4], 0.5)).toBeCloseTo(2.5, 12);
    expect(quantileLinear([5, 1, 4, 2, 3], 0.9)).toBeCloseTo(4.6, 12);
    expect(quantileLinear([7], 0.3)).toBe(7);
  });
  it('forking DAPO loss −0.066567 (denominator: all 6 valid tokens)', () => {
    const r = run(forkingTokenPpo, { ...dapo, forkingRho: 0.2 });
    expect(r.loss).toBeCloseTo(-0.066567, 5);
    expect(r.keptFraction).toBeCloseTo(2 / 6, 6);
    expect(r.entropyThreshold).toBeCloseTo(1.1, 6);
  });
  it('ρ = 1 reproduces plain DAPO exactly', () => {
    const a = run(forkingTokenPpo, { ...dapo, forkingRho: 1 });
    const b = run(ppoClip, dapo);
    expect(a.loss).toBe(b.loss);
    expect(a.loss).toBeCloseTo(-0.366011, 5);
  });
  it("'bottom' trains on the exact complement", () => {
    const top = run(forkingTokenPpo, { ...dapo, forkingRho: 0.2 });
    const bottom = run(forkingTokenPpo, { ...dapo, forkingRho: 0.8, forkingSide: 'bottom' });
    expect(top.loss + bottom.loss).toBeCloseTo(-0.366011, 5);
    expect(bottom.keptFraction).toBeCloseTo(4 / 6, 6);
  });
  it('a caller-supplied threshold (pooled over a larger batch) is used as is', () => {
    const r = run(forkingTokenPpo, { ...dapo, forkingRho: 0.2, entropyThreshold: 0.85 });
    expect(r.keptFraction).toBeCloseTo(3 / 6, 6);
  });
  it('composes with other token weights (× SPO-style weights) without touching the denominator', () => {
    const w = [[1, 1, 1, 0.5], [2, 1, 1, 1]];
    const r = run(forkingTokenPpo, { ...dapo, forkingRho: 0.2 }, () => ({ ...batch(), tokenWeights: t2(w) }));
    expect(r.loss).toBeCloseTo((-1.1083 * 0.5 + 0.7089 * 2) / 6, 4);
  });
  it('all-masked batch and missing entropies', () => {
    const zero = [[0, 0, 0, 0], [0, 0, 0, 0]];
    const r = run(forkingTokenPpo, { ...dapo, forkingRho: 0.2 }, () => ({ ...batch(), mask: t2(zero) }));
    expect(r.loss).toBe(0);
    expect(() => forkingTokenPpo({ ...batch(), entropies: undefined }, { ...dapo, forkingRho: 0.2 })).toThrow(/entropies/);
  });
});

describe('SPO chain (§5.1)', () => {
  const p = [0.95, 0.5, 0.99, 0.6, 0.97, 0.3, 0.8, 0.99];
  it('cutpoints [0, 2, 4, 5] → every 2nd kept → [0, 4]', () => {
    expect(spoCutpoints(p, { interval: 1 })).toEqual([0, 2, 4, 5]);
    expect(spoCutpoints(p, { interval: 2 })).toEqual([0, 4]);
    expect(spoCutpoints([0.5, 0.95, 0.2], { interval: 1 })).toEqual([-1, 1]);
  });
  it('segment advantages [0.1 | 0.25×4 | −0.75×3]; the official-code quirk gives 0 first', () => {
    const base = { length: 8, cutpoints: [0, 4], values: [0.5, 0.75], reward: 0 };
    expectClose(spoChainAdvantages({ ...base, v0: 0.4 }), [0.1, 0.25, 0.25, 0.25, 0.25, -0.75, -0.75, -0.75], 1e-12);
    expectClose(spoChainAdvantages({ ...base, v0: null }), [0, 0.25, 0.25, 0.25, 0.25, -0.75, -0.75, -0.75], 1e-12);
    // a cutpoint at −1 supplies V(s_0) itself
    expectClose(spoChainAdvantages({ length: 3, cutpoints: [-1, 1], values: [0.2, 0.6], v0: null, reward: 1 }), [0.4, 0.4, 0.4], 1e-12);
  });
  const lpOldS = p.map(Math.log);
  const lpNewS = lpOldS.map((v, i) => v + [0, 0.1, 0, -0.05, 0, 0.3, 0.02, 0][i]);
  const segAdv = [0.1, 0.25, 0.25, 0.25, 0.25, -0.75, -0.75, -0.75];
  const spoBatch = (): PolicyLossInputs => ({ logp: t2([lpNewS]), oldLogp: t2([lpOldS]), advantages: t2([segAdv]), mask: t2([Array(8).fill(1)]) });
  const spoParams: PolicyLossParams = { clipLow: 0.2, clipHigh: 0.2, klCoef: 0, aggregation: 'token-mean', spoWhiten: false };
  it('loss over the probability-masked tokens, no whitening = 0.315861', () => {
    const r = run(spoPpo, spoParams, spoBatch);
    expect(r.loss).toBeCloseTo(0.315861, 5);
    expect(r.validTokens).toBe(4);
  });
  it('whitening standardises the advantages over the kept tokens', () => {
    const kept = [0.25, 0.25, -0.75, -0.75];
    const mean = kept.reduce((a, b) => a + b) / 4;
    const sd = Math.sqrt(kept.reduce((a, b) => a + (b - mean) ** 2, 0) / 3);
    const white = segAdv.map((a) => (a - mean) / Math.sqrt(sd * sd + 1e-8));
    const ratios = lpNewS.map((v, i) => Math.exp(v - lpOldS[i]));
    let s = 0;
    for (const t of [1, 3, 5, 6]) s += -Math.min(ratios[t] * white[t], Math.min(Math.max(ratios[t], 0.8), 1.2) * white[t]);
    expect(run(spoPpo, { ...spoParams, spoWhiten: true }, spoBatch).loss).toBeCloseTo(s / 4, 5);
  });
  it('one segment spanning the response is outcome-level PPO', () => {
    const a = spoChainAdvantages({ length: 8, cutpoints: [], values: [], v0: 0.4, reward: 1 });
    expect(a).toEqual(Array(8).fill(0.6));
    const mk = (): PolicyLossInputs => ({ ...spoBatch(), advantages: t2([a]) });
    const spo = run(spoPpo, { ...spoParams, spoProbThreshold: Number.POSITIVE_INFINITY }, mk);
    const ppo = run(ppoClip, spoParams, mk);
    expect(spo.loss).toBeCloseTo(ppo.loss, 6);
  });
  it('clamps the log-ratio at ±10 like the official trainer; ppo-clip keeps verl\'s ±20', () => {
    // One risky token (p_old = 0.5), log-ratio +15, A = −1: the unclipped branch wins, loss = ratio.
    const mk = (): PolicyLossInputs => ({ logp: t2([[Math.log(0.5) + 15]]), oldLogp: t2([[Math.log(0.5)]]), advantages: t2([[-1]]), mask: t2([[1]]) });
    expect(run(spoPpo, spoParams, mk).loss / Math.exp(10)).toBeCloseTo(1, 5);
    expect(run(ppoClip, spoParams, mk).loss / Math.exp(15)).toBeCloseTo(1, 5);
  });
});

describe('SPO tree (§5.2)', () => {
  const tree = { children: [{ children: [{ reward: 1 }, { reward: 0 }] }, { children: [{ reward: 1 }, { reward: 1 }] }] };
  it('values are means of children; A = V(child) − V(parent); zero-advantage edges dropped', () => {
    const { rootValue, edges } = spoTreeAdvantages(tree, 'rloo');
    expect(rootValue).toBeCloseTo(0.75, 12);
    expect(edges.map((e) => [e.path.join('.'), e.advantage])).toEqual([
      ['0', -0.25],
      ['0.0', 0.5],
      ['0.1', -0.5],
      ['1', 0.25],
    ]);
    expect(spoTreeAdvantages(tree, 'rloo', { dropZero: false }).edges).toHaveLength(6);
  });
  it("'grpo' divides by the siblings' std (+1e-8); identical siblings give 0", () => {
    const { edges } = spoTreeAdvantages(tree, 'grpo');
    const byPath = Object.fromEntries(edges.map((e) => [e.path.join('.'), e.advantage]));
    expect(byPath['0']).toBeCloseTo(-0.25 / (0.25 + 1e-8), 9);
    expect(byPath['0.0']).toBeCloseTo(0.5 / (0.5 + 1e-8), 9);
    expect(byPath['1.0']).toBeUndefined();
    expect(() => spoTreeAdvantages({ children: [{}] })).toThrow(/reward/);
  });
});

describe('policy-loss gradients agree with central finite differences', () => {
  const r = rng(5);
  const B = 3, T = 5;
  const old = randMat(r, B, T, -3, -0.05);
  const x0 = old.map((row) => row.map((v) => v + (r() < 0.3 ? 1 : -1) * (r() < 0.5 ? 0.02 + 0.08 * r() : 0.4 + 0.2 * r())));
  const advs = randMat(r, B, T, -1, 1);
  const ent = randMat(r, B, T, 0, 2);
  const ref = randMat(r, B, T, -2, -0.1);
  const m = [[1, 1, 1, 1, 0], [1, 1, 0, 0, 0], [1, 1, 1, 1, 1]];
  const inputs = (x: tf.Tensor): PolicyLossInputs => ({ logp: x as tf.Tensor2D, oldLogp: t2(old), advantages: t2(advs), mask: t2(m), entropies: t2(ent), refLogp: t2(ref) });
  const params: PolicyLossParams = { clipLow: 0.2, clipHigh: 0.28, klCoef: 0.05, aggregation: 'token-mean', skipMetrics: true };
  for (const [name, fn, extra] of [
    ['forking tokens ρ = 0.4', forkingTokenPpo, { forkingRho: 0.4 }],
    ['spo (prob mask 0.5, whitening)', spoPpo, { spoProbThreshold: 0.5 }],
  ] as Array<[string, PolicyLossFn, Partial<PolicyLossParams>]>) {
    it(name, () => {
      const { analytic, numeric } = gradCheck((x) => fn(inputs(x), { ...params, ...extra }).loss, x0, 1e-3);
      expectClose(analytic, numeric, 2e-3, 2e-2);
      expect(analytic.some((g) => g !== 0)).toBe(true);
    });
  }
});
