/**
 * Answer extraction: find the final answer in a free-form completion. Parsing only; no scoring.
 *
 * Rules are tried in tiers (the configured list, in order). Inside one tier the match that starts
 * last in the text wins: "the last final answer counts", so a retracted `\boxed{3}` followed by
 * "The answer is 5." reads 5. The default tiers:
 *
 * 1. final-answer markers, competing by position:
 *    - `boxed`: `\boxed{…}` / `\fbox{…}`, nested braces matched; boxes joined only by connectors
 *      (`,`, `and`, `\quad \text{and} \quad`) are one answer with several parts;
 *    - `answer-tag`: the content of `<answer>…</answer>` (itself read with these rules);
 *    - `hash`: the rest of the line after `####` (GSM8K);
 *    - `answer`: "the (final) answer is …", `Answer:`, `**Answer:**`, Minerva's "Final Answer: The
 *      final answer is $…$. I hope it is correct.", "Final Answer: <sentence> is 120.";
 *    - `equation-line`: a closing line that is only `x = …`;
 * 2. `whole`: the whole completion when it is short and reads as one answer (`47`, `x = 3`, `\frac12`);
 * 3. `latex`: the last group of LaTeX math spans (`$…$`, `$$…$$`, `\(…\)`, `\[…\]`);
 *    with `last-number` in the same tier (opt-in), the last bare number outside any span competes
 *    with the spans by position.
 *
 * @example extractAnswer('so \\boxed{3}. No wait, the answer is 5.') // => { answer: '5', rule: 'answer', … }
 */
import type { ExtractRule } from '../types.js';
import { findBoxes, findMathSpans, lastGroup, matchBrace, MAX_ANSWER_CHARS, type Span } from './spans.js';
import { looksLikeAnswer } from './normalize.js';

export { matchBrace, MAX_ANSWER_CHARS };

export type ExtractTier = ExtractRule | readonly ExtractRule[];

export const MARKER_RULES: readonly ExtractRule[] = ['boxed', 'answer-tag', 'hash', 'answer', 'equation-line'];
export const DEFAULT_EXTRACT: readonly ExtractTier[] = [MARKER_RULES, 'whole', 'latex'];
/** The default plus the last bare number (math-verify's default reads plain numbers too). */
export const LAST_NUMBER_EXTRACT: readonly ExtractTier[] = [MARKER_RULES, 'whole', ['latex', 'last-number']];

export interface Extracted {
  /** The answer text (several joined parts are separated by `, `). */
  answer: string;
  rule: ExtractRule;
  /** Where the answer's marker (or first part) starts in the text. */
  start: number;
  /** How many boxes / spans were joined into this answer (2+ is a multi-part answer). */
  parts: number;
}

/** A percent sign or word right after a span or box belongs to it: `$28$ %`, `$\boxed{20}$ percent`. */
function percentAfter(s: string, end: number): boolean {
  return /^(?:\s|\$|\\\)|\\\])*(?:\\?%|percent(?:age)?\b|pct\b)/i.test(s.slice(end, end + 24));
}

function joinGroup(s: string, group: Span[], rule: ExtractRule): Extracted | null {
  if (group.length === 0) return null;
  const texts = [...new Set(group.map((g) => g.text.trim()))].filter((t) => t !== '');
  if (texts.length === 0) return null;
  const pct = percentAfter(s, group[group.length - 1].end) && texts.length === 1 && !/%\s*$/.test(texts[0]);
  return { answer: texts.join(', ') + (pct ? '%' : ''), rule, start: group[0].start, parts: texts.length };
}

function boxed(s: string, allowOpen: boolean): Extracted | null {
  const boxes = findBoxes(s, allowOpen);
  return joinGroup(s, lastGroup(s, boxes), 'boxed');
}

