/**
 * From an extracted answer string to a structured {@link Answer}: normalisation, then structure.
 *
 * Normalisation: `$…$`, `\(…\)`, `\[…\]`, `\displaystyle`, `\left`/`\right` and trailing periods go;
 * thousands separators go (`1,000`, `1{,}000`, `1\,000` — a comma counts as a thousands separator only
 * when the *whole* answer is one number of that shape, so `1,2` stays a list); units go (`\text{cm}`,
 * `^\circ`, `\$`, trailing unit words such as `dollars`); `\text{13}` becomes `13`; `%`/`\%` becomes a
 * percent flag; `\dfrac`/`\tfrac` become `\frac`.
 *
 * Structure, and how each kind is judged (documented in rewards/README.md):
 * - `set` `\{a, b\}`: unordered, duplicates ignored.
 * - `list` `a, b` / `a; b` / `a or b` / `a and b` / `a \pm b`: an unordered multiset of answers; a
 *   list and a set are compared as sets of their elements. A list never matches a single answer
 *   (hedging with several answers is wrong).
 * - `tuple` `(a, b)`, `[a, b)`…: ordered, and the bracket kinds must match. Intervals are tuples, so
 *   `(1, 2)` the interval and `(1, 2)` the point coincide; both sides read the same way.
 * - `union` `A \cup B`: an unordered set of its pieces.
 * - `x = 3`: a *labelled* value; the label (a bare variable such as `x`, `y_1`, `f(x)`) is dropped,
 *   so `x = 3` equals `3`; if both sides carry labels they must be the same label. A chain `a = b = c`
 *   keeps its last member. An equation whose left side is not a bare variable (`x + y = 3`) is an
 *   `equation` and only equals another equation with proportional `lhs − rhs`.
 * - `text`: words (`Yes`, `Monday`, `x > 3`); compared as lower-case strings without spaces.
 */
import { latexToMathjs, LatexError, KNOWN_NAMES } from './latex.js';

export type Answer =
  | { kind: 'expr'; expr: string; percent: boolean; label?: string }
  | { kind: 'equation'; lhs: string; rhs: string }
  | { kind: 'tuple'; open: string; close: string; items: Answer[] }
  | { kind: 'set' | 'list' | 'union'; items: Answer[] }
  | { kind: 'text'; text: string };

export class AnswerParseError extends Error {
  override name = 'AnswerParseError';
}

const UNIT_WORDS = new Set([
  'dollar', 'dollars', 'cent', 'cents', 'usd', 'euro', 'euros', 'unit', 'units', 'degree', 'degrees',
  'cm', 'mm', 'km', 'm', 'meter', 'meters', 'metre', 'metres', 'inch', 'inches', 'ft', 'feet', 'foot',
  'mile', 'miles', 'yard', 'yards', 'kg', 'g', 'gram', 'grams', 'lb', 'lbs', 'pound', 'pounds', 'oz',
  'ounce', 'ounces', 'l', 'ml', 'liter', 'liters', 'litre', 'litres', 'gallon', 'gallons', 's', 'sec',
  'second', 'seconds', 'min', 'minute', 'minutes', 'h', 'hr', 'hrs', 'hour', 'hours', 'day', 'days',
  'week', 'weeks', 'month', 'months', 'year', 'years', 'mph', 'kmh', 'percent', 'square', 'sq', 'cubic',
  'people', 'students', 'apples', 'items', 'times', 'ways', 'points',
]);

const THOUSANDS_RE = /^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;

