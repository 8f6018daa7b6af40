/**
 * SPO's Monte Carlo values on the built-in policy: cutpoints from the old log-probs, N continuations
 * per kept cutpoint from the prefix, V(s_0) = the group's mean reward; deterministic for a seeded
 * stream and independent of how the continuations are batched.
 * npx vitest run test/tasks/spo.test.ts
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveRng } from '../../common/rng.js';
import { spoCutpoints } from '../../losses/index.js';
import { rollout } from '../../tasks/recipe.js';
import { spoMonteCarloValues, spoTokenAdvantages, type SpoInput, type SpoValueOptions } from '../../tasks/spo.js';
import type { Transformer } from '../../models/transformer.js';
import { tinyModel, tok, useWasm } from '../models/helpers.js';

beforeAll(useWasm);

describe('spoMonteCarloValues', () => {
  let model: Transformer;
  let inputs: SpoInput[];
  beforeAll(() => {
    model = tinyModel(5);
    const batch = rollout(model, ['1+2=', '13+4=', '9-7='], { groupSize: 3, temperature: 1, maxNewTokens: 5, tokenizer: tok, rng: deriveRng(2, 'r') });
    inputs = batch.items.map((it, i) => ({
      id: `c${i}`, group: it.promptIndex, promptTokens: it.promptTokens, tokens: it.tokens, logprobs: it.logprobs, reward: i % 2,
    }));
  });
  const opts = (seed: number, extra: Partial<SpoValueOptions> = {}): SpoValueOptions => ({
    probThreshold: 0.9, cutpointInterval: 2, samples: 3, temperature: 1, maxNewTokens: 5, rng: deriveRng(seed, 'spo', 1), tokenizer: tok, ...extra,
  });
  // A reward that depends on the sampled text, so different continuations get different values.
  const seen: { index: number; completion: string }[] = [];
  const score = (cases: { index: number; completion: string }[]) => {
    seen.push(...cases);
    return cases.map((c) => (c.completion.length % 2 === 0 ? 1 : 0));
  };

  it('values every kept cutpoint from N continuations of its prefix, and the prompt state by the group mean', async () => {
    const out = await spoMonteCarloValues(model, inputs, score, opts(1));
    let expectedRows = 0;
    out.records.forEach((r, i) => {
      const cuts = spoCutpoints(inputs[i].logprobs.map(Math.exp), { threshold: 0.9, interval: 2 });
      expect(r.cutpoints).toEqual(cuts);
      const groupMean = inputs.filter((x) => x.group === inputs[i].group).reduce((a, x) => a + x.reward, 0) / 3;
      expect(r.v0).toBeCloseTo(groupMean, 12);
      r.cutpoints.forEach((c, k) => {
        if (c < 0) expect(r.values[k]).toBe(r.v0);
        else {
          expectedRows += 3;
          expect(r.values[k] * 3).toBeCloseTo(Math.round(r.values[k] * 3), 9); // a mean of 3 rewards in {0, 1}
        }
      });
    });
    expect(expectedRows).toBeGreaterThan(0);
    expect(out.continuations).toBe(expectedRows);
    // Every continuation of input i starts with (at least) its first sampled token.
    for (const c of seen) expect(c.completion.startsWith(tok.decode(inputs[c.index].tokens.slice(0, 1)))).toBe(true);
  });

  it('is deterministic for a seed and independent of batching; another seed samples other continuations', async () => {
    const a = await spoMonteCarloValues(model, inputs, score, opts(1));
    expect(await spoMonteCarloValues(model, inputs, score, opts(1))).toEqual(a);
    expect(await spoMonteCarloValues(model, inputs, score, opts(1, { batchSize: 4 }))).toEqual(a);
    seen.length = 0;
    await spoMonteCarloValues(model, inputs, score, opts(1));
    const textsA = seen.map((c) => c.completion);
    seen.length = 0;
    await spoMonteCarloValues(model, inputs, score, opts(2));
    expect(seen.map((c) => c.completion)).not.toEqual(textsA);
  });

  it('turns values into per-token chain advantages', async () => {
    const out = await spoMonteCarloValues(model, inputs, score, opts(1));
    const adv = spoTokenAdvantages(inputs.map((x) => ({ id: x.id, tokens: x.tokens })), inputs.map((x) => x.reward), new Map(out.records.map((r) => [r.id, r])));
    adv.forEach((row, i) => {
      expect(row).toHaveLength(inputs[i].tokens.length);
      // The segments telescope: their advantages sum, one per segment, to R − V(s_0).
      const r = out.records[i];
      const ends = [...r.cutpoints.filter((c) => c >= 0), inputs[i].tokens.length - 1];
      const total = ends.reduce((a, end) => a + row[end], 0);
      expect(total).toBeCloseTo(inputs[i].reward - r.v0, 9);
    });
    expect(() => spoTokenAdvantages([{ id: 'missing', tokens: [5] }], [1], new Map())).toThrow(/no SPO values/);
  });
});