function answerTag(s: string, allowOpen: boolean): Extracted | null {
  const open = s.lastIndexOf('<answer>');
  if (open < 0) return null;
  const close = s.indexOf('</answer>', open);
  if (close < 0) return null; // an unclosed tag is a cut-off answer
  const inner = s.slice(open + 8, close);
  const found = extractAnswer(inner, [MARKER_RULES.filter((r) => r !== 'answer-tag'), 'whole', 'latex'], allowOpen);
  const answer = found?.answer ?? inner.trim();
  return answer ? { answer, rule: 'answer-tag', start: open, parts: found?.parts ?? 1 } : null;
}

function hash(s: string): Extracted | null {
  const k = s.lastIndexOf('####');
  if (k < 0) return null;
  const line = s.slice(k + 4).split('\n', 1)[0].trim();
  return line ? { answer: line, rule: 'hash', start: k, parts: 1 } : null;
}

const ANSWER_RE = /(?:\*\*|\b)(?:the\s+)?(?:final\s+)?answer(?:\*\*)?\s*(?:is\b|:|=)(?:\*\*)?\s*:?|\bfinal answer\b(?:\*\*)?\s*:?/gi;
/** Words that follow "the answer is" in prose that is not an answer ("the answer is correct"). */
const NOT_AN_ANSWER = /^(?:correct|incorrect|wrong|right|not|that|this|these|below|above|as follows|consistent|clear|obtained|found|given|unique|valid|invalid|reasonable|indeed|therefore|then|to|in|of|a|an)\b/i;

/** One sentence after a marker: up to a newline, "I hope", or a period that ends a sentence (math spans skipped). */
function sentenceAt(s: string, from: number): string {
  const stop = Math.min(s.length, from + MAX_ANSWER_CHARS);
  let i = from;
  for (; i < stop; i++) {
    const c = s[i];
    if (c === '\\') { i++; continue; }
    if (c === '$') {
      const close = s.slice(i + 1, stop).indexOf('$');
      if (close >= 0) { i += 1 + close; continue; }
    }
    if (c === '\n' || (c === '.' && (i + 1 === s.length || /\s/.test(s[i + 1]))) || s.startsWith('I hope', i)) break;
  }
  return s.slice(from, i).trim();
}

