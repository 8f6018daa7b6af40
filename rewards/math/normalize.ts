/**
 * From an extracted answer string to canonical text that `answer.ts` can structure: presentation
 * goes, meaning stays. Order matters (each step says why it sits where it does).
 *
 * - math delimiters (`$`, `\(…\)`, `\[…\]`), `\displaystyle`, `\left`/`\right`, `\dfrac`/`\tfrac`;
 * - the doubled backslash of JSON-escaped text before a known command (`\\frac` → `\frac`);
 * - thousands separators in every LaTeX spelling (`1,000`, `1{,}000`, `1{, }000`, `1\,000`,
 *   `1,\!000`, `1 000`), and a decimal comma (`2,74`, `0,111`) when the whole answer is one number;
 * - units: `\text{cm}`, `\mbox{ cm}^2`, `^\circ`, `°`, `\$`, trailing unit words (`dollars`,
 *   `square units`); `percent` / `pct` become `%`;
 * - `\text{13}` keeps 13; `\text{or}` / `\text{and}` become separators.
 */
import { KNOWN_NAMES } from './latex.js';

export const UNIT_WORDS = new Set([
  'dollar', 'dollars', 'cent', 'cents', 'usd', 'euro', 'euros', 'yuan', 'yen', 'unit', 'units', 'degree', 'degrees',
  'cm', 'mm', 'km', 'm', 'meter', 'meters', 'metre', 'metres', 'inch', 'inches', 'ft', 'feet', 'foot',
  'mile', 'miles', 'yard', 'yards', 'kg', 'g', 'gram', 'grams', 'lb', 'lbs', 'pound', 'pounds', 'oz',
  'ounce', 'ounces', 'l', 'ml', 'liter', 'liters', 'litre', 'litres', 'gallon', 'gallons', 's', 'sec',
  'second', 'seconds', 'min', 'minute', 'minutes', 'h', 'hr', 'hrs', 'hour', 'hours', 'day', 'days',
  'week', 'weeks', 'month', 'months', 'year', 'years', 'mph', 'kmh', 'square', 'sq', 'cubic',
  'people', 'students', 'apples', 'items', 'times', 'ways', 'points', 'meters', 'centimeters', 'inches',
]);
const PERCENT_WORD = /^(?:percent|percentage|pct)$/i;

/** Commands that a doubled backslash (`\\frac`) may stand for; a real `\\` line break is left alone elsewhere. */
const COMMANDS = 'boxed|fbox|frac|dfrac|tfrac|cfrac|sqrt|left|right|le|leq|ge|geq|lt|gt|ne|neq|text|textbf|mathrm|mbox|pi|infty|cdot|times|pm|mp|in|cup|cap|begin|end|quad|qquad|approx|circ|sin|cos|tan|log|ln|exp|dots|ldots|cdots|displaystyle|binom|theta|alpha|beta';
const DOUBLED = new RegExp(`(?<!\\\\)\\\\\\\\(?=(?:${COMMANDS})(?![A-Za-z]))`, 'g');

const ROW_BREAK = '\u0001';

const WRAPPER = /\\(?:text|textbf|textit|textrm|textnormal|mathrm|mathbf|mathit|mbox|operatorname)\s*\{([^{}]*)\}/g;

