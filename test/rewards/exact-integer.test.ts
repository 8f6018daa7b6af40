/** The built-in arithmetic task's verifier: the completion must be exactly the gold integer. */
import { afterAll, describe, expect, it } from 'vitest';
import { shutdownVerifiers, verifyBatch } from '../../rewards/index.js';
import { ARITHMETIC_REWARD, sampleArithmetic } from '../../tasks/arithmetic.js';

describe('exact-integer verifier', () => {
  afterAll(() => shutdownVerifiers());

  it.each([
    ['12', '12', 'correct'],
    ['-5', '-5', 'correct'],
    ['13', '12', 'incorrect'],
    ['12+', '12', 'incorrect'], // `math` alone would take the last number and say correct
    ['1 2', '12', 'incorrect'],
    ['', '12', 'incorrect'],
  ])('%j against gold %j is %s', async (completion, gold, status) => {
    const [verdict] = await verifyBatch([{ id: 'x', verifier: 'exact-integer', completion, gold }]);
    expect(verdict.status).toBe(status);
    expect(verdict.score).toBe(status === 'correct' ? 1 : 0);
  });

  it('is the arithmetic generator\'s default reward, and its demonstrations pass it', async () => {
    const examples = sampleArithmetic('train', 20, { splitSeed: 0, sampleSeed: 1 });
    expect(ARITHMETIC_REWARD).toBe('exact-integer');
    const verdicts = await verifyBatch(examples.map((e) => ({ id: e.id, verifier: ARITHMETIC_REWARD, completion: e.completion, gold: e.answer })));
    expect(verdicts.every((v) => v.status === 'correct')).toBe(true);
  });
});
