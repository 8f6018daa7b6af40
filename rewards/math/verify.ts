/**
 * `verifyMath(completion, gold)`: extraction → normalisation → structure → equality, as one
 * synchronous call with a {@link Verdict}; `explainMath` returns the same verdict with each step
 * spelled out (`creditflow verify --explain`). Cheap on the hot path: when both answers are plain
 * numbers (the built-in arithmetic task: "47" against "47") it never touches mathjs.
 *
 * It guards against exploding expressions itself (see equal.ts), but it runs on the caller's
 * thread: use `verifyBatch` (worker pool, hard kill on timeout) for untrusted bulk input.
 *
 * @example verifyMath('so the answer is $\\frac{1}{2}$.', '0.5') // => { status: 'correct', score: 1, reason: 'equal values (0.5) (answer)', ms: 0.3 }
 */
import { capText, MAX_REASON_CHARS, SHOWN_ANSWER_CHARS } from '../reason-cap.js';
import type { ExtractRule, MathOptions, Verdict } from '../types.js';
import { extractAnswer, DEFAULT_EXTRACT, LAST_NUMBER_EXTRACT, MARKER_RULES, isMarkerRule, type Extracted, type ExtractTier } from './extract.js';
import { MAX_ANSWER_CHARS } from './spans.js';
import { normalize } from './normalize.js';
import { parseStructure, AnswerParseError, type Answer } from './answer.js';
import { answersEqual } from './compare.js';
import { UndecidableError, type Decision } from './equal.js';

/** Per-case facts the verifier needs besides the texts. */
export interface MathCase {
  /** The completion was cut off by the length limit (no EOS): without a final-answer marker it scores incorrect. */
  truncated?: boolean;
}

/** Every step of one verification, for audit. */
export interface MathExplanation {
  verdict: Verdict;
  gold: { rule: ExtractRule | null; text: string; parsed: string | null };
  answer: { rule: ExtractRule; text: string; parts: number; parsed: string | null } | null;
  comparison: string;
}

/** Reasons and extracted texts that are stored or printed stay short, with their length said (reason-cap.ts). */
export { MAX_REASON_CHARS };

export const cap = (s: string, n = SHOWN_ANSWER_CHARS): string => capText(s, n);

const GOLD_EXTRACT: readonly ExtractTier[] = [MARKER_RULES, 'latex', 'whole'];
const PLAIN_NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;

interface Gold {
  found: Extracted | null;
  text: string;
  parsed: Answer | AnswerParseError;
}

/** Gold answers repeat across the G completions of a prompt: read each once. */
const goldCache = new Map<string, Gold>();
const GOLD_CACHE_MAX = 4096;

function readGold(gold: string): Gold {
  const hit = goldCache.get(gold);
  if (hit) return hit;
  const found = PLAIN_NUMBER.test(gold.trim()) ? null : extractAnswer(gold, GOLD_EXTRACT, true);
  const raw = found?.answer ?? gold;
  const text = raw.length > MAX_ANSWER_CHARS ? raw.slice(0, MAX_ANSWER_CHARS) : normalize(raw);
  let parsed: Answer | AnswerParseError;
  try {
    parsed = raw.length > MAX_ANSWER_CHARS ? new AnswerParseError('gold answer too long') : parseStructure(text);
  } catch (e) {
    if (!(e instanceof AnswerParseError)) throw e;
    parsed = e;
  }
  const g = { found, text, parsed };
  if (goldCache.size >= GOLD_CACHE_MAX) goldCache.clear();
  goldCache.set(gold, g);
  return g;
}

function plainNumber(s: string): number | null {
  return PLAIN_NUMBER.test(s) ? Number(s) : null;
}

function tiersOf(opts: MathOptions): readonly ExtractTier[] {
  if (opts.extract) return opts.extract;
  return opts.lastNumber ? LAST_NUMBER_EXTRACT : DEFAULT_EXTRACT;
}

interface Judged {
  status: Verdict['status'];
  reason: string;
  gold: Gold;
  found: Extracted | null;
  answerText: string | null;
  answer: Answer | null;
}

