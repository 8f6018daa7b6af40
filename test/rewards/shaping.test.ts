// Run: npx vitest run test/rewards/shaping.test.ts
import { describe, it, expect } from 'vitest';
import { verifyFormat, verifyLength, combine, type Verdict, type VerifierSpec } from '../../rewards/index.js';

const v = (status: Verdict['status'], score: number): Verdict => ({ status, score, reason: status, ms: 1 });

describe('format', () => {
  it('think-answer template', () => {
    expect(verifyFormat('<think>a</think> <answer>4</answer>', 'think-answer').status).toBe('correct');
    expect(verifyFormat('<think>a</think> 4', 'think-answer').status).toBe('incorrect');
  });
  it('custom regex with flags, and a bad pattern is an error with a reason', () => {
    expect(verifyFormat('ANSWER: 3', '^answer: \\d+$', 'i').status).toBe('correct');
    const bad = verifyFormat('x', '(');
    expect(bad.status).toBe('error');
    expect(bad.reason).toMatch(/bad format pattern/);
  });
});

describe('length', () => {
  it('hard and soft limits', () => {
    expect(verifyLength('abcd', { maxChars: 4 }).score).toBe(1);
    expect(verifyLength('abcdef', { maxChars: 4, softMargin: 4 }).score).toBeCloseTo(0.5);
    expect(verifyLength('abcdefgh', { maxChars: 4, softMargin: 4 }).score).toBe(0);
    expect(verifyLength('a b c', { maxWords: 2 }).status).toBe('incorrect');
    expect(verifyLength('a', { minChars: 2 }).status).toBe('incorrect');
  });
});

describe('combine', () => {
  const parts = (mode: 'sum' | 'min' | 'gate', weights: number[]): Extract<VerifierSpec, { kind: 'compose' }> => ({
    kind: 'compose', mode, parts: weights.map((weight) => ({ spec: { kind: 'math' }, weight })),
  });
  it('sum weights the scores', () => {
    const r = combine(parts('sum', [0.2, 0.8]), [v('correct', 1), v('incorrect', 0.5)]);
    expect(r.score).toBeCloseTo(0.6);
    expect(r.status).toBe('incorrect');
  });
  it('min takes the smallest', () => {
    expect(combine(parts('min', [1, 1]), [v('correct', 1), v('incorrect', 0.25)]).score).toBe(0.25);
  });
  it('gate zeroes the score when the gate fails, else scores the rest', () => {
    expect(combine(parts('gate', [1, 2]), [v('incorrect', 0), v('correct', 1)]).score).toBe(0);
    const ok = combine(parts('gate', [1, 2]), [v('correct', 1), v('correct', 1)]);
    expect(ok.score).toBe(2);
    expect(ok.status).toBe('correct');
    expect(ok.reason).toBe('gate(1:correct 2:correct)');
  });
  it('names every part in the reason and adds up their time', () => {
    const r = combine(parts('min', [1, 1, 1]), [{ ...v('correct', 1), ms: 1.5 }, { ...v('incorrect', 0.5), ms: 2 }, { ...v('correct', 0.75), ms: 0.25 }]);
    expect(r.reason).toBe('min(1:correct 2:incorrect 3:correct)');
    expect(r.ms).toBe(3.75);
    expect(r.score).toBe(0.5);
  });
  it('an error or timeout in a part is carried, never folded into a 0 silently', () => {
    const r = combine(parts('sum', [1, 1]), [v('correct', 1), v('timeout', 0)]);
    expect(r.status).toBe('timeout');
    expect(r.reason).toMatch(/part 2/);
  });
});
