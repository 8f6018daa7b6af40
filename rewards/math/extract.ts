/**
 * Answer extraction: find the final answer in a free-form completion. Parsing only; no scoring.
 *
 * Rules (tried in the configured priority order; the first that finds something wins):
 * - `boxed`: the content of the last `\boxed{…}` / `\fbox{…}`, nested braces matched.
 * - `hash`: the text after the last `####` (GSM8K style), to the end of its line.
 * - `answer`: the text after the last `Answer:` / `answer is` / `final answer:` (case-insensitive), to the end of the line.
 * - `last-number`: the last number in the text (`1,234.5`, `-3`, `3/4` count as numbers).
 *
 * @example extractAnswer('so 12+35=47') // => { answer: '47', rule: 'last-number' }
 */
import type { ExtractRule } from '../types.js';

export const DEFAULT_EXTRACT: readonly ExtractRule[] = ['boxed', 'hash', 'answer', 'last-number'];

/** Answers longer than this are not math answers; refusing them bounds every later step. */
export const MAX_ANSWER_CHARS = 400;

export interface Extracted {
  answer: string;
  rule: ExtractRule;
}

/** Content of the brace group that opens at `open` (s[open] === '{'), or null when unbalanced. */
export function matchBrace(s: string, open: number, maxLen = Infinity): { content: string; end: number } | null {
  let depth = 0;
  const stop = Math.min(s.length, open + maxLen);
  for (let i = open; i < stop; i++) {
    const c = s[i];
    if (c === '\\') { i++; continue; } // \{ and \} are literal braces, not grouping
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return { content: s.slice(open + 1, i), end: i };
    }
  }
  return null;
}

function lastBoxed(s: string): string | null {
  if (!s.includes('\\boxed') && !s.includes('\\fbox')) return null; // the common case, without a regex scan
  const re = /\\(?:boxed|fbox)\s*\{/g;
  let found: string | null = null;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    // Bounded scan: a hostile run of unbalanced `\boxed{` must not cost O(n²).
    const g = matchBrace(s, m.index + m[0].length - 1, MAX_ANSWER_CHARS * 4);
    if (g) found = g.content;
  }
  return found;
}

function afterMarker(s: string, re: RegExp): string | null {
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(s); m; m = re.exec(s)) last = m;
  if (!last) return null;
  const rest = s.slice(last.index + last[0].length);
  const line = rest.split('\n', 1)[0].trim();
  return line.length > 0 ? line : null;
}

const NUMBER_RE = /-?\d+(?:,\d{3})*(?:\.\d+)?(?:\s*\/\s*\d+)?|-?\.\d+/g;

function lastNumber(s: string): string | null {
  let last: string | null = null;
  NUMBER_RE.lastIndex = 0; // exec, unlike matchAll, neither copies the regex nor makes an iterator
  for (let m = NUMBER_RE.exec(s); m; m = NUMBER_RE.exec(s)) last = m[0];
  return last;
}

export function extractAnswer(completion: string, rules: readonly ExtractRule[] = DEFAULT_EXTRACT): Extracted | null {
  for (const rule of rules) {
    let a: string | null = null;
    if (rule === 'boxed') a = lastBoxed(completion);
    else if (rule === 'hash') a = completion.includes('####') ? afterMarker(completion, /####/g) : null;
    else if (rule === 'answer') a = afterMarker(completion, /(?:final answer|answer)\s*(?:is|:)\s*/gi);
    else if (rule === 'last-number') a = lastNumber(completion);
    if (a !== null && a.trim() !== '') return { answer: a.trim(), rule };
  }
  return null;
}