function judge(completion: string, gold: string, opts: MathOptions, c: MathCase): Judged {
  const rtol = opts.rtol ?? 1e-6;
  const found = extractAnswer(completion, tiersOf(opts));
  const g = readGold(gold);
  const base = { gold: g, found, answerText: null, answer: null };
  // Long answers are refused below, before any normalising regex sees them.
  const text = found ? (found.answer.length > MAX_ANSWER_CHARS ? found.answer : normalize(found.answer)) : null;
  const via = found ? ` (${found.rule})` : '';
  // A cut-off completion is graded only on a final-answer marker it wrote: its last span or number
  // is whatever it was in the middle of, which may equal the gold by chance.
  const cutOff = c.truncated && (!found || !isMarkerRule(found.rule));
  if (g.parsed instanceof AnswerParseError && !(text === g.text && !cutOff)) return { ...base, status: 'skipped', reason: `gold answer unparseable: ${g.parsed.message}` };
  if (cutOff) return { ...base, status: 'incorrect', reason: found ? 'cut off (truncated) before a final-answer marker' : 'cut off (truncated) before any answer' };
  if (!found || text === null) return { ...base, status: 'incorrect', reason: 'no answer found in completion' };
  if (found.answer.length > MAX_ANSWER_CHARS) return { ...base, status: 'incorrect', reason: `extracted answer longer than ${MAX_ANSWER_CHARS} characters${via}` };
  const judged = { ...base, answerText: text };

  // Fast path: two plain numbers (integers exactly; a written decimal makes it approximate).
  const gn = plainNumber(g.text);
  const an = gn === null ? null : plainNumber(text);
  if (gn !== null && an !== null) {
    const approx = text.includes('.') || g.text.includes('.');
    const ok = an === gn || (approx && Math.abs(an - gn) <= rtol * Math.max(Math.abs(an), Math.abs(gn)));
    return { ...judged, status: ok ? 'correct' : 'incorrect', reason: ok ? `numbers equal (${cap(text)})${via}` : `${cap(text)} ≠ ${cap(g.text)}${via}` };
  }
  if (text === g.text) return { ...judged, status: 'correct', reason: `identical answers (${cap(text)})${via}` };
  if (g.parsed instanceof AnswerParseError) return { ...judged, status: 'skipped', reason: `gold answer unparseable: ${g.parsed.message}` };

  let answer: Answer;
  try {
    answer = parseStructure(text);
  } catch (e) {
    if (e instanceof AnswerParseError) return { ...judged, status: 'incorrect', reason: `answer unparseable${via}: ${e.message}` };
    throw e;
  }
  let d: Decision;
  try {
    d = answersEqual(answer, g.parsed, { rtol, percent: opts.percent ?? 'either' });
  } catch (e) {
    const reason = e instanceof UndecidableError ? e.message : `verifier bug: ${(e as Error).message}`;
    return { ...judged, answer, status: 'error', reason };
  }
  if (d.equal) return { ...judged, answer, status: 'correct', reason: `${d.how}${via}` };
  const spam = found.parts > 1 && !(g.parsed.kind === 'list' || g.parsed.kind === 'set' || g.parsed.kind === 'union' || g.parsed.kind === 'assign');
  return { ...judged, answer, status: 'incorrect', reason: spam ? `${found.parts} different final answers for one gold answer${via}` : `${d.why}${via}` };
}

function verdictOf(j: Judged, t0: number): Verdict {
  const reason = cap(j.reason, MAX_REASON_CHARS);
  return { status: j.status, score: j.status === 'correct' ? 1 : 0, reason, ms: performance.now() - t0 };
}

export function verifyMath(completion: string, gold: string, opts: MathOptions = {}, c: MathCase = {}): Verdict {
  const t0 = performance.now();
  return verdictOf(judge(completion, gold, opts, c), t0);
}

/** A short, readable rendering of a parsed answer. */
export function describeAnswer(a: Answer): string {
  switch (a.kind) {
    case 'expr': return `${a.label ? `${a.label} = ` : ''}${a.expr}${a.percent ? ' %' : ''}`;
    case 'equation': return `equation ${a.lhs} = ${a.rhs}`;
    case 'tuple': return `${a.label ? `${a.label} ∈ ` : ''}${a.open}${a.items.map(describeAnswer).join(', ')}${a.close}`;
    case 'set': return `set {${a.items.map(describeAnswer).join(', ')}}`;
    case 'list': return `list [${a.items.map(describeAnswer).join(', ')}]`;
    case 'union': return a.items.map(describeAnswer).join(' ∪ ');
    case 'assign': return a.entries.map((e) => `${e.label} = ${describeAnswer(e.value)}`).join(', ');
    case 'matrix': return `matrix ${a.rows.length}×${a.rows[0]?.length ?? 0}`;
    case 'relation': return `relation ${a.exprs.map((e, k) => (k < a.ops.length ? `${e} ${a.ops[k]}` : e)).join(' ')}`;
    case 'ratio': return `ratio ${a.parts.map(describeAnswer).join(' : ')}`;
    case 'text': return `text "${a.text}"`;
  }
}

/** The verdict of {@link verifyMath} with what was extracted by which rule and how it was compared. */
export function explainMath(completion: string, gold: string, opts: MathOptions = {}, c: MathCase = {}): MathExplanation {
  const t0 = performance.now();
  const j = judge(completion, gold, opts, c);
  const verdict = verdictOf(j, t0);
  const goldParsed = j.gold.parsed instanceof AnswerParseError ? null : cap(describeAnswer(j.gold.parsed), MAX_REASON_CHARS);
  return {
    verdict,
    gold: { rule: j.gold.found?.rule ?? null, text: cap(j.gold.text), parsed: goldParsed },
    answer: j.found ? { rule: j.found.rule, text: cap(j.found.answer), parts: j.found.parts, parsed: j.answer ? cap(describeAnswer(j.answer), MAX_REASON_CHARS) : null } : null,
    comparison: verdict.reason,
  };
}
