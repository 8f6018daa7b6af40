/**
 * From an answer string to a structured {@link Answer}: `normalize` (normalize.ts), then structure.
 * How each kind is judged is in compare.ts and rewards/README.md.
 *
 * - `set` `\{a, b\}` (also a bare `{a, b}`): unordered, duplicates ignored; the written order is
 *   kept for a comparison with an ordered tuple.
 * - `list` `a, b` / `a; b` / `a or b` / `a and b` / `a \pm b`: an unordered multiset.
 * - `assign` `p = 5, q = 2`: values keyed by distinct variable names.
 * - `tuple` `(a, b)`, `[a, b)`…: ordered; the brackets must match (they also write intervals).
 * - `union` `A \cup B`: an unordered set of its pieces.
 * - `matrix` `\begin{pmatrix}…\end{pmatrix}` (any bracket style, `array` too).
 * - `relation` `x > 2`, `-2 \le x \le 7`, `x \ne 3`: a chain of comparisons.
 * - `ratio` `7:32`, `12:00`.
 * - `x = 3`: the label (a variable name, `f(x)`, `(p,q)`, `|AB|`, `\frac{NO}{BO}`) is dropped onto
 *   the value; `x \in [a, b]` likewise. A chain `a = b = c` keeps its last member; an equation of
 *   constants (`12+35=47`) is its right side; other equations (`x + y = 3`) are `equation`s.
 * - `text`: words (`Yes`, `Evelyn`); compared as lower-case strings without spaces.
 */
import { latexToMathjs, LatexError, KNOWN_NAMES } from './latex.js';
import { normalize } from './normalize.js';

export type Scalar = { kind: 'expr'; expr: string; percent: boolean; label?: string };
export type RelOp = '<' | '<=' | '>' | '>=' | '!=';

export type Answer =
  | Scalar
  | { kind: 'equation'; lhs: string; rhs: string }
  | { kind: 'tuple'; open: string; close: string; items: Answer[]; label?: string }
  | { kind: 'set' | 'list' | 'union'; items: Answer[] }
  | { kind: 'assign'; entries: Array<{ label: string; value: Answer }> }
  | { kind: 'matrix'; rows: Answer[][] }
  | { kind: 'relation'; exprs: string[]; ops: RelOp[]; text: string }
  | { kind: 'ratio'; parts: Answer[] }
  | { kind: 'text'; text: string };

export class AnswerParseError extends Error {
  override name = 'AnswerParseError';
}

/**
 * Top-level pieces of `s` split where `sep` matches outside (), [], {}, \{ \} and environments;
 * the separators themselves are pushed to `seps` when given.
 */
export function splitTop(s: string, sep: RegExp, seps?: string[]): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      if (s.startsWith('\\begin', i)) depth++;
      else if (s.startsWith('\\end', i)) depth--;
      else if (s[i + 1] === '{') depth++;
      else if (s[i + 1] === '}') depth--;
      else if (depth === 0) {
        const m = sep.exec(s.slice(i, i + 12));
        if (m && m.index === 0) { parts.push(s.slice(start, i)); seps?.push(m[0]); i += m[0].length - 1; start = i + 1; continue; }
      }
      i++;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0) {
      const m = sep.exec(s.slice(i, i + 12));
      if (m && m.index === 0) { parts.push(s.slice(start, i)); seps?.push(m[0]); i += m[0].length - 1; start = i + 1; }
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

/** Does the `\\{` that opens `s` close at its very end (`\\{1\\} \\cup \\{2\\}` does not)? */
function closesAtEnd(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length - 1; i++) {
    if (s[i] !== '\\') continue;
    if (s[i + 1] === '{') depth++;
    else if (s[i + 1] === '}' && --depth === 0) return i === s.length - 2;
    i++;
  }
  return false;
}

