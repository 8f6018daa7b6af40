/**
 * The update trains on the objective it is given: forking tokens at ρ = 1 is the ppo-clip step,
 * at ρ = 0.2 another one; SPO with one segment is outcome-level PPO with a value baseline
 * (objectives.md §5.1 / losses/policy/spo.ts); batch-wide quantities (the forking threshold, SPO
 * whitening) do not change with micro-batching; a KL term needs and uses the reference.
 * npx vitest run test/tasks/policy-update.test.ts
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveRng } from '../../common/rng.js';
import { outcomeAdvantages, policyUpdate, rollout, type PolicyUpdateParams, type RolloutBatch, type TokenAdvantages } from '../../tasks/recipe.js';
import { spoTokenAdvantages } from '../../tasks/spo.js';
import { spoPpo } from '../../losses/index.js';
import { sequenceLogProbs } from '../../models/logprobs.js';
import type { Transformer } from '../../models/transformer.js';
import { maxAbsDiff, spyOptimizer, tinyModel, tok, useWasm } from '../models/helpers.js';

beforeAll(useWasm);

const maxAbs = (a: Record<string, Float32Array>) => Math.max(...Object.values(a).map((g) => Math.max(...g.map(Math.abs))));

let model: Transformer;
let batch: RolloutBatch;
let rewards: number[];
/** The untrained model is unsure of every token; its median token probability splits them in two. */
let medianProb: number;
const base: Omit<PolicyUpdateParams, 'loss'> = { epochs: 1, lr: 1e-3, maxGradNorm: 0, clipLow: 0.2, clipHigh: 0.28, aggregation: 'token-mean', maxCompletionLength: 6, rng: deriveRng(1, 'u') };

/** One step's gradients and metrics. */
function step(advantages: TokenAdvantages, p: Partial<PolicyUpdateParams> & Pick<PolicyUpdateParams, 'loss'>) {
  const spy = spyOptimizer();
  const r = policyUpdate(model, spy.opt, batch, advantages, { ...base, rng: deriveRng(1, 'u'), ...p });
  expect(spy.steps).toHaveLength(1);
  return { grads: spy.steps[0], metrics: r.metrics };
}

