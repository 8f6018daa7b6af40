import { describe, expect, it } from 'vitest';
import { DEFAULT_ARITHMETIC, isHeldOut, makeExample, sampleArithmetic } from '../../tasks/arithmetic.js';

describe('arithmetic generator', () => {
  const opts = { splitSeed: 0, sampleSeed: 1 };

  it('draws deterministic, distinct, disjoint train and held-out sets', () => {
    const train = sampleArithmetic('train', 2000, opts);
    const test = sampleArithmetic('heldout', 300, opts);
    expect(sampleArithmetic('train', 2000, opts)).toEqual(train);
    expect(new Set(train.map((e) => e.prompt)).size).toBe(2000);
    const trainSet = new Set(train.map((e) => e.prompt));
    expect(test.some((e) => trainSet.has(e.prompt))).toBe(false);
    // The split is a property of the problem: other sample seeds never cross it.
    const other = sampleArithmetic('heldout', 300, { splitSeed: 0, sampleSeed: 99 });
    expect(other.every((e) => isHeldOut(e.prompt, 0, DEFAULT_ARITHMETIC))).toBe(true);
    expect(train.every((e) => !isHeldOut(e.prompt, 0, DEFAULT_ARITHMETIC))).toBe(true);
    expect(sampleArithmetic('train', 50, { splitSeed: 0, sampleSeed: 2 })).not.toEqual(train.slice(0, 50));
  });

  it('writes correct, JSONL-able rows with non-negative answers', () => {
    for (const e of sampleArithmetic('train', 500, opts)) {
      const m = /^(\d+)([+-])(\d+)=$/.exec(e.prompt)!;
      expect(m).not.toBeNull();
      const [a, b] = [Number(m[1]), Number(m[3])];
      expect(Number(e.answer)).toBe(m[2] === '+' ? a + b : a - b);
      expect(Number(e.answer)).toBeGreaterThanOrEqual(0);
      expect(e.completion).toBe(e.answer);
      expect(e.verifier).toBeUndefined(); // scored by the run's rewards (default exact-integer)
      expect(JSON.parse(JSON.stringify(e))).toEqual(e);
    }
    expect(makeExample(57, '+', 68)).toMatchObject({ id: '57p68', prompt: '57+68=', answer: '125' });
  });

  it('validates its spec and refuses impossible requests', () => {
    expect(() => sampleArithmetic('train', 5, { ...opts, spec: { ...DEFAULT_ARITHMETIC, maxDigits: 0 } })).toThrow(/minDigits/);
    expect(() => sampleArithmetic('heldout', 100, { ...opts, spec: { minDigits: 1, maxDigits: 1, ops: ['+'], heldOutFraction: 0.2 } })).toThrow(/could not draw/);
  });
});
