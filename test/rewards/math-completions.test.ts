// Run: npx vitest run test/rewards/math-completions.test.ts
// Realistic completions (GSM8K / MATH / AIME / R1 styles) in ten final-answer formats, with the
// failure modes a reward must not fall for: retracted answers, answer spam, cut-off completions,
// separators, mixed numbers, matrices, relations against intervals, units.
import { describe, it, expect, beforeAll } from 'vitest';
import { verifyMath, explainMath } from '../../rewards/index.js';
import { COMPLETION_TABLE } from './math-completions.js';

beforeAll(() => { verifyMath('\\boxed{\\frac{1}{3!}}', '\\sin(x)'); });

describe('realistic completions', () => {
  it('cover both outcomes and the cut-off flag', () => {
    expect(COMPLETION_TABLE.filter((r) => r[2] === 'correct').length).toBeGreaterThan(30);
    expect(COMPLETION_TABLE.filter((r) => r[2] === 'incorrect').length).toBeGreaterThan(30);
    expect(COMPLETION_TABLE.some((r) => r[4]?.truncated)).toBe(true);
  });
  it.each(COMPLETION_TABLE.map((r, k) => [k, r[3], r] as const))('#%i %s', (_k, _note, [completion, gold, expected, , flags]) => {
    const { truncated, ...opts } = flags ?? {};
    const v = verifyMath(completion, gold, opts, { truncated });
    expect(v.status, v.reason).toBe(expected);
    expect(v.reason.length).toBeGreaterThan(0);
    expect(v.reason.length).toBeLessThanOrEqual(200);
  });
});

describe('explainMath', () => {
  it('names the rule, the extracted text and both parsed answers', () => {
    const e = explainMath('First \\boxed{12}. Wait: the answer is $\\frac{28}{2}$.', '14');
    expect(e.verdict.status).toBe('correct');
    expect(e.answer).toMatchObject({ rule: 'answer', text: '\\frac{28}{2}', parts: 1 });
    expect(e.answer?.parsed).toMatch(/28.*2/);
    expect(e.gold).toMatchObject({ text: '14', parsed: '14' });
    expect(e.comparison).toMatch(/equal values \(14\)/);
  });
  it('caps what it prints', () => {
    const long = `\\boxed{${'x+'.repeat(150)}1}`;
    const e = explainMath(long, '1');
    // 60 characters kept, then the full length said (rewards/reason-cap.ts).
    expect(e.answer!.text).toBe(`${'x+'.repeat(30)}… (301 characters)`);
    expect(e.verdict.reason.length).toBeLessThanOrEqual(200 + '… (99,999 characters)'.length);
  });
  it('says when a cut-off completion had no final-answer marker', () => {
    const e = explainMath('we get $3 + 4 = 7$ and', '7', {}, { truncated: true });
    expect(e.verdict).toMatchObject({ status: 'incorrect' });
    expect(e.verdict.reason).toMatch(/truncated/);
  });
});
