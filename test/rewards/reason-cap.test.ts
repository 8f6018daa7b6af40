/**
 * Every verdict reason and extracted answer that is stored (rewards files) or printed (`creditflow
 * verify --explain`) is capped, with its full length said: the completion controls what they quote.
 */
import { describe, expect, it } from 'vitest';
import { explainMath } from '../../rewards/math/verify.js';
import { combineTerms, mixFromEntries, scoreCases } from '../../rewards/mix.js';
import { capText, MAX_REASON_CHARS, SHOWN_ANSWER_CHARS } from '../../rewards/reason-cap.js';
import { verifyBatch } from '../../rewards/batch.js';

const digits = '9'.repeat(100_000);
/** The longest a capped text can be: the kept characters plus the `… (N characters)` suffix. */
const capped = (max: number) => max + '… (100,000 characters)'.length + 4;

describe('capped reasons and answers', () => {
  it('keeps short text whole and says the length of long text', () => {
    expect(capText('a  b\n c')).toBe('a b c');
    expect(capText('x'.repeat(250))).toBe(`${'x'.repeat(MAX_REASON_CHARS)}… (250 characters)`);
  });

  it.each([
    ['a 100,000-digit "the answer is"', `The answer is ${digits}`],
    ['a 100,000-digit #### answer', `#### ${digits}`],
    ['a 100,000-digit boxed answer', `\\boxed{${digits}}`],
    ['a 100,000-digit last number', `so ${digits}`],
  ])('math on %s: the stored reason is capped', async (_label, completion) => {
    const [verdict] = await scoreCases(mixFromEntries('sum', [{ verifier: 'math', weight: 1, extract: ['boxed', 'hash', 'answer', 'last-number'] }]), [{ completion, answer: '5' }]);
    expect(verdict.status).toBe('incorrect');
    expect(verdict.reason.length).toBeLessThanOrEqual(capped(MAX_REASON_CHARS));
    const explained = explainMath(completion, '5', { extract: ['boxed', 'hash', 'answer', 'last-number'] });
    expect((explained.answer?.text ?? '').length).toBeLessThanOrEqual(capped(SHOWN_ANSWER_CHARS));
    if (explained.answer && explained.answer.text.length > SHOWN_ANSWER_CHARS) expect(explained.answer.text).toMatch(/… \([\d,]+ characters\)$/);
  });

  it('caps a combined reason built from long parts', () => {
    const long = { status: 'error' as const, score: 0, reason: `crashed: ${'e'.repeat(5_000)}`, ms: 0 };
    const ok = { status: 'correct' as const, score: 1, reason: 'fine', ms: 0 };
    const verdict = combineTerms('sum', [{ name: 'a', weight: 1 } as never, { name: 'b', weight: 1 } as never], [long, ok]);
    expect(verdict.reason).toMatch(/^a: crashed: e+… \(5,012 characters\)$/);
  });

  it('caps the reason of an unknown verifier named by a hostile case', async () => {
    const [result] = await verifyBatch([{ id: 'x', verifier: 'v'.repeat(10_000), completion: '1', gold: '1' }]);
    expect(result.status).toBe('error');
    expect(result.reason).toMatch(/… \([\d,]+ characters\)$/);
    expect(result.reason.length).toBeLessThanOrEqual(capped(MAX_REASON_CHARS));
  });
});
