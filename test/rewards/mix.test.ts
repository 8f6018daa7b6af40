/**
 * The reward mix of a config (rewards/mix.ts): every reward verified on its own and kept, combined
 * as sum, gate or min; a row's own verifier replaces the mix; per-reward metrics never hide an error.
 */
import { describe, expect, it } from 'vitest';
import { combineTerms, mixFromEntries, scoreCases, scoreInline, termsFor } from '../../rewards/mix.js';
import { rewardMetrics } from '../../rewards/reward-stats.js';
import { UnknownVerifierError } from '../../rewards/registry.js';

const mathAndInteger = (mode: 'sum' | 'gate' | 'min') => mixFromEntries(mode, [
  { verifier: 'format', pattern: 'integer', weight: 0.5, name: 'integer' },
  { verifier: 'math', weight: 2 },
]);

describe('reward mix', () => {
  it('sums weighted scores, gates on the first reward, or takes the smallest, keeping every reward\'s verdict', async () => {
    const cases = [{ completion: '12', answer: '12' }, { completion: '13', answer: '12' }, { completion: 'so #### 12', answer: '12' }];
    const sum = await scoreCases(mathAndInteger('sum'), cases);
    expect(sum.map((v) => v.score)).toEqual([2.5, 0.5, 2]);
    expect(sum[2].parts).toEqual([{ name: 'integer', status: 'incorrect', score: 0 }, { name: 'math', status: 'correct', score: 1 }]);
    const gate = await scoreCases(mathAndInteger('gate'), cases);
    expect(gate.map((v) => v.score)).toEqual([2, 0, 0]);
    // Behind a failed gate the other rewards are not run, nor counted.
    expect(gate[2].parts.map((p) => p.name)).toEqual(['integer']);
    const min = await scoreCases(mathAndInteger('min'), cases);
    expect(min.map((v) => v.score)).toEqual([1, 0, 0]);
    expect(min.map((v) => v.status)).toEqual(['correct', 'incorrect', 'incorrect']);
  });

  it('an errored or timed-out reward scores 0 and is flagged while the others count; a skipped one skips the row', () => {
    const terms = mixFromEntries('sum', [{ verifier: 'code', weight: 1 }, { verifier: 'length', maxChars: 10, weight: 0.5 }]).terms;
    const v = (status: 'correct' | 'incorrect' | 'error' | 'timeout' | 'skipped', score: number) => ({ status, score, reason: status, ms: 0 });
    expect(combineTerms('sum', terms, [v('error', 0), v('correct', 1)])).toMatchObject({ status: 'error', score: 0.5, reason: 'code: error' });
    expect(combineTerms('sum', terms, [v('timeout', 0), v('correct', 1)])).toMatchObject({ status: 'timeout', score: 0.5 });
    expect(combineTerms('min', terms, [v('correct', 1), v('error', 0)])).toMatchObject({ status: 'error', score: 0 });
    expect(combineTerms('gate', terms, [v('error', 0)])).toMatchObject({ status: 'error', score: 0 });
    expect(combineTerms('sum', terms, [v('skipped', 0), v('correct', 1)])).toMatchObject({ status: 'skipped', score: 0 });
  });

  it('a row\'s own verifier replaces the mix: a reward of the mix by its name, or a built-in', async () => {
    const mix = mathAndInteger('sum');
    expect(termsFor(mix, 'integer').map((t) => [t.name, t.weight])).toEqual([['integer', 1]]);
    expect(termsFor(mix, 'exact-integer').map((t) => t.name)).toEqual(['exact-integer']);
    expect(() => termsFor(mix, 'nope')).toThrow(UnknownVerifierError);
    const [own, unknown] = await scoreCases(mix, [{ completion: 'so #### 12', answer: '12', verifier: 'math' }, { completion: '12', answer: '12', verifier: 'nope' }]);
    expect(own).toMatchObject({ status: 'correct', score: 1, parts: [{ name: 'math', status: 'correct' }] });
    expect(unknown).toMatchObject({ status: 'error', score: 0 });
    expect(unknown.reason).toMatch(/unknown verifier "nope"/);
  });

  it('scores on the calling thread exactly what the pool path scores, and says when it cannot', async () => {
    const mix = mathAndInteger('sum');
    const cases = [{ completion: '12', answer: '12' }, { completion: ' 13', answer: '12' }];
    const pooled = await scoreCases(mix, cases);
    expect(cases.map((c) => scoreInline(mix, c))).toEqual(pooled.map((v) => ({ ...v })));
    expect(scoreInline(mix, { completion: 'x = 3/4', answer: '3/4' })).toBeNull();
  });

  it('runs code rows\' tests, each distinct case once', async () => {
    const mix = mixFromEntries('sum', [{ verifier: 'code', weight: 1 }]);
    const tests = [{ assert: 'assert f(1) == 2' }, { assert: 'assert f(3) == 4' }];
    const right = { completion: 'def f(x):\n    return x + 1', answer: '', tests, language: 'python' as const };
    const wrong = { ...right, completion: 'def f(x):\n    return x' };
    const verdicts = await scoreCases(mix, [right, wrong, right]);
    expect(verdicts.map((v) => [v.status, v.score])).toEqual([['correct', 1], ['incorrect', 0], ['correct', 1]]);
  }, 60_000);

  it('reports each reward\'s mean and rates, and errors and timeouts as such', () => {
    const metrics = rewardMetrics([
      { status: 'correct', score: 2.5, parts: [{ name: 'integer', status: 'correct', score: 1 }, { name: 'math', status: 'correct', score: 1 }] },
      { status: 'error', score: 0, parts: [{ name: 'integer', status: 'correct', score: 1 }, { name: 'math', status: 'error', score: 0 }] },
      { status: 'timeout', score: 0, parts: [{ name: 'integer', status: 'incorrect', score: 0 }, { name: 'math', status: 'timeout', score: 0 }] },
      { status: 'skipped', score: 0, parts: [{ name: 'math', status: 'skipped', score: 0 }] },
    ]);
    expect(metrics).toMatchObject({
      'reward/mean': 2.5 / 3, 'reward/correct': 0.25, 'reward/error': 0.25, 'reward/timeout': 0.25, 'reward/skipped': 0.25,
      'reward/integer/mean': 2 / 3, 'reward/integer/correct': 2 / 3, 'reward/integer/error': 0,
      'reward/math/mean': 1 / 3, 'reward/math/correct': 0.25, 'reward/math/error': 0.25, 'reward/math/timeout': 0.25,
    });
  });
});