/** Strip presentation-only markup; the result is what `parseStructure` reads. */
export function normalize(raw: string): string {
  // A real `\\` (matrix row break) is set aside first, so that no rule below reads its second
  // backslash as the start of a command (`\\ \frac` is not `\ ` + `\frac`).
  let s = raw.trim().replace(DOUBLED, '\\').replace(/\\\\/g, ROW_BREAK);
  // Delimiters: every unescaped `$` (a box may hold `12 $ and $13`), and outer \( \) / \[ \].
  s = s.replace(/(?<!\\)\$/g, '').replace(/^\s*\\[([]\s*/, '').replace(/\s*\\[)\]]\s*$/, '');
  s = s.replace(/\\(?:displaystyle|textstyle|scriptstyle|limits)(?![A-Za-z])/g, '');
  s = s.replace(/\\[dtc]frac(?![A-Za-z])/g, '\\frac').replace(/\\lbrace/g, '\\{').replace(/\\rbrace/g, '\\}');
  // Thousands separators before the spacing commands they are spelled with go.
  s = s.replace(/(\d)\s*\{\s*,\s*\}\s*(?=\d{3}(?!\d))/g, '$1').replace(/(\d),\\!\s*(?=\d{3}(?!\d))/g, '$1');
  s = s.replace(/(\d)\\[,!]\s?(?=\d{3}(?!\d))/g, '$1');
  s = s.replace(/\\left\s*\.|\\right\s*\./g, '').replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big)(?![A-Za-z])\s*/g, '');
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree/g, '');
  s = s.replace(/\\\$/g, '').replace(/\\%/g, '%').replace(/\\!/g, '');
  s = s.replace(/\\q?quad|\\[,;: ]|~/g, ' ');
  // \text{…}-like wrappers: numbers and maths stay, connectives become commas, unit words go.
  s = s.replace(WRAPPER, (_m, inner: string) => {
    const t = inner.trim();
    if (/^(?:or|and)$/i.test(t)) return ` ${t.toLowerCase()} `;
    if (t === ',') return ',';
    if (PERCENT_WORD.test(t)) return '%';
    if (/^[A-Za-z][A-Za-z .]*$/.test(t) && t.split(/\s+/).every((w) => UNIT_WORDS.has(w.toLowerCase().replace(/\.$/, '')))) return ' \u0000';
    return ` ${t} `;
  });
  // A dropped unit takes its exponent with it: `5 \text{cm}^2` is 5.
  s = s.replace(/\u0000\s*(?:\^\s*(?:\{\s*\d+\s*\}|\d))?/g, '');
  s = unglueOr(s).replace(/\s+/g, ' ').trim().replace(/[.。,;:]+$/, '').trim();
  // Trailing words after a number: units go, percent words become `%`.
  for (;;) {
    const m = /^(.*[0-9)}%])\s*([A-Za-z]+)(?:\^\d|²|³)?$/.exec(s);
    if (!m) break;
    const w = m[2].toLowerCase();
    if (PERCENT_WORD.test(w)) { s = `${m[1].trim()}%`; break; }
    if (!UNIT_WORDS.has(w)) break;
    s = m[1].trim();
  }
  s = s.replace(/\s*[€£¥²³]\s*$/, '').replace(/^\s*[€£¥]\s*/, '');
  return wholeNumber(s).replaceAll(ROW_BREAK, '\\\\');
}

/**
 * One number written with separators becomes plain digits: `7,425,000`, `1 000`, and a decimal comma
 * where no list reads the same: `1000,99`, `0,111`. `1,22` stays the list 1, 22 (MATH writes roots
 * that way); in prose the last-number rule reads `2,74` as 2.74 itself.
 */
function wholeNumber(s: string): string {
  const m = /^(-?)(\d[\d, ]*)(\.\d+)?(%?)$/.exec(s);
  if (!m) return s;
  const [, sign, body, frac = '', pct] = m;
  if (/^\d{1,3}(?:,\d{3})+$/.test(body) && !body.startsWith('0,')) return `${sign}${body.replace(/,/g, '')}${frac}${pct}`;
  if (/^\d{1,3}(?: \d{3})+$/.test(body)) return `${sign}${body.replace(/ /g, '')}${frac}${pct}`;
  if (!frac && (/^\d{4,},\d{1,2}$/.test(body) || /^0,\d+$/.test(body))) return `${sign}${body.replace(',', '.')}${pct}`;
  return s;
}

/** `(11,7)or(7,11)`, `W(x)=1orW(x)=-1`: an `or` glued between two answers still separates them. */
export function unglueOr(s: string): string {
  return s.replace(/(?<=[\d)}\]])\s*or\s*(?=[A-Za-z(\[{\\\-\d])/g, ' or ');
}

/**
 * Does a short text read as one answer rather than prose? No word of 3+ letters except LaTeX
 * commands, function names and units, unless the whole text is a single word (`Yes`, `Monday`).
 */
export function looksLikeAnswer(text: string): boolean {
  const t = unglueOr(text.trim().replace(/[.!]$/, ''));
  if (/^[A-Za-z]{1,20}$/.test(t)) return true;
  const words = t.replace(/\\(?:begin|end)\{[A-Za-z*]+\}|\\[A-Za-z]+/g, ' ').match(/[A-Za-z]{3,}/g) ?? [];
  return words.every((w) => KNOWN_NAMES.has(w) || UNIT_WORDS.has(w.toLowerCase()) || PERCENT_WORD.test(w));
}