describe('policyUpdate uses the objective it names', () => {
  beforeAll(() => {
    model = tinyModel(3);
    batch = rollout(model, ['1+2=', '13+4=', '9-7=', '5+5='], { groupSize: 4, temperature: 1, maxNewTokens: 6, tokenizer: tok, rng: deriveRng(4, 'r') });
    rewards = batch.items.map((it, i) => ((it.tokens.length + i) % 3 === 0 ? 1 : 0));
    const probs = batch.items.flatMap((it) => it.logprobs.map(Math.exp)).sort((a, b) => a - b);
    medianProb = probs[Math.floor(probs.length / 2)];
  });

  it('forking tokens: ρ = 1 is the ppo-clip (token-mean) step; ρ = 0.2 is a different one', () => {
    const adv = outcomeAdvantages(batch, rewards);
    const ppo = step(adv, { loss: 'ppo-clip' });
    const all = step(adv, { loss: 'forking-tokens', forking: { rho: 1, side: 'top' } });
    expect(maxAbsDiff(all.grads, ppo.grads)).toBeLessThan(1e-6);
    expect(all.metrics.keptFraction).toBe(1);

    const fork = step(adv, { loss: 'forking-tokens', forking: { rho: 0.2, side: 'top' } });
    expect(maxAbsDiff(fork.grads, ppo.grads)).toBeGreaterThan(0.05 * maxAbs(ppo.grads));
    expect(fork.metrics.keptFraction).toBeGreaterThan(0.1);
    expect(fork.metrics.keptFraction).toBeLessThan(0.35);
    // The threshold is pooled over the whole batch: micro-batches see the same τ and give the same step.
    const micro = step(adv, { loss: 'forking-tokens', forking: { rho: 0.2, side: 'top' }, microBatchSize: 3 });
    expect(micro.metrics.entropyThreshold).toBeCloseTo(fork.metrics.entropyThreshold, 6);
    expect(maxAbsDiff(micro.grads, fork.grads)).toBeLessThan(1e-5);
    // The bottom side trains on other tokens.
    const bottom = step(adv, { loss: 'forking-tokens', forking: { rho: 0.2, side: 'bottom' } });
    expect(maxAbsDiff(bottom.grads, fork.grads)).toBeGreaterThan(0.05 * maxAbs(fork.grads));
  });

  it('spo with one segment is outcome-level PPO with the group-mean baseline (Dr.GRPO advantages)', () => {
    // No kept cutpoint but the prompt state: every token gets A = R − V(s_0), V(s_0) = group mean.
    const G = batch.groupSize;
    const groupMean = (i: number) => rewards.slice(Math.floor(i / G) * G, Math.floor(i / G) * G + G).reduce((a, b) => a + b, 0) / G;
    const ids = batch.items.map((_, i) => `c${i}`);
    const values = new Map(ids.map((id, i) => [id, { id, cutpoints: [-1], values: [groupMean(i)], v0: groupMean(i) }]));
    const spoAdv = spoTokenAdvantages(batch.items.map((it, i) => ({ id: ids[i], tokens: it.tokens })), rewards, values);
    const drGrpo = outcomeAdvantages(batch, rewards, 'dr-grpo');
    spoAdv.forEach((row, i) => row.forEach((a, t) => expect(a).toBeCloseTo(drGrpo[i][t], 12)));
    // Probability threshold 1: every token is "risky", so the mask keeps all of them.
    const spo = step(spoAdv, { loss: 'spo', spo: { probThreshold: 1, whiten: false } });
    const ppo = step(drGrpo, { loss: 'ppo-clip' });
    expect(spo.metrics.probMaskFraction).toBe(1);
    expect(Math.abs(spo.metrics.loss - ppo.metrics.loss)).toBeLessThan(1e-6);
    expect(maxAbsDiff(spo.grads, ppo.grads)).toBeLessThan(1e-6);
    // A lower threshold drops the more confident tokens: a different step.
    const masked = step(spoAdv, { loss: 'spo', spo: { probThreshold: medianProb, whiten: false } });
    expect(masked.metrics.probMaskFraction).toBeGreaterThan(0);
    expect(masked.metrics.probMaskFraction).toBeLessThan(1);
    expect(maxAbsDiff(masked.grads, ppo.grads)).toBeGreaterThan(1e-4);
  });

  it('spo: whitening is over the whole batch, so micro-batches give the same step, in every aggregation mode', () => {
    // Segment advantages that differ along each completion.
    const adv = batch.items.map((it, i) => it.tokens.map((_, t) => (rewards[i] - 0.4) * (t % 2 === 0 ? 1 : 0.5)));
    for (const aggregation of ['token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum-norm'] as const) {
      const whole = step(adv, { loss: 'spo', aggregation, spo: { probThreshold: medianProb, whiten: true } });
      const micro = step(adv, { loss: 'spo', aggregation, spo: { probThreshold: medianProb, whiten: true }, microBatchSize: 3 });
      expect(Math.abs(micro.metrics.loss - whole.metrics.loss), aggregation).toBeLessThan(1e-5);
      expect(maxAbsDiff(micro.grads, whole.grads), aggregation).toBeLessThan(1e-5);
    }
    // The batch-wide whitening is the loss's own (spoPpo with spoWhiten on the whole batch at once).
    const whole = step(adv, { loss: 'spo', spo: { probThreshold: medianProb, whiten: true }, packed: false });
    const rows = batch.items.map((it, i) => i).filter((i) => batch.items[i].tokens.length > 0);
    const names = [...model.params.keys()];
    const { grads } = tf.variableGrads(() => {
      const lp = sequenceLogProbs(model, rows.map((i) => [...batch.items[i].promptTokens, ...batch.items[i].tokens]), rows.map((i) => batch.items[i].promptTokens.length), { temperature: 1 });
      const T = lp.logp.shape[1];
      const pad = (xs: number[]) => [...xs, ...Array(T - xs.length).fill(0)];
      return spoPpo(
        { logp: lp.logp, oldLogp: tf.tensor2d(rows.map((i) => pad(batch.items[i].logprobs))), advantages: tf.tensor2d(rows.map((i) => pad(adv[i]))), mask: lp.mask },
        { clipLow: 0.2, clipHigh: 0.28, klCoef: 0, aggregation: 'token-mean', spoProbThreshold: medianProb, spoWhiten: true },
      ).loss;
    }, model.variables());
    const direct = Object.fromEntries(model.variables().map((v, k) => [names[k], Float32Array.from(grads[v.name].dataSync())]));
    tf.dispose(Object.values(grads));
    expect(maxAbsDiff(whole.grads, direct)).toBeLessThan(1e-5);
  });

  it('a KL term needs the reference model and changes the step', () => {
    const adv = outcomeAdvantages(batch, rewards);
    expect(() => step(adv, { loss: 'ppo-clip', klCoef: 0.1 })).toThrow(/reference/);
    const plain = step(adv, { loss: 'ppo-clip' });
    // Against itself the k3 term is 0 with zero gradient.
    const self = step(adv, { loss: 'ppo-clip', klCoef: 0.1, reference: model });
    expect(self.metrics.kl).toBeCloseTo(0, 6);
    const reference = tinyModel(9);
    const kl = step(adv, { loss: 'ppo-clip', klCoef: 0.1, reference });
    expect(kl.metrics.kl).toBeGreaterThan(0);
    expect(maxAbsDiff(kl.grads, plain.grads)).toBeGreaterThan(1e-4);
    // Micro-batched: the reference log-probs are computed once for the batch; same step.
    const micro = step(adv, { loss: 'ppo-clip', klCoef: 0.1, reference, microBatchSize: 5 });
    expect(maxAbsDiff(micro.grads, kl.grads)).toBeLessThan(1e-5);
    reference.dispose();
  });

  it('Dr.GRPO divides by B · maxCompletionLength, a constant, not by the step\'s longest completion', () => {
    const adv = outcomeAdvantages(batch, rewards);
    const tokenMean = step(adv, { loss: 'ppo-clip', skipZeroAdvantage: false });
    const tokens = batch.items.reduce((a, it) => a + it.tokens.length, 0);
    const kept = batch.items.filter((it) => it.tokens.length > 0).length;
    const longest = Math.max(...batch.items.map((it) => it.tokens.length));
    // Same surrogate sum, other normaliser: gradients scale by tokens / (B · L_max) exactly.
    for (const maxCompletionLength of [longest, 3 * longest]) {
      const dr = step(adv, { loss: 'ppo-clip', skipZeroAdvantage: false, aggregation: 'seq-mean-token-sum-norm', maxCompletionLength });
      const scale = tokens / (kept * maxCompletionLength);
      const g = Object.fromEntries(Object.entries(dr.grads).map(([k, v]) => [k, v.map((x) => x / scale)]));
      expect(maxAbsDiff(g, tokenMean.grads)).toBeLessThan(1e-5 * Math.max(1, maxAbs(tokenMean.grads)));
    }
    expect(() => step(adv, { loss: 'ppo-clip', maxCompletionLength: longest - 1 })).toThrow(/more than maxCompletionLength/);
  });

  it('groups with all-zero advantages are dropped only without a KL term', () => {
    const flat = outcomeAdvantages(batch, rewards.map(() => 1));
    expect(policyUpdate(model, spyOptimizer().opt, batch, flat, { ...base, loss: 'ppo-clip' }).metrics.steps).toBe(0);
    const withKl = policyUpdate(model, spyOptimizer().opt, batch, flat, { ...base, loss: 'ppo-clip', klCoef: 0.1, reference: model });
    expect(withKl.metrics.steps).toBe(1);
    expect(withKl.metrics.keptSequences).toBe(batch.items.filter((it) => it.tokens.length > 0).length);
  });

  it('masked completions (mask_truncated_completions) leave the loss; the rest train as without them', () => {
    const adv = outcomeAdvantages(batch, rewards);
    const masked = batch.items.map((_, i) => i % 2 === 1);
    const full = step(adv, { loss: 'ppo-clip', skipZeroAdvantage: false });
    const some = step(adv, { loss: 'ppo-clip', skipZeroAdvantage: false, masked });
    expect(some.metrics.keptSequences).toBe(full.metrics.keptSequences - masked.filter(Boolean).length);
    // The same step as on a batch without them, their advantages computed on the whole groups.
    const kept = batch.items.map((_, i) => i).filter((i) => !masked[i]);
    const spy = spyOptimizer();
    policyUpdate(model, spy.opt, { ...batch, groupSize: batch.groupSize / 2, items: kept.map((i) => batch.items[i]) }, kept.map((i) => adv[i]), {
      ...base, loss: 'ppo-clip', skipZeroAdvantage: false, rng: deriveRng(1, 'u'),
    });
    expect(maxAbsDiff(spy.steps[0], some.grads)).toBeLessThan(1e-6);
    expect(maxAbsDiff(full.grads, some.grads)).toBeGreaterThan(1e-4);
    const none = policyUpdate(model, spyOptimizer().opt, batch, adv, { ...base, loss: 'ppo-clip', skipZeroAdvantage: false, masked: batch.items.map(() => true) });
    expect(none.metrics.steps).toBe(0);
  });
});