/** A plain variable name: `x`, `y_1`, `a_{37}`. */
export const SIMPLE_LABEL = /^[A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?$/;

/**
 * Is the left side of `=` a name for the value rather than an expression to solve? No digit outside
 * subscripts and argument lists, no `+`/`-` at the top level, at least one letter: `x`, `f(x)`,
 * `(p,q)`, `|AB|`, `S_{MBCN}:S`, `\frac{NO}{BO}`; not `2x`, `x + y`, `a^2 + b`.
 */
function isLabel(lhs: string): boolean {
  const bare = lhs.replace(/_\{[^{}]*\}|_[A-Za-z0-9]/g, '').replace(/\([^()]*\)/g, (g) => (/\d/.test(g) ? '0' : 'v'));
  if (!/[A-Za-z]/.test(bare) || /\d/.test(bare.replace(/\\[A-Za-z]+/g, ''))) return false;
  return splitTop(lhs, /^[+\-=<>]/).length === 1 && !/\\(?:le|ge|lt|gt|ne)/.test(lhs);
}

function labelKey(s: string): string {
  return s.replace(/[\s{}]/g, '');
}

/**
 * Words make a text answer: a run of 3+ letters that is not a LaTeX command or a function name.
 * Shorter runs are products of variables (`xy`), as in written math.
 */
function isWordy(s: string): boolean {
  const words = s.replace(/\\(?:begin|end)\{[A-Za-z*]+\}|\\[A-Za-z]+/g, ' ').match(/[A-Za-z]{3,}/g) ?? [];
  return words.some((w) => !KNOWN_NAMES.has(w) && !/^(?:sqrt|log|exp|sin|cos|tan|sec|csc|cot)/.test(w));
}

export function textKey(s: string): string {
  return s.toLowerCase()
    .replace(/\\text\{([^{}]*)\}/g, '$1')
    .replace(/\\(?:leq|le)(?![a-z])/g, '≤').replace(/\\(?:geq|ge)(?![a-z])/g, '≥')
    .replace(/\\(?:neq|ne)(?![a-z])/g, '≠').replace(/<=/g, '≤').replace(/>=/g, '≥').replace(/!=/g, '≠')
    .replace(/\\lt(?![a-z])/g, '<').replace(/\\gt(?![a-z])/g, '>')
    .replace(/[\s{}]/g, '');
}

function parseScalar(s: string): Scalar {
  let percent = false;
  let body = s.trim();
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

const REL_SPLIT = /^(?:\\(?:leq|le|geq|ge|lt|gt|neq|ne)(?![A-Za-z])|<=|>=|!=|[<>≤≥≠])/;
const REL_OPS: Record<string, RelOp> = {
  '\\le': '<=', '\\leq': '<=', '<=': '<=', '≤': '<=', '\\ge': '>=', '\\geq': '>=', '>=': '>=', '≥': '>=',
  '\\lt': '<', '<': '<', '\\gt': '>', '>': '>', '\\ne': '!=', '\\neq': '!=', '!=': '!=', '≠': '!=',
};

function parseRelation(s: string): Answer {
  const seps: string[] = [];
  const exprs = splitTop(s, REL_SPLIT, seps);
  // `f(x)` in a relation names one quantity: read it as one variable.
  const asVar = (e: string) => (/^[A-Za-z]\s*\(\s*[A-Za-z]\s*\)$/.test(e) ? 'v_f' : e);
  // `f(2) < f(1)` compares values of an unknown function, not a variable `f`: text only.
  const applies = (e: string) => /(?<![A-Za-z])[A-Za-z]\s*\(/.test(e.replace(/\\[A-Za-z]+/g, ' '));
  if (exprs.some((e) => asVar(e) === e && applies(e))) return { kind: 'text', text: textKey(s) };
  try {
    return { kind: 'relation', exprs: exprs.map((e) => latexToMathjs(asVar(e))), ops: seps.map((o) => REL_OPS[o]), text: textKey(s) };
  } catch {
    return { kind: 'text', text: textKey(s) }; // a relation between things we cannot evaluate: compared as text
  }
}

function parseMatrix(s: string): Answer | null {
  const m = /^\\begin\{([a-zA-Z]*matrix|array)\}(?:\{[^{}]*\})?([\s\S]*)\\end\{\1\}$/.exec(s.trim());
  if (!m || /\\(?:begin|end)\{/.test(m[2])) return null; // several matrices: an expression (latex.ts)
  const rows = m[2].split(/\\\\/).map((r) => r.trim()).filter((r) => r !== '' && r !== '\\hline');
  return { kind: 'matrix', rows: rows.map((r) => r.split('&').map((cell) => parseScalar(cell))) };
}

function withLabel(a: Answer, label: string): Answer {
  if (a.kind === 'expr') return { ...a, label };
  if (a.kind === 'tuple') return { ...a, label };
  return a;
}

/** Items of a list; distinct variable names make an `assign`, `±` pieces are flattened in. */
function listOf(items: Answer[]): Answer {
  const flat = items.flatMap((a) => (a.kind === 'list' ? a.items : [a]));
  const labels = flat.map((a) => (a.kind === 'expr' ? a.label : undefined));
  if (labels.every((l) => l !== undefined) && new Set(labels).size === labels.length && flat.length > 1) {
    return { kind: 'assign', entries: flat.map((a, k) => ({ label: labels[k] as string, value: { ...(a as Scalar), label: undefined } })) };
  }
  return { kind: 'list', items: flat };
}

const LIST_SEP = /^(?:,\s*(?:and|or)\s+|,|\s+or\s+|\s+and\s+)/;

/** Parse a normalised answer; throws {@link AnswerParseError} when it is not a readable answer. */
export function parseStructure(s: string, depth = 0): Answer {
  if (depth > 8) throw new AnswerParseError('answer nested too deeply');
  s = s.trim();
  if (s === '') throw new AnswerParseError('empty answer');

  // An approximation adds nothing: `x = 1/3 \approx 0.33` is 1/3, `x \approx 11` is 11.
  const approx = splitTop(s, /^(?:\\approx(?![A-Za-z])|≈)/);
  if (approx.length > 1) return parseStructure(SIMPLE_LABEL.test(approx[0]) || approx[0] === '' ? approx[approx.length - 1] : approx[0], depth + 1);

  const semis = splitTop(s, /^;/);
  if (semis.length > 1) return listOf(semis.filter((p) => p !== '').map((p) => asItem(parseStructure(p, depth + 1))));

  const list = splitTop(s, LIST_SEP);
  if (list.length > 1) return listOf(list.filter((p) => p !== '').map((p) => parseStructure(p, depth + 1)));

  const member = splitTop(s, /^\\in(?![A-Za-z])/);
  if (member.length === 2 && isLabel(member[0])) return withLabel(parseStructure(member[1], depth + 1), labelKey(member[0]));

  const pieces = splitTop(s, /^\\cup(?![A-Za-z])/);
  if (pieces.length > 1) return { kind: 'union', items: pieces.map((p) => parseStructure(p, depth + 1)) };

  if (s.startsWith('\\{') && s.endsWith('\\}') && closesAtEnd(s)) {
    const inner = s.slice(2, -2).trim();
    return { kind: 'set', items: inner === '' ? [] : splitTop(inner, /^[,;]/).map((p) => parseStructure(p, depth + 1)) };
  }
  if (s.startsWith('{') && s.endsWith('}') && closingIndex(s) === s.length - 1) {
    const items = splitTop(s.slice(1, -1), /^[,;]/);
    return items.length > 1 ? { kind: 'set', items: items.map((p) => parseStructure(p, depth + 1)) } : parseStructure(s.slice(1, -1), depth + 1);
  }

  const matrix = parseMatrix(s);
  if (matrix) return matrix;

  if ((s[0] === '(' || s[0] === '[') && (s.endsWith(')') || s.endsWith(']')) && closingIndex(s) === s.length - 1) {
    const inner = s.slice(1, -1);
    const items = splitTop(inner, /^[,;]/);
    if (items.length > 1) return { kind: 'tuple', open: s[0], close: s[s.length - 1], items: items.map((p) => parseStructure(p, depth + 1)) };
    // `(C)`, `\left( \frac13 \right)`, a matrix in brackets: the brackets only group.
    if ((s[0] === '(' && s.endsWith(')')) || inner.trimStart().startsWith('\\begin')) return parseStructure(inner, depth + 1);
  }

  const pm = splitTop(s, /^\\(?:pm|mp)(?![A-Za-z])/);
  if (pm.length === 2) {
    // `a \pm b` is the two answers a+b and a-b; a bare `\pm b` is b and -b.
    const a = pm[0] === '' ? '0' : pm[0];
    return { kind: 'list', items: [parseScalar(`${a}+(${pm[1]})`), parseScalar(`${a}-(${pm[1]})`)] };
  }
  // One `\pm` inside an expression (`\frac{-1 \pm \sqrt{13}}{4}`): the two expressions it stands for.
  const inner = /\\(pm|mp)(?![A-Za-z])/.exec(s);
  if (inner && s.indexOf('\\pm', inner.index + 3) < 0 && s.indexOf('\\mp', inner.index + 3) < 0 && !/[<>=]|\\(?:le|ge|ne)/.test(s)) {
    const [first, second] = inner[1] === 'pm' ? ['+', '-'] : ['-', '+'];
    const at = (op: string) => `${s.slice(0, inner.index)}${op}${s.slice(inner.index + inner[0].length)}`;
    return { kind: 'list', items: [parseStructure(at(first), depth + 1), parseStructure(at(second), depth + 1)] };
  }

  if (splitTop(s, REL_SPLIT).length > 1) return parseRelation(s);

  const eq = splitTop(s, /^=/);
  if (eq.length > 1) {
    const lhs = eq[0];
    const value = eq[eq.length - 1];
    if (isLabel(lhs)) return withLabel(parseStructure(value, depth + 1), labelKey(lhs));
    if (eq.length === 2 && !isWordy(s)) {
      const l = parseScalar(lhs);
      const r = parseScalar(value);
      // Constants on both sides are a worked computation (`12+35=47`): its result is the answer.
      if (!/[A-Za-z]/.test(`${l.expr}${r.expr}`.replace(/\b(?:pi|e|sqrt|nthRoot|log|log10|exp|sin|cos|tan|abs|combinations|Infinity)\b/g, ''))) return r;
      if (!l.percent && !r.percent) return { kind: 'equation', lhs: l.expr, rhs: r.expr };
    }
    return parseStructure(value, depth + 1); // a chain such as `1 = \zzz = x = 0`: the last member
  }

  const ratio = splitTop(s, /^:(?!=)/);
  if (ratio.length === 2 && ratio.every((p) => p !== '')) return { kind: 'ratio', parts: ratio.map((p) => parseScalar(p)) };

  if (isWordy(s)) return { kind: 'text', text: textKey(s) };
  return parseScalar(s);
}

/** Inside a `;` list, `p=5,q=2` is one solution: an assignment stays, a plain list becomes a tuple. */
function asItem(a: Answer): Answer {
  return a.kind === 'list' ? { kind: 'tuple', open: '(', close: ')', items: a.items } : a;
}

export function parseAnswer(raw: string): Answer {
  return parseStructure(normalize(raw));
}
