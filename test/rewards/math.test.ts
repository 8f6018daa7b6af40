// Run: npx vitest run test/rewards/math.test.ts
import { describe, it, expect, beforeAll } from 'vitest';
import { verifyMath, extractAnswer, latexToMathjs } from '../../rewards/index.js';
import { MATH_TABLE } from './math-table.js';

// Load mathjs once so the per-row latency bound measures verification, not start-up.
beforeAll(() => { verifyMath('\\boxed{\\frac{1}{3!}}', '\\sin(x)'); });

describe('math equivalence table', () => {
  it('has at least 150 rows with both outcomes', () => {
    expect(MATH_TABLE.length).toBeGreaterThanOrEqual(150);
    expect(MATH_TABLE.filter((r) => r[2] === 'correct').length).toBeGreaterThan(50);
    expect(MATH_TABLE.filter((r) => r[2] === 'incorrect').length).toBeGreaterThan(40);
  });
  it.each(MATH_TABLE.map((r, k) => [k, ...r] as const))('#%i %s vs %s → %s', (_k, completion, gold, expected, _note, opts) => {
    const v = verifyMath(completion, gold, opts);
    expect(v.status, v.reason).toBe(expected);
    expect(v.score).toBe(expected === 'correct' ? 1 : 0);
    expect(v.reason.length).toBeGreaterThan(0);
    expect(v.ms).toBeLessThan(1000);
  });
});

describe('extraction', () => {
  it('matches nested braces in \\boxed', () => {
    expect(extractAnswer('so \\boxed{\\frac{a}{b^{2}}} done')).toMatchObject({ answer: '\\frac{a}{b^{2}}', rule: 'boxed', parts: 1 });
  });
  it('follows the configured priority', () => {
    const text = 'Answer: 3\n#### 4\nand 5';
    expect(extractAnswer(text)?.answer).toBe('4');
    expect(extractAnswer(text, ['answer', 'hash'])?.answer).toBe('3');
    expect(extractAnswer(text, ['last-number'])?.answer).toBe('5');
    // Inside one tier the match that starts last wins, whatever its rule.
    expect(extractAnswer('Answer: 3. Then \\boxed{4}. Finally, the answer is 5.')?.answer).toBe('5');
    expect(verifyMath(text, '3', { extract: ['answer'] }).status).toBe('correct');
    expect(verifyMath(text, '3').status).toBe('incorrect');
  });
  it.each([
    ['unclosed \\[', '\\['.repeat(50_000)], ['unclosed \\(', '\\('.repeat(50_000)], ['dollar signs', '$'.repeat(50_000)],
    ['answer markers', 'the answer is '.repeat(20_000)], ['a long last line', `x = ${' '.repeat(100_000)}a`],
  ])('stays linear on a flood of %s (a quadratic scan takes tens of seconds here)', (_name, flood) => {
    const t0 = performance.now();
    verifyMath(flood, '1', { lastNumber: true });
    expect(performance.now() - t0).toBeLessThan(5000);
  });
  it('stays linear on thousands of unbalanced boxes', () => {
    const t0 = performance.now();
    const v = verifyMath('\\boxed{'.repeat(50_000) + '1', '1', { lastNumber: true });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(v.status).toBe('correct'); // no box closes: falls through to the last number
    expect(verifyMath('$'.repeat(50_000) + '1', '1').status).toBe('incorrect');
  });
});

describe('percent modes', () => {
  it('fraction mode rejects p% = p, literal mode rejects p% = p/100', () => {
    expect(verifyMath('\\boxed{50\\%}', '50', { percent: 'fraction' }).status).toBe('incorrect');
    expect(verifyMath('\\boxed{50\\%}', '0.5', { percent: 'fraction' }).status).toBe('correct');
    expect(verifyMath('\\boxed{50\\%}', '0.5', { percent: 'literal' }).status).toBe('incorrect');
    expect(verifyMath('\\boxed{50\\%}', '50', { percent: 'literal' }).status).toBe('correct');
  });
  it('rtol is configurable', () => {
    expect(verifyMath('\\boxed{3.1416}', '\\pi', { rtol: 1e-4 }).status).toBe('correct');
    expect(verifyMath('\\boxed{3.1416}', '\\pi').status).toBe('incorrect');
  });
});

describe('LaTeX conversion', () => {
  it.each([
    ['\\frac{1}{2}', '((1)/(2))'],
    ['\\dfrac12', '((1)/(2))'],
    ['\\sqrt{x}', 'sqrt(x)'],
    ['\\sin^2 x', '( sin(x))^(2)'],
    ['x_{10}', 'x_10'],
    ['xy', 'x * y'],
  ])('%s → %s', (tex, want) => {
    expect(latexToMathjs(tex)).toBe(want);
  });
  it('refuses unknown commands instead of dropping them', () => {
    expect(() => latexToMathjs('\\foo{2}')).toThrow(/unsupported LaTeX command/);
  });
});