/** Strip presentation-only markup. Order matters: thin-space thousands before spacing commands go. */
export function normalize(raw: string): string {
  let s = raw.trim();
  s = s.replace(/^\$+|\$+$/g, '').replace(/^\\\(|\\\)$/g, '').replace(/^\\\[|\\\]$/g, '');
  s = s.replace(/\\(?:displaystyle|textstyle)/g, '');
  s = s.replace(/\\[dtc]frac/g, '\\frac');
  s = s.replace(/\\lbrace/g, '\\{').replace(/\\rbrace/g, '\\}');
  s = s.replace(/(\d)\{,\}(?=\d{3})/g, '$1').replace(/(\d)\\,(?=\d{3}\b)/g, '$1');
  s = s.replace(/\\left\s*\./g, '').replace(/\\right\s*\./g, '').replace(/\\left\s*/g, '').replace(/\\right\s*/g, '');
  s = s.replace(/\^\s*\{?\\circ\}?|°/g, '');
  s = s.replace(/\\\$/g, '').replace(/\$/g, '');
  s = s.replace(/\\%/g, '%');
  s = s.replace(/\\(?:[,;:! ]|quad|qquad)/g, ' ');
  // \text{…}-like wrappers: numbers and maths are kept, connective words become commas, other words are units.
  s = s.replace(/\\(?:text|textbf|textit|textrm|mathrm|mbox)\s*\{([^{}]*)\}/g, (_m, inner: string) => {
    const t = inner.trim();
    if (/^(?:or|and)$/i.test(t)) return ',';
    if (/^[A-Za-z][A-Za-z .]*$/.test(t) && UNIT_WORDS.has(t.toLowerCase().replace(/\.$/, ''))) return ' \u0000';
    return ` ${t} `;
  });
  // A dropped unit takes its exponent with it: `5 \text{cm}^2` is 5.
  s = s.replace(/\u0000\s*(?:\^\s*(?:\{\s*\d+\s*\}|\d))?/g, '');
  s = s.replace(/\s+/g, ' ').trim();
  s = s.replace(/[.。]+$/, '').trim();
  // Trailing unit words after a number: `47 dollars`, `12 cm^2`.
  for (;;) {
    const m = /^(.*[0-9)}%])\s*([A-Za-z]+)(?:\^\d)?$/.exec(s);
    if (!m || !UNIT_WORDS.has(m[2].toLowerCase())) break;
    s = m[1].trim();
  }
  if (THOUSANDS_RE.test(s)) s = s.replace(/,/g, '');
  return s;
}

/** Positions of top-level occurrences of `sep` (outside (), [], {}, \{ \}). */
function splitTop(s: string, seps: RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      if (s[i + 1] === '{') depth++;
      else if (s[i + 1] === '}') depth--;
      else if (depth === 0) {
        const m = seps.exec(s.slice(i));
        if (m && m.index === 0) { parts.push(s.slice(start, i)); i += m[0].length - 1; start = i + 1; continue; }
      }
      i++;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0) {
      const m = seps.exec(s.slice(i, i + 8));
      if (m && m.index === 0) { parts.push(s.slice(start, i)); i += m[0].length - 1; start = i + 1; }
    }
  }
  parts.push(s.slice(start));
  return parts.map((p) => p.trim());
}

/** Index of the bracket that closes the one at 0, or -1. */
function closingIndex(s: string): number {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') { i++; continue; }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') { depth--; if (depth === 0) return i; }
  }
  return -1;
}

