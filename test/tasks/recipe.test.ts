import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveRng } from '../../common/rng.js';
import { AdamW } from '../../models/optimizer.js';
import { sequenceLogProbs } from '../../models/logprobs.js';
import { sampleArithmetic } from '../../tasks/arithmetic.js';
import { outcomeAdvantages, policyUpdate, rollout, sftLoss, sftSteps } from '../../tasks/recipe.js';
import { tinyModel, tok, useWasm } from '../models/helpers.js';

beforeAll(useWasm);

const train = sampleArithmetic('train', 64, { splitSeed: 0, sampleSeed: 1 });

describe('demo recipe functions', () => {
  it('SFT on a tiny budget lowers the demonstration loss', () => {
    const m = tinyModel(1);
    const opt = new AdamW(m.params);
    const before = sftLoss(m, tok, train.slice(0, 32));
    const r = sftSteps(m, opt, train, { steps: 30, batchSize: 16, lr: 1e-2, rng: deriveRng(1, 'sft'), tokenizer: tok });
    const after = sftLoss(m, tok, train.slice(0, 32));
    expect(r.losses.length).toBe(30);
    expect(after.dataSync()[0]).toBeLessThan(before.dataSync()[0] * 0.75);
    [before, after].forEach((t) => t.dispose());
    m.dispose();
    opt.dispose();
  });

  it('rolls out consecutive groups, reproducibly', () => {
    const m = tinyModel(1);
    const o = { groupSize: 3, temperature: 1, maxNewTokens: 4, tokenizer: tok };
    const a = rollout(m, ['1+2=', '30-4='], { ...o, rng: deriveRng(1, 'r') });
    expect(a.items.map((x) => x.promptIndex)).toEqual([0, 0, 0, 1, 1, 1]);
    const b = rollout(m, ['1+2=', '30-4='], { ...o, rng: deriveRng(1, 'r'), batchSize: 4 });
    if (tf.getBackend() === 'wasm') expect(b.items).toEqual(a.items);
    else {
      // libtensorflow's matmul blocks by the batch's shape, so a batch of 4 rounds float32 sums
      // differently from a batch of 6 (~1e-9 here): the same tokens, log-probs equal to 1e-6.
      const strip = (x: (typeof a.items)[number]) => ({ ...x, logprobs: [], entropies: [] });
      expect(b.items.map(strip)).toEqual(a.items.map(strip));
      b.items.forEach((x, i) => x.logprobs.forEach((l, j) => expect(l).toBeCloseTo(a.items[i].logprobs[j], 6)));
    }
    for (const x of a.items) expect(x.completion).toBe(tok.decode(x.tokens));
    m.dispose();
  });

  it('GRPO raises the probability of the rewarded completions', () => {
    const m = tinyModel(1);
    const opt = new AdamW(m.params);
    const batch = rollout(m, ['1+2=', '3+4='], { groupSize: 4, temperature: 1, maxNewTokens: 3, tokenizer: tok, rng: deriveRng(2, 'r') });
    // Reward completions that start with the token of the first item's first token.
    const target = batch.items[0].tokens[0];
    const rewards = batch.items.map((x) => (x.tokens[0] === target ? 1 : 0));
    const params = { loss: 'ppo-clip' as const, epochs: 4, lr: 1e-2, maxGradNorm: 1, clipLow: 0.2, clipHigh: 0.2, aggregation: 'token-mean' as const, maxCompletionLength: 3, rng: deriveRng(1, 'u') };
    const rewarded = batch.items.filter((_, i) => rewards[i] === 1);
    const meanLogp = () => {
      const o = sequenceLogProbs(m, rewarded.map((x) => [...x.promptTokens, ...x.tokens]), rewarded.map((x) => x.promptTokens.length));
      const v = tf.sum(tf.mul(o.logp, o.mask)).dataSync()[0] / rewarded.length;
      tf.dispose([o.logp, o.mask, o.entropies]);
      return v;
    };
    const before = meanLogp();
    const r = policyUpdate(m, opt, batch, outcomeAdvantages(batch, rewards), params);
    expect(r.metrics.steps).toBe(4);
    expect(Number.isFinite(r.metrics.loss)).toBe(true);
    expect(meanLogp()).toBeGreaterThan(before + 0.1);
    // All-equal rewards: nothing to learn, no step taken.
    expect(policyUpdate(m, opt, batch, outcomeAdvantages(batch, rewards.map(() => 1)), params).metrics.steps).toBe(0);
    m.dispose();
    opt.dispose();
  });
});
