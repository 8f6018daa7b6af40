import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveRng } from '../../common/rng.js';
import { generate, sampleRow } from '../../models/generate.js';
import { sequenceLogProbs } from '../../models/logprobs.js';
import { EOS } from '../../models/tokenizer.js';
import { tinyModel, tok, useWasm } from './helpers.js';

beforeAll(useWasm);

// Prompts of different lengths, so left padding and per-row positions are exercised.
const prompts = [tok.encode('7+8='), tok.encode('12+34='), tok.encode('5-3='), tok.encode('99-9=')];

function expectSame(a: ReturnType<typeof generate>, b: ReturnType<typeof generate>): void {
  expect(a.map((g) => g.tokens)).toEqual(b.map((g) => g.tokens));
  a.forEach((g, i) => {
    g.logprobs.forEach((lp, j) => expect(lp).toBeCloseTo(b[i].logprobs[j], 4));
    g.entropies.forEach((e, j) => expect(e).toBeCloseTo(b[i].entropies[j], 4));
  });
}

describe('generate', () => {
  const m = tinyModel(2);

  it('is reproducible under a seed and varies across seeds', () => {
    const run = (seed: number) => generate(m, prompts, { maxNewTokens: 6, temperature: 1, rng: deriveRng(seed, 'sample') });
    const a = run(1);
    expectSame(a, run(1));
    expect(a.map((g) => g.tokens)).not.toEqual(run(2).map((g) => g.tokens));
  });

  it('KV cache gives the same tokens and log-probs as full recomputation', () => {
    for (const temperature of [0, 1.3]) {
      const run = (useCache: boolean) => generate(m, prompts, { maxNewTokens: 8, temperature, rng: deriveRng(5, 'sample'), useCache });
      expectSame(run(true), run(false));
    }
  });

  it('decodes a prompt in a padded batch exactly as alone', () => {
    const batch = generate(m, prompts, { maxNewTokens: 6, temperature: 0 });
    prompts.forEach((p, i) => expectSame([batch[i]], generate(m, [p], { maxNewTokens: 6, temperature: 0 })));
  });

  it('reports the log-probs the training path computes (temperature-scaled)', () => {
    const temperature = 0.8;
    const gens = generate(m, prompts, { maxNewTokens: 6, temperature, rng: deriveRng(9, 's') });
    const out = sequenceLogProbs(
      m,
      gens.map((g, i) => [...prompts[i], ...g.tokens]),
      prompts.map((p) => p.length),
      { temperature },
    );
    const lp = out.logp.arraySync();
    gens.forEach((g, i) => g.logprobs.forEach((x, j) => expect(lp[i][j]).toBeCloseTo(x, 4)));
    tf.dispose([out.logp, out.mask, out.entropies]);
  });

  it('stops at EOS, cuts at maxNewTokens and frees its tensors', () => {
    const before = tf.memory().numTensors;
    const gens = generate(m, prompts, { maxNewTokens: 3, temperature: 1, rng: deriveRng(1, 'x') });
    for (const g of gens) {
      expect(g.tokens.length).toBeLessThanOrEqual(3);
      expect(g.finished).toBe(g.tokens.at(-1) === EOS);
      expect(g.logprobs.length).toBe(g.tokens.length);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('samples greedily at temperature 0 and reports the untempered log-prob', () => {
    const [t, lp, ent] = sampleRow([0, Math.log(3), 0], 0, undefined);
    expect(t).toBe(1);
    expect(lp).toBeCloseTo(Math.log(3 / 5), 6);
    expect(ent).toBeCloseTo(-(0.6 * Math.log(0.6) + 2 * 0.2 * Math.log(0.2)), 6);
    expect(() => sampleRow([0, 1], 1, undefined)).toThrow(/rng/);
  });
});