const LABEL_RE = /^(?:[A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?|[A-Za-z]\s*\(\s*[A-Za-z]\s*\))$/;

/**
 * Words make a text answer: a run of 3+ letters that is not a LaTeX command or a function name.
 * Shorter runs are products of variables (`xy`), as in written math.
 */
function isWordy(s: string): boolean {
  const words = s.replace(/\\[A-Za-z]+/g, ' ').match(/[A-Za-z]{3,}/g) ?? [];
  return words.some((w) => !KNOWN_NAMES.has(w) && !/^(?:sqrt|log|exp|sin|cos|tan|sec|csc|cot)/.test(w));
}

function parseScalar(s: string): Answer {
  let percent = false;
  let body = s;
  if (/%\s*$/.test(body)) { percent = true; body = body.replace(/%\s*$/, '').trim(); }
  if (body.includes('%')) throw new AnswerParseError('percent sign inside an expression');
  if (body === '') throw new AnswerParseError('empty answer');
  try {
    return { kind: 'expr', expr: latexToMathjs(body), percent };
  } catch (e) {
    if (e instanceof LatexError) throw new AnswerParseError(e.message);
    throw e;
  }
}

/** Parse a normalised answer; throws {@link AnswerParseError} when it is not a readable answer. */
export function parseStructure(s: string, depth = 0): Answer {
  if (depth > 6) throw new AnswerParseError('answer nested too deeply');
  s = s.trim();
  if (s === '') throw new AnswerParseError('empty answer');

  const pieces = splitTop(s, /^\\cup\b/);
  if (pieces.length > 1) return { kind: 'union', items: pieces.map((p) => parseStructure(p, depth + 1)) };

  if (s.startsWith('\\{') && s.endsWith('\\}')) {
    const inner = s.slice(2, -2).trim();
    return { kind: 'set', items: inner === '' ? [] : splitTop(inner, /^[,;]/).map((p) => parseStructure(p, depth + 1)) };
  }

  const list = splitTop(s, /^(?:,|;|\s+or\s+|\s+and\s+|\\text\{\s*(?:or|and)\s*\})/);
  if (list.length > 1) return { kind: 'list', items: list.filter((p) => p !== '').map((p) => parseStructure(p, depth + 1)) };

  if ((s[0] === '(' || s[0] === '[') && (s.endsWith(')') || s.endsWith(']')) && closingIndex(s) === s.length - 1) {
    const inner = s.slice(1, -1);
    const items = splitTop(inner, /^,/);
    if (items.length > 1) return { kind: 'tuple', open: s[0], close: s[s.length - 1], items: items.map((p) => parseStructure(p, depth + 1)) };
  }

  const pm = splitTop(s, /^\\pm/);
  if (pm.length === 2) {
    // `a \pm b` is the two answers a+b and a-b; a bare `\pm b` is b and -b.
    const a = pm[0] === '' ? '0' : pm[0];
    return { kind: 'list', items: [parseScalar(`${a}+(${pm[1]})`), parseScalar(`${a}-(${pm[1]})`)] };
  }

  if (/\\(?:le|ge|leq|geq|lt|gt|neq|ne)\b|[<>≤≥]/.test(s)) return { kind: 'text', text: textKey(s) };

  const eq = splitTop(s, /^=/);
  if (eq.length > 1) {
    const lhs = eq[0];
    const value = eq[eq.length - 1];
    if (LABEL_RE.test(lhs)) {
      const inner = parseStructure(value, depth + 1);
      if (inner.kind === 'expr') return { ...inner, label: lhs.replace(/[\s{}]/g, '') };
      return inner;
    }
    if (eq.length === 2) {
      const l = parseScalar(lhs);
      const r = parseScalar(value);
      if (l.kind === 'expr' && r.kind === 'expr' && !l.percent && !r.percent) return { kind: 'equation', lhs: l.expr, rhs: r.expr };
    }
    // A worked chain such as `12+35=47`: the last member is the answer.
    return parseStructure(value, depth + 1);
  }

  if (isWordy(s)) return { kind: 'text', text: textKey(s) };
  return parseScalar(s);
}

export function textKey(s: string): string {
  return s.toLowerCase()
    .replace(/\\text\{([^{}]*)\}/g, '$1')
    .replace(/\\(?:leq|le)(?![a-z])/g, '≤').replace(/\\(?:geq|ge)(?![a-z])/g, '≥')
    .replace(/\\(?:neq|ne)(?![a-z])/g, '≠').replace(/<=/g, '≤').replace(/>=/g, '≥')
    .replace(/[\s{}]/g, '');
}

export function parseAnswer(raw: string): Answer {
  return parseStructure(normalize(raw));
}
