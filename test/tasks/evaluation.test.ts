/**
 * Held-out evaluation (tasks/evaluation.ts): pass@k by the unbiased estimator, checked against its
 * definition (the chance that k of the n samples drawn without replacement hold a correct one), and
 * the metrics of a real model's greedy and sampled answers judged by a reward mix.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveRng } from '../../common/rng.js';
import { mixFromEntries, scoreCases } from '../../rewards/mix.js';
import { sampleArithmetic } from '../../tasks/arithmetic.js';
import { evaluateRows, passAtK, passKs } from '../../tasks/evaluation.js';
import { tinyModel, tok, useWasm } from '../models/helpers.js';

beforeAll(useWasm);

/** pass@k by its definition: 1 − (subsets of size k with no correct sample) / (all subsets of size k). */
function passAtKByCounting(n: number, c: number, k: number): number {
  const choose = (a: number, b: number): number => (b < 0 || b > a ? 0 : b === 0 ? 1 : (choose(a - 1, b - 1) * a) / b);
  return 1 - choose(n - c, k) / choose(n, k);
}

describe('evaluation', () => {
  it('pass@k is the unbiased estimator: 1 − C(n−c, k)/C(n, k)', () => {
    for (let n = 1; n <= 10; n++) {
      for (let c = 0; c <= n; c++) {
        for (let k = 1; k <= n; k++) expect(passAtK(n, c, k)).toBeCloseTo(passAtKByCounting(n, c, k), 12);
      }
    }
    expect(passAtK(8, 2, 1)).toBeCloseTo(0.25, 12); // pass@1 is the share of correct samples
    expect(passKs(8)).toEqual([1, 2, 4, 8]);
    expect(passKs(6)).toEqual([1, 2, 4, 6]);
    expect(() => passAtK(2, 1, 3)).toThrow();
  });

  it('judges greedy and sampled answers with the reward mix, overall and per reward', async () => {
    const model = tinyModel(3);
    const rows = sampleArithmetic('heldout', 12, { splitSeed: 0, sampleSeed: 1 });
    const mix = mixFromEntries('sum', [{ verifier: 'exact-integer', weight: 1 }, { verifier: 'length', maxChars: 2, weight: 0.1 }]);
    const o = { tokenizer: tok, mix, maxNewTokens: 4, samples: 4, sampling: { temperature: 1, rng: deriveRng(1, 'eval') } };
    const metrics = await evaluateRows(model, rows, o);
    expect(Object.keys(metrics).sort()).toEqual([
      'eval/accuracy', 'eval/correct', 'eval/error', 'eval/exact-integer/accuracy', 'eval/exact-integer/pass@1', 'eval/exact-integer/pass@2',
      'eval/exact-integer/pass@4', 'eval/length/accuracy', 'eval/length/pass@1', 'eval/length/pass@2', 'eval/length/pass@4',
      'eval/mean@4', 'eval/meanLength', 'eval/pass@1', 'eval/pass@2', 'eval/pass@4', 'eval/total', 'eval/truncated',
    ]);
    expect(metrics['eval/total']).toBe(12);
    expect(metrics['eval/pass@1']).toBeLessThanOrEqual(metrics['eval/pass@2']);
    expect(metrics['eval/pass@2']).toBeLessThanOrEqual(metrics['eval/pass@4']);
    // Seeded: the same numbers again.
    expect(await evaluateRows(model, rows, { ...o, sampling: { temperature: 1, rng: deriveRng(1, 'eval') } })).toEqual(metrics);

    // Greedy accuracy from the completions themselves, judged again by the mix.
    const greedy = await evaluateRows(model, rows, { tokenizer: tok, mix, maxNewTokens: 4 });
    expect(Object.keys(greedy).some((k) => k.includes('pass@'))).toBe(false);
    const { generate } = await import('../../models/generate.js');
    const gens = generate(model, rows.map((r) => tok.encodePrompt(r.prompt)), { maxNewTokens: 4, temperature: 0, eosId: tok.eos, padId: tok.pad });
    const verdicts = await scoreCases(mix, gens.map((g, k) => ({ completion: tok.decode(g.tokens), answer: rows[k].answer, truncated: !g.finished })));
    expect(greedy['eval/accuracy']).toBe(verdicts.filter((v) => v.status === 'correct').length / rows.length);
    expect(greedy['eval/truncated']).toBe(gens.filter((g) => !g.finished).length / rows.length);
    model.dispose();
  }, 120_000);
});
