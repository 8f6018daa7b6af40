/**
 * `verifyMath(completion, gold)`: extraction → normalisation → structure → equality, as one
 * synchronous call with a {@link Verdict}. Cheap on the hot path: when both answers are plain
 * numbers (the built-in arithmetic task: "12+35=47" against "47") it never touches mathjs.
 *
 * It guards against exploding expressions itself (see equal.ts), but it runs on the caller's
 * thread: use `verifyBatch` (worker pool, hard kill on timeout) for untrusted bulk input.
 *
 * @example verifyMath('12+35=47', '47') // => { status: 'correct', score: 1, reason: 'numbers equal (47)', ms: 0.01 }
 */
import type { MathOptions, Verdict } from '../types.js';
import { extractAnswer, DEFAULT_EXTRACT, MAX_ANSWER_CHARS } from './extract.js';
import { parseAnswer, AnswerParseError, type Answer } from './answer.js';
import { answersEqual, UndecidableError } from './equal.js';

const PLAIN_NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** Gold answers repeat across the G completions of a prompt: parse each once. */
const goldCache = new Map<string, Answer | AnswerParseError>();
const GOLD_CACHE_MAX = 4096;

function parseGold(gold: string): Answer | AnswerParseError {
  const hit = goldCache.get(gold);
  if (hit) return hit;
  let raw = gold;
  // A gold that is itself a worked solution: take its marked answer.
  if (/\\boxed|####/.test(gold)) raw = extractAnswer(gold, ['boxed', 'hash'])?.answer ?? gold;
  let parsed: Answer | AnswerParseError;
  try {
    parsed = raw.length > MAX_ANSWER_CHARS ? new AnswerParseError('gold answer too long') : parseAnswer(raw);
  } catch (e) {
    if (!(e instanceof AnswerParseError)) throw e;
    parsed = e;
  }
  if (goldCache.size >= GOLD_CACHE_MAX) goldCache.clear();
  goldCache.set(gold, parsed);
  return parsed;
}

const GROUPED_NUMBER = /^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;

function plainNumber(s: string): number | null {
  let t = s.trim();
  if (t.endsWith('.')) t = t.slice(0, -1);
  if (t.includes(',') && GROUPED_NUMBER.test(t)) t = t.replaceAll(',', '');
  return PLAIN_NUMBER.test(t) ? Number(t) : null;
}

function verdict(status: Verdict['status'], reason: string, t0: number): Verdict {
  return { status, score: status === 'correct' ? 1 : 0, reason, ms: performance.now() - t0 };
}

export function verifyMath(completion: string, gold: string, opts: MathOptions = {}): Verdict {
  const t0 = performance.now();
  const rtol = opts.rtol ?? 1e-6;
  const found = extractAnswer(completion, opts.extract ?? DEFAULT_EXTRACT);

  // Fast path: two plain numbers.
  const g = plainNumber(gold);
  if (g !== null && found) {
    const a = plainNumber(found.answer);
    if (a !== null) {
      // Integers compare exactly; a written decimal makes the comparison approximate (rtol).
      const approx = found.answer.includes('.') || gold.includes('.');
      const ok = a === g || (approx && Math.abs(a - g) <= rtol * Math.max(Math.abs(a), Math.abs(g)));
      return verdict(ok ? 'correct' : 'incorrect', ok ? `numbers equal (${found.answer})` : `${found.answer} ≠ ${gold.trim()} (${found.rule})`, t0);
    }
  }

  const goldAnswer = parseGold(gold);
  if (goldAnswer instanceof AnswerParseError) return verdict('skipped', `gold answer unparseable: ${goldAnswer.message}`, t0);
  if (!found) return verdict('incorrect', 'no answer found in completion', t0);
  if (found.answer.length > MAX_ANSWER_CHARS) return verdict('incorrect', `extracted answer longer than ${MAX_ANSWER_CHARS} characters`, t0);

  let answer: Answer;
  try {
    answer = parseAnswer(found.answer);
  } catch (e) {
    if (e instanceof AnswerParseError) return verdict('incorrect', `answer unparseable (${found.rule}): ${e.message}`, t0);
    throw e;
  }
  try {
    const d = answersEqual(answer, goldAnswer, { rtol, percent: opts.percent ?? 'either' });
    return d.equal ? verdict('correct', `${d.how} (${found.rule})`, t0) : verdict('incorrect', `${d.why} (${found.rule})`, t0);
  } catch (e) {
    if (e instanceof UndecidableError) return verdict('error', e.message, t0);
    return verdict('error', `verifier bug: ${(e as Error).message}`, t0);
  }
}
