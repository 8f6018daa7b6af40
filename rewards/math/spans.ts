/**
 * Where answers sit in a completion: `\boxed{…}` groups and LaTeX math spans. Linear scans with
 * bounded look-ahead (a hostile run of unbalanced `\boxed{` or `$` must not cost O(n²)); no regex
 * backtracking over the whole text.
 */

/** Answers longer than this are not math answers; refusing them bounds every later step. */
export const MAX_ANSWER_CHARS = 400;

/** A piece of the completion: its text and where it starts and ends (end exclusive). */
export interface Span {
  text: string;
  start: number;
  end: number;
}

/** Content of the brace group that opens at `open` (s[open] === '{'), or null when unbalanced within `maxLen`. */
export function matchBrace(s: string, open: number, maxLen = Infinity): Span | null {
  let depth = 0;
  const stop = Math.min(s.length, open + maxLen);
  for (let i = open; i < stop; i++) {
    const c = s[i];
    if (c === '\\') { i++; continue; } // \{ and \} are literal braces, not grouping
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return { text: s.slice(open + 1, i), start: open, end: i + 1 };
    }
  }
  return null;
}

const BOX_RE = /\\\\?(?:boxed|fbox)\s*\{/g;
/** Only the last boxes can hold the final answer: a flood of `\boxed{` costs one regex pass. */
const MAX_BOXES = 200;

/**
 * Every balanced `\boxed{…}` / `\fbox{…}` (also the doubled `\\boxed` of JSON-escaped text). With
 * `allowOpen`, a last box left open runs to the end of the text (gold answers written by hand).
 */
export function findBoxes(s: string, allowOpen = false): Span[] {
  if (!s.includes('boxed') && !s.includes('fbox')) return [];
  const opens: Array<{ at: number; len: number }> = [];
  BOX_RE.lastIndex = 0;
  for (let m = BOX_RE.exec(s); m; m = BOX_RE.exec(s)) opens.push({ at: m.index, len: m[0].length });
  const out: Span[] = [];
  let after = 0; // a box inside an earlier box's content is part of it, not another box
  for (const { at, len } of opens.slice(-MAX_BOXES)) {
    if (at < after) continue;
    const g = matchBrace(s, at + len - 1, MAX_ANSWER_CHARS * 4);
    if (g) {
      out.push({ text: g.text, start: at, end: g.end });
      after = g.end;
    } else if (allowOpen && s.length - at < MAX_ANSWER_CHARS * 4) {
      out.push({ text: s.slice(at + len).replace(/[\s.$]*$/, ''), start: at, end: s.length });
      break;
    }
  }
  return out;
}

/**
 * LaTeX math spans: `$$…$$`, `\[…\]` (may span lines), `$…$`, `\(…\)` (one line, as math-verify
 * reads them; a `$` followed by a digit with no closing `$` on its line is a currency sign).
 * Escaped `\$` never opens or closes a span.
 */
export function findMathSpans(s: string): Span[] {
  // Several rules scan the same completion: remember the last one.
  if (s === lastText && lastSpans) return lastSpans;
  const spans = scanMathSpans(s);
  lastText = s;
  lastSpans = spans;
  return spans;
}

let lastText: string | null = null;
let lastSpans: Span[] | null = null;

function scanMathSpans(s: string): Span[] {
  const out: Span[] = [];
  const n = s.length;
  // The next `\]` / `\)` at or after a position, remembered: a flood of `\[` must not search the
  // rest of the text once per opener.
  const next: Record<string, { from: number; at: number }> = { '\\]': { from: n + 1, at: -1 }, '\\)': { from: n + 1, at: -1 } };
  const closeAfter = (close: string, from: number): number => {
    const memo = next[close];
    if (from >= memo.from && (memo.at < 0 || from <= memo.at)) return memo.at;
    const at = s.indexOf(close, from);
    next[close] = { from, at };
    return at;
  };
  for (let i = 0; i < n; i++) {
    const c = s[i];
    if (c === '\\') {
      const d = s[i + 1];
      if (d === '[' || d === '(') {
        const close = d === '[' ? '\\]' : '\\)';
        const j = closeAfter(close, i + 2);
        const body = j < 0 ? '' : s.slice(i + 2, j);
        if (j >= 0 && j - i <= MAX_ANSWER_CHARS * 8 && (d === '[' || !body.includes('\n'))) {
          out.push({ text: body, start: i, end: j + 2 });
          i = j + 1;
          continue;
        }
      }
      i++; // skip the escaped character (\$ included)
      continue;
    }
    if (c !== '$') continue;
    const display = s[i + 1] === '$';
    const from = i + (display ? 2 : 1);
    let j = from;
    for (; j < n && j - from <= MAX_ANSWER_CHARS * 8; j++) {
      if (s[j] === '\\') { j++; continue; }
      if (s[j] === '$') break;
      if (!display && s[j] === '\n') { j = n; break; }
    }
    if (j >= n || s[j] !== '$' || (display && s[j + 1] !== '$')) {
      if (display) i++;
      continue; // unclosed: a currency sign or a cut-off span
    }
    out.push({ text: s.slice(from, j), start: i, end: j + (display ? 2 : 1) });
    i = j + (display ? 1 : 0);
  }
  return out;
}

/**
 * Text between two answers that still joins them into one answer: punctuation, spacing commands,
 * math delimiters, `and`/`or`, and a few words of labelling (`\text{ for part (a) and }`,
 * `y_2 =`). Any other word ("no no no", a sentence) separates them.
 */
const CONNECTOR_NOISE = /\\(?:quad|qquad|text|textbf|mathrm|mbox|[,;:! ()[\]])|[{}$,;.&+=\s()[\]_^0-9-]/g;
const CONNECTOR_WORDS = new Set(['and', 'or', 'for', 'part', 'parts', 'respectively', 'a', 'b', 'c', 'd', 'i', 'ii', 'iii']);

export function isConnector(between: string): boolean {
  if (between.length > 80) return false;
  if (/^[^A-Za-z0-9]*$/.test(between)) return true; // only punctuation / spacing
  const words = between.replace(CONNECTOR_NOISE, ' ').split(/\s+/).filter(Boolean);
  const labels = words.filter((w) => !CONNECTOR_WORDS.has(w.toLowerCase()));
  const joins = words.some((w) => /^(?:and|or)$/i.test(w));
  // One other word may sit between them: a label (`y_2 =`) or a noun (`\boxed{1} papers and \boxed{2} bins`).
  return joins && labels.length <= 1;
}

/** The last run of spans joined only by connectors: the final answer when it has several parts. */
export function lastGroup(s: string, spans: Span[]): Span[] {
  if (spans.length === 0) return [];
  let k = spans.length - 1;
  while (k > 0 && isConnector(s.slice(spans[k - 1].end, spans[k].start))) k--;
  return spans.slice(k);
}
