/** Top-k, top-p and stop strings in `generate`. */
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveRng } from '../../common/rng.js';
import { allowedTokens, generate, sampleRow } from '../../models/generate.js';
import { tinyModel, tok, useWasm } from './helpers.js';

const probs = (...p: number[]) => Float64Array.from(p);

describe('allowedTokens', () => {
  it('keeps the k most likely tokens', () => {
    expect(Array.from(allowedTokens(probs(0.1, 0.5, 0.15, 0.25), { topK: 2 })!)).toEqual([0, 1, 0, 1]);
  });

  it('keeps the smallest set whose mass reaches p', () => {
    expect(Array.from(allowedTokens(probs(0.5, 0.3, 0.2), { topP: 0.5 })!)).toEqual([1, 0, 0]);
    expect(Array.from(allowedTokens(probs(0.5, 0.3, 0.2), { topP: 0.6 })!)).toEqual([1, 1, 0]);
    expect(Array.from(allowedTokens(probs(0.5, 0.3, 0.2), { topK: 3, topP: 0.79 })!)).toEqual([1, 1, 0]);
  });

  it('keeps tied tokens together and means no filter when nothing is cut', () => {
    expect(Array.from(allowedTokens(probs(0.4, 0.2, 0.2, 0.2), { topK: 2 })!)).toEqual([1, 1, 1, 1]);
    expect(allowedTokens(probs(0.5, 0.5), { topK: 0, topP: 1 })).toBeNull();
    expect(() => allowedTokens(probs(1), { topP: 0 })).toThrow(/topP/);
  });
});

describe('sampleRow with filters', () => {
  it('never draws a filtered token, and reports the full distribution\'s log-prob', () => {
    const logits = [2, 1, 0, -1];
    const rng = deriveRng(3, 'filters');
    const full = logits.map((x) => Math.exp(x)).reduce((a, b) => a + b, 0);
    for (let i = 0; i < 200; i++) {
      const [token, logprob] = sampleRow(logits, 1, rng, { topK: 2 });
      expect(token).toBeLessThan(2);
      expect(logprob).toBeCloseTo(logits[token] - Math.log(full), 6);
    }
  });
});

describe('generate with top-k and stop strings', () => {
  beforeAll(useWasm);

  it('top-k = 1 samples the greedy tokens', () => {
    const model = tinyModel(5);
    const prompts = ['1+2=', '34-5='].map((p) => tok.encode(p));
    const greedy = generate(model, prompts, { maxNewTokens: 6, temperature: 0 });
    const top1 = generate(model, prompts, { maxNewTokens: 6, temperature: 1.3, topK: 1, rng: deriveRng(1, 'x') });
    expect(top1.map((g) => g.tokens)).toEqual(greedy.map((g) => g.tokens));
    model.dispose();
  });

  it('ends a row at its own stop strings only', () => {
    const model = tinyModel(6);
    const prompts = ['1+2=', '1+2='].map((p) => tok.encode(p));
    const everyChar = [...'0123456789+-=,;: '];
    const out = generate(model, prompts, {
      maxNewTokens: 6, temperature: 1, rng: [deriveRng(1, 'a'), deriveRng(1, 'a')],
      stop: [everyChar, []], decode: (ids) => tok.decode(ids),
    });
    expect(out[0].tokens[0], 'premise: this seed does not start with EOS').not.toBe(tok.eos);
    expect(out[0].tokens).toHaveLength(1);
    expect(out[0].finished).toBe(true);
    expect(out[0].stoppedBy).toBe(tok.decode(out[0].tokens));
    // Same stream, no stop list: row 1 draws the same first token and goes on.
    expect(out[1].stoppedBy).toBeUndefined();
    expect(out[1].tokens[0]).toBe(out[0].tokens[0]);
    expect(out[1].tokens.length).toBeGreaterThan(1);
    expect(() => generate(model, prompts, { maxNewTokens: 2, temperature: 0, stop: ['x'] })).toThrow(/decode/);
    model.dispose();
  });
});
