import { describe, expect, it } from 'vitest';
import { DEFAULT_ARITHMETIC, isCorrect, isHeldOut, makeExample, sampleArithmetic } from '../../tasks/arithmetic.js';

describe('arithmetic task', () => {
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

  it('writes correct, JSONL-able examples with non-negative answers', () => {
    for (const e of sampleArithmetic('train', 500, opts)) {
      const m = /^(\d+)([+-])(\d+)=$/.exec(e.prompt)!;
      expect(m).not.toBeNull();
      const [a, b] = [Number(m[1]), Number(m[3])];
      expect(Number(e.answer)).toBe(m[2] === '+' ? a + b : a - b);
      expect(Number(e.answer)).toBeGreaterThanOrEqual(0);
      expect(e.completion).toBe(e.answer);
      expect(e.verifier).toBe('exact-integer');
      expect(JSON.parse(JSON.stringify(e))).toEqual(e);
    }
    expect(makeExample(57, '+', 68)).toMatchObject({ id: '57p68', prompt: '57+68=', answer: '125' });
  });

  it('checks exact answers', () => {
    expect(isCorrect('125', '125')).toBe(true);
    expect(isCorrect(' 125 ', '125')).toBe(true);
    expect(isCorrect('0125', '125')).toBe(false);
    expect(isCorrect('12', '125')).toBe(false);
    expect(isCorrect('', '0')).toBe(false);
  });

  it('validates its spec and refuses impossible requests', () => {
    expect(() => sampleArithmetic('train', 5, { ...opts, spec: { ...DEFAULT_ARITHMETIC, maxDigits: 0 } })).toThrow(/minDigits/);
    expect(() => sampleArithmetic('heldout', 100, { ...opts, spec: { minDigits: 1, maxDigits: 1, ops: ['+'], heldOutFraction: 0.2 } })).toThrow(/could not draw/);
  });
});