function answerPhrase(s: string): Extracted | null {
  const markers: Array<{ index: number; end: number }> = [];
  ANSWER_RE.lastIndex = 0;
  for (let m = ANSWER_RE.exec(s); m; m = ANSWER_RE.exec(s)) markers.push({ index: m.index, end: m.index + m[0].length });
  // The last marker that holds an answer wins: read them from the end.
  for (let k = markers.length - 1; k >= 0 && k >= markers.length - 50; k--) {
    const m = markers[k];
    let from = m.end;
    // Skip what separates the marker from its answer: spaces, quotes (also escaped ones), `**`, `:`.
    while (from < s.length && (/[\s"'*:]/.test(s[from]) || (s[from] === '\\' && s[from + 1] === '"'))) from += s[from] === '\\' ? 2 : 1;
    let text = sentenceAt(s, from);
    // "Final Answer: The volume of $V$ is 120." — the answer follows the sentence's last "is".
    const is = /^(?:[\s\S]*)\bis\b:?\s*/.exec(text);
    if (is && /^(?:the|a|an|in|so|thus|our|my)\b/i.test(text)) text = text.slice(is[0].length);
    if (!text || NOT_AN_ANSWER.test(text) || /^\\(?:boxed|fbox)/.test(text)) continue;
    const spans = findMathSpans(text);
    let found: Extracted | null = null;
    if (spans.length > 0 && spans[0].start === 0) {
      const group = [spans[0]];
      for (let k = 1; k < spans.length && /^[\s,;]*(?:and|or|,)?[\s,;]*$/.test(text.slice(spans[k - 1].end, spans[k].start)); k++) group.push(spans[k]);
      found = joinGroup(text, group, 'answer');
    } else if (!looksLikeAnswer(text)) {
      // A sentence with exactly one number: "Jane started growing Sphere 3 hours ago."
      const nums = text.match(/(?<![A-Za-z_\\\d.])-?\d[\d,]*(?:\.\d+)?(?:\s*%)?/g) ?? [];
      if (nums.length === 1) found = { answer: nums[0], rule: 'answer', start: 0, parts: 1 };
    }
    return { answer: found?.answer ?? text, rule: 'answer', start: m.index, parts: found?.parts ?? 1 };
  }
  return null;
}

const EQUATION_LINE = /^\s*(?:\$+|\\\(|\\\[)?\s*([A-Za-z](?:_\{?\w+\}?)?\s*=\s*[^=\n]+?)\s*(?:\$+|\\\)|\\\])?\s*\.?\s*$/;

function equationLine(s: string): Extracted | null {
  const trimmed = s.trimEnd();
  const start = trimmed.lastIndexOf('\n') + 1;
  if (trimmed.length - start > MAX_ANSWER_CHARS) return null;
  const m = EQUATION_LINE.exec(trimmed.slice(start));
  return m ? { answer: m[1], rule: 'equation-line', start, parts: 1 } : null;
}

function whole(s: string, gold: boolean): Extracted | null {
  const t = s.trim();
  if (t === '' || t.length > (gold ? MAX_ANSWER_CHARS : 160)) return null;
  if (findMathSpans(t).some((sp) => sp.start > 0 || sp.end < t.length)) return null; // prose with math in it
  if (!gold && !looksLikeAnswer(t)) return null;
  return { answer: t, rule: 'whole', start: 0, parts: 1 };
}

function latex(s: string): Extracted | null {
  return joinGroup(s, lastGroup(s, findMathSpans(s)), 'latex');
}

/**
 * The last plain number outside every math span: not inside a word (`AZYUK2A`), thousands
 * separators (`1,000`, `1 000`, `1,\!000`) and a decimal comma (`2,74`) allowed, a fraction `2/3`
 * and a trailing percent kept.
 */
const BARE_NUMBER = /(?<![A-Za-z_\\\d.,])-?(?:\d{1,3}(?:(?:,\\!\s?|,| )\d{3})+(?!\d)|\d+)(?:\.\d+|,\d{1,2}(?!\d))?(?:\s*\/\s*\d+)?(?:\s*(?:\\?%|percent\b))?/g;

function lastNumber(s: string): Extracted | null {
  const spans = findMathSpans(s);
  let found: Extracted | null = null;
  BARE_NUMBER.lastIndex = 0;
  for (let m = BARE_NUMBER.exec(s); m; m = BARE_NUMBER.exec(s)) {
    const at = m.index;
    if (spans.some((sp) => at >= sp.start && at < sp.end)) continue;
    // A decimal comma in prose (`2,74 €`): nothing else reads `d,dd` there.
    found = { answer: m[0].trim().replace(/^(-?\d+),(\d{1,2})(?!\d)/, '$1.$2'), rule: 'last-number', start: at, parts: 1 };
  }
  return found;
}

function byRule(rule: ExtractRule, s: string, gold: boolean): Extracted | null {
  switch (rule) {
    case 'boxed': return boxed(s, gold);
    case 'answer-tag': return answerTag(s, gold);
    case 'hash': return s.includes('####') ? hash(s) : null;
    case 'answer': return answerPhrase(s);
    case 'equation-line': return equationLine(s);
    case 'whole': return whole(s, gold);
    case 'latex': return latex(s);
    case 'last-number': return lastNumber(s);
  }
}

/**
 * The final answer of `completion` under `tiers` (see the header), or null. `gold` reads a gold
 * answer: a box left open runs to the end, and `whole` takes any short text.
 */
export function extractAnswer(completion: string, tiers: readonly ExtractTier[] = DEFAULT_EXTRACT, gold = false): Extracted | null {
  for (const tier of tiers) {
    let best: Extracted | null = null;
    for (const rule of typeof tier === 'string' ? [tier] : tier) {
      const found = byRule(rule, completion, gold);
      if (found && found.answer.trim() !== '' && (!best || found.start > best.start)) best = found;
    }
    if (best) return { ...best, answer: best.answer.trim() };
  }
  return null;
}

/** The rules that mark a final answer; a cut-off completion without one is not graded. */
export function isMarkerRule(rule: ExtractRule): boolean {
  return MARKER_RULES.includes(rule);
}
