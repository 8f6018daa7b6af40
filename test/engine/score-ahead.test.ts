/**
 * Scoring on the compute host (engine/score-ahead.ts): the verdicts are the ones the verifier gives
 * each case, repeated cases included, and anything the host may not verify inline is left to the pool.
 */
import { describe, expect, it } from 'vitest';
import { scoreInline as scoreInlineMix, verdictsInline as verdictsInlineMix } from '../../engine/score-ahead.js';
import { resolveSpec } from '../../rewards/index.js';
import { verifyInline } from '../../rewards/inline.js';
import { mixFromEntries } from '../../rewards/mix.js';
import type { RolloutRecord } from '../../store/rollout-files.js';

/** The run's reward: the exact-integer check alone (the arithmetic generator's default). */
const mix = mixFromEntries('sum', [{ verifier: 'exact-integer', weight: 1 }]);
const scoreInline = (records: RolloutRecord[]) => scoreInlineMix(mix, records);
const verdictsInline = (records: RolloutRecord[]) => verdictsInlineMix(mix, records);

const record = (id: string, completion: string, answer: string, verifier = ''): RolloutRecord => ({
  id, promptId: `p-${answer}`, group: 0, prompt: 'q', answer, verifier, completion,
  promptTokens: [1], tokens: [2], logprobs: [-0.5], entropies: [0.1], finished: true,
});

/** What the verifier itself says of a record's case, without its id. */
const verdictOf = ({ verifier, completion, answer }: RolloutRecord) => {
  const v = verifyInline(resolveSpec(verifier || 'exact-integer'), completion, answer)!;
  return { status: v.status, score: v.score, reason: v.reason, parts: [{ name: verifier || 'exact-integer', status: v.status, score: v.score }] };
};

describe('verdictsInline', () => {
  it('gives every record its own verdict, a repeated case included, with the record\'s id', () => {
    const records = [
      record('1-0-0', '38', '38'), record('1-0-1', '37', '38'), record('1-0-2', '38', '38'),
      record('1-1-0', '38', '12'), record('1-1-1', '12+', '12'), record('1-1-2', '38', '12'),
    ];
    const verdicts = verdictsInline(records)!;
    expect(verdicts.map((v) => v.id)).toEqual(records.map((r) => r.id));
    for (const [k, r] of records.entries()) expect(verdicts[k]).toEqual({ id: r.id, ...verdictOf(r) });
    // The same completion is right for one gold and wrong for the other: the answer is part of the case.
    expect(verdicts.map((v) => v.status)).toEqual(['correct', 'incorrect', 'correct', 'incorrect', 'incorrect', 'incorrect']);
  });

  it('reuses a verdict from an earlier rollout only for the same case, gold answer included', () => {
    expect(verdictsInline([record('2-0-0', '38', '38')])!.map((v) => v.status)).toEqual(['correct']);
    // The same completion in a later rollout, against another gold answer: its own verdict.
    expect(verdictsInline([record('3-0-0', '38', '12')])!.map((v) => v.status)).toEqual(['incorrect']);
    const again = record('4-0-0', '38', '38');
    expect(verdictsInline([again])).toEqual([{ id: '4-0-0', ...verdictOf(again) }]);
  });

  it('stores each verdict value once, however many cases have it', () => {
    // Five distinct cases, three verdict values: right, a wrong number, not an integer.
    const records = [
      record('5-0-0', '38', '38'), record('5-0-1', '37', '38'), record('5-0-2', '39', '38'),
      record('5-1-0', '12', '12'), record('5-1-1', '12+', '12'), record('5-1-2', '38', '12'),
    ];
    const scored = scoreInline(records)!;
    expect(scored.status).toHaveLength(3);
    expect([...scored.of]).toEqual([0, 1, 1, 0, 2, 1]);
    expect(scored.reason[scored.of[0]]).toBe(verdictOf(records[0]).reason);
    expect(scored.reason[scored.of[4]]).toBe(verdictOf(records[4]).reason);
  });

  it('is null when a case needs the verifier pool; a row naming an unknown verifier gets an error verdict naming it', () => {
    expect(verdictsInline([record('1-0-0', '38', '38'), record('1-0-1', 'x = 3/4', '3/4', 'math')])).toBeNull();
    const [unknown] = verdictsInline([record('1-0-0', '38', '38', 'no-such-verifier')])!;
    expect(unknown).toMatchObject({ status: 'error', score: 0 });
    expect(unknown.reason).toMatch(/unknown verifier "no-such-verifier"/);
  });

  it('a row\'s own verifier scores it instead of the mix, and a truncated completion is its own case', () => {
    const [own, mixed] = verdictsInline([record('6-0-0', ' 38', '38', 'math'), record('6-0-0', ' 38', '38')])!;
    // math reads the number: correct, where the mix's exact-integer refuses the space.
    expect(own).toMatchObject({ status: 'correct', parts: [{ name: 'math', status: 'correct' }] });
    expect(mixed).toMatchObject({ status: 'incorrect', parts: [{ name: 'exact-integer', status: 'incorrect' }] });
    const cut = { ...record('6-0-1', '38', '38'), finished: false };
    // Cut off by the length limit, "38" may be the start of "385": math scores an answer without a
    // final-answer marker incorrect when truncated (rewards/math), so the two are not one case.
    expect(verdictsInline([record('6-0-2', '38', '38'), cut])!.map((v) => v.status)).toEqual(['correct', 'incorrect']);
  });
});
