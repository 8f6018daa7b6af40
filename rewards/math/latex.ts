/**
 * LaTeX (and plain-text math) to mathjs expression syntax, for the forms that final answers use:
 * `\frac`/`\dfrac`/`\tfrac`/`\cfrac` (also the `\frac12` shorthand), `\sqrt{}`/`\sqrt[n]{}`, `^{}`,
 * `_{}` subscripts, `\pi`, `\infty`, `\cdot`/`\times`/`\div`, `\left`/`\right`, `\exp`, `\ln`, `\log`
 * (base 10; `\log_b` takes a base), trig functions with or without parentheses (`\sin^2 x`),
 * `\binom`, `\text{}`-like wrappers, and the unicode symbols × · − ÷ π √ ∞; matrices
 * (`\begin{pmatrix}…\end{pmatrix}`, any bracket style, `array`) as mathjs arrays, so that a sum or
 * product of matrices evaluates; mixed numbers (`1\frac{1}{4}` is 5/4); numbers in a base (`204_5`).
 *
 * Anything else throws {@link LatexError}: an unknown command must never be silently dropped,
 * because dropping it can make two different answers look equal.
 *
 * Multi-letter identifiers that are not known functions or constants are split into a product of
 * single letters (`xy` → `x*y`), as in written math. Structure (sets, intervals, lists, equations,
 * percent) is handled before this, in `answer.ts`.
 *
 * @example latexToMathjs('\\dfrac{\\pi}{2}') // => '((pi)/(2))'
 */
export class LatexError extends Error {
  override name = 'LatexError';
}

const FUNCS: Record<string, string> = {
  sin: 'sin', cos: 'cos', tan: 'tan', sec: 'sec', csc: 'csc', cot: 'cot',
  arcsin: 'asin', arccos: 'acos', arctan: 'atan', sinh: 'sinh', cosh: 'cosh', tanh: 'tanh',
  ln: 'log', log: 'log10', exp: 'exp',
};
const SYMBOLS: Record<string, string> = {
  pi: ' pi ', infty: ' Infinity ', infinity: ' Infinity ', cdot: '*', times: '*', ast: '*', div: '/',
  circ: '', degree: '', ',': ' ', ';': ' ', ':': ' ', '!': '', ' ': ' ', quad: ' ', qquad: ' ',
  '{': '(', '}': ')', lbrace: '(', rbrace: ')', lvert: 'abs(', rvert: ')', displaystyle: '', mathrm: '',
};
const WRAPPERS = new Set(['text', 'textbf', 'textit', 'textrm', 'textnormal', 'mathrm', 'mathbf', 'mathit', 'mbox', 'operatorname', 'boxed', 'fbox']);
const UNICODE: Record<string, string> = { '×': '*', '·': '*', '⋅': '*', '−': '-', '–': '-', '÷': '/', 'π': ' pi ', '∞': ' Infinity ' };

/** Identifiers mathjs must see unsplit (what this converter emits plus what users type in plain text). */
export const KNOWN_NAMES = new Set([
  ...Object.values(FUNCS), 'sqrt', 'nthRoot', 'combinations', 'abs', 'pi', 'e', 'i', 'Infinity',
]);

class Scanner {
  i = 0;
  constructor(readonly s: string) {}
  peek(): string { return this.s[this.i] ?? ''; }
  skipSpace(): void { while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\n') this.i++; }
  done(): boolean { return this.i >= this.s.length; }

  /** Raw text of a `{…}` group (braces stripped), or of the next single token. */
  rawGroup(): string {
    this.skipSpace();
    const c = this.peek();
    if (c === '{') return this.balanced('{', '}');
    if (c === '\\') {
      const start = this.i;
      this.i++;
      const m = /^[a-zA-Z]+/.exec(this.s.slice(this.i));
      this.i += m ? m[0].length : 1;
      return this.s.slice(start, this.i);
    }
    if (c === '') throw new LatexError('missing argument');
    this.i++;
    return c;
  }

  balanced(open: string, close: string): string {
    let depth = 0;
    const start = this.i;
    for (; this.i < this.s.length; this.i++) {
      const c = this.s[this.i];
      if (c === '\\') { this.i++; continue; }
      if (c === open) depth++;
      else if (c === close && --depth === 0) {
        this.i++;
        return this.s.slice(start + 1, this.i - 1);
      }
    }
    throw new LatexError(`unbalanced ${open}`);
  }
}

/** One argument of a command such as \frac: a brace group or a single token, converted. */
function arg(sc: Scanner): string {
  return `(${convert(sc.rawGroup())})`;
}

/** A function's argument when written without parentheses: `\sin x`, `\sin 2x`, `\ln\pi`. */
function funcArg(sc: Scanner): string {
  sc.skipSpace();
  const c = sc.peek();
  if (c === '(') return `(${convert(sc.balanced('(', ')'))})`;
  if (c === '{') return arg(sc);
  if (sc.s.startsWith('\\left', sc.i)) {
    sc.i += 5;
    sc.skipSpace();
    const open = sc.peek();
    const close = open === '(' ? ')' : open === '[' ? ']' : '';
    if (!close) throw new LatexError('unsupported \\left delimiter');
    const start = sc.i;
    const end = sc.s.indexOf(`\\right${close}`, start);
    if (end < 0) throw new LatexError('unbalanced \\left');
    sc.i = end + 7;
    return `(${convert(sc.s.slice(start + 1, end))})`;
  }
  const m = /^[0-9.]*[a-zA-Z]?/.exec(sc.s.slice(sc.i));
  if (m && m[0].length > 0) {
    sc.i += m[0].length;
    return `(${convert(m[0])})`;
  }
  if (c === '\\') return arg(sc);
  throw new LatexError('function without argument');
}

function command(sc: Scanner): string {
  sc.i++; // backslash
  const m = /^[a-zA-Z]+/.exec(sc.s.slice(sc.i));
  const name = m ? m[0] : sc.peek();
  sc.i += name.length;
  if (name === '') throw new LatexError('trailing backslash');

  if (name === 'frac' || name === 'dfrac' || name === 'tfrac' || name === 'cfrac') {
    const a = arg(sc);
    const b = arg(sc);
    return `(${a}/${b})`;
  }
  if (name === 'sqrt') {
    sc.skipSpace();
    if (sc.peek() === '[') {
      const n = sc.balanced('[', ']');
      return ` nthRoot(${convert(sc.rawGroup())}, ${convert(n)})`;
    }
    return ` sqrt${arg(sc)}`;
  }
  if (name === 'binom' || name === 'dbinom' || name === 'tbinom') {
    const a = arg(sc);
    const b = arg(sc);
    return ` combinations(${a}, ${b})`;
  }
  if (WRAPPERS.has(name)) return `(${convert(sc.rawGroup())})`;
  if (name === 'begin') return environment(sc);
  if (name === 'left' || name === 'right' || name === 'big' || name === 'Big' || name === 'bigl' || name === 'bigr') {
    sc.skipSpace();
    if (sc.peek() === '.') sc.i++;
    if (sc.peek() === '|') { sc.i++; return name === 'left' ? ' abs(' : ')'; }
    return '';
  }
  if (name in FUNCS) {
    let fn = FUNCS[name];
    let power = '';
    let base = '';
    sc.skipSpace();
    if (name === 'log' && sc.peek() === '_') {
      sc.i++;
      base = convert(sc.rawGroup());
      fn = 'log';
    }
    sc.skipSpace();
    if (sc.peek() === '^') {
      sc.i++;
      power = arg(sc);
    }
    const a = funcArg(sc);
    const call = base ? ` ${fn}(${a}, ${base})` : ` ${fn}${a}`;
    // `\sin^{-1}` is the inverse function, not a reciprocal.
    if (power === '(-1)' && FUNCS[`arc${name}`]) return ` ${FUNCS[`arc${name}`]}${a}`;
    return power ? `(${call})^${power}` : call;
  }
  if (name in SYMBOLS) return SYMBOLS[name];
  throw new LatexError(`unsupported LaTeX command \\${name}`);
}

const MATRIX_ENVS = /^(?:[pbBvV]?matrix|smallmatrix|array)$/;

/** `\begin{pmatrix} a & b \\ c & d \end{pmatrix}` → `[[a, b], [c, d]]` (a column vector is n×1). */
function environment(sc: Scanner): string {
  const env = sc.rawGroup();
  if (!MATRIX_ENVS.test(env)) throw new LatexError(`unsupported environment ${env}`);
  sc.skipSpace();
  if (env === 'array' && sc.peek() === '{') sc.rawGroup(); // column spec
  const endTag = `\\end{${env}}`;
  const end = sc.s.indexOf(endTag, sc.i);
  if (end < 0) throw new LatexError(`unclosed ${env}`);
  const body = sc.s.slice(sc.i, end);
  sc.i = end + endTag.length;
  const rows = body.split('\\\\').map((r) => r.trim()).filter((r) => r !== '' && r !== '\\hline');
  if (rows.length === 0) throw new LatexError('empty matrix');
  const cells = rows.map((r) => r.split('&').map((c) => convert(c)));
  if (cells.some((r) => r.length !== cells[0].length)) throw new LatexError('ragged matrix');
  return ` [${cells.map((r) => `[${r.map((c) => `(${c})`).join(', ')}]`).join(', ')}] `;
}

/** `1\frac{1}{4}`: an integer written right before a fraction of integers is a mixed number. */
const MIXED = /^\\frac\s*(?:\{\s*(\d+)\s*\}|(\d))\s*(?:\{\s*(\d+)\s*\}|(\d))/;
const TRAILING_INT = /(^|[^A-Za-z0-9_.)\]])(\d+)$/;

/** `204_5`: digits followed by a numeric subscript 2..36 are a number in that base. */
function inBase(digits: string, base: number): string | null {
  if (!(base >= 2 && base <= 36)) return null;
  let v = 0n;
  for (const ch of digits.toLowerCase()) {
    const d = parseInt(ch, 36);
    if (!(d < base)) return null;
    v = v * BigInt(base) + BigInt(d);
  }
  return v.toString();
}

function splitIdentifiers(expr: string): string {
  return expr.replace(/[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)?/g, (id) => {
    if (KNOWN_NAMES.has(id) || /^[A-Za-z](?:_[A-Za-z0-9]+)?$/.test(id) || /^log10$/.test(id)) return id;
    if (/^[A-Za-z]+$/.test(id)) {
      // Longest known names first (`pix` → `pi*x`), otherwise single letters.
      const parts: string[] = [];
      let rest = id;
      while (rest) {
        const known = [...KNOWN_NAMES].filter((k) => rest.startsWith(k) && k.length > 1).sort((a, b) => b.length - a.length)[0];
        const take = known ?? rest[0];
        parts.push(take);
        rest = rest.slice(take.length);
      }
      return parts.map((p) => ` ${p} `).join('*');
    }
    throw new LatexError(`unsupported identifier ${id}`);
  });
}

/** Convert without the final identifier split (used recursively). */
function convert(s: string): string {
  const sc = new Scanner(s);
  let out = '';
  while (!sc.done()) {
    const c = sc.peek();
    if (c === '\\') {
      const mixed = MIXED.exec(sc.s.slice(sc.i));
      const whole = mixed ? TRAILING_INT.exec(out) : null;
      if (mixed && whole) {
        sc.i += mixed[0].length;
        out = `${out.slice(0, out.length - whole[2].length)}(${whole[2]} + (${mixed[1] ?? mixed[2]})/(${mixed[3] ?? mixed[4]}))`;
      } else {
        const piece = command(sc);
        // Two matrices side by side are a product (mathjs would read `[…] […]` as indexing).
        out += piece.startsWith(' [') && /[\])\w]\s*$/.test(out) ? ` *${piece}` : piece;
      }
    }
    else if (c === '{') out += `(${convert(sc.balanced('{', '}'))})`;
    else if (c === '}') throw new LatexError('unbalanced }');
    else if (c === '^') {
      sc.i++;
      sc.skipSpace();
      // Plain-text `2^10` means 1024, not LaTeX's 2¹0: take a whole number.
      const num = /^[0-9]+(?:\.[0-9]+)?/.exec(sc.s.slice(sc.i));
      if (num) { sc.i += num[0].length; out += `^(${num[0]})`; }
      else out += `^${arg(sc)}`;
    } else if (c === '_') {
      sc.i++;
      const sub = sc.rawGroup().trim();
      if (!/^[A-Za-z0-9]+$/.test(sub)) throw new LatexError(`unsupported subscript ${sub}`);
      const num = TRAILING_INT.exec(out);
      const based = num && /^\d+$/.test(sub) ? inBase(num[2], Number(sub)) : null;
      if (num && /^\d+$/.test(sub) && based === null) throw new LatexError(`${num[2]} is not a number in base ${sub}`);
      out = based !== null && num ? `${out.slice(0, out.length - num[2].length)}${based}` : `${out}_${sub}`;
    } else if (c in UNICODE) { out += UNICODE[c]; sc.i++; }
    else if (c === '√') { sc.i++; out += ` sqrt${funcArg(sc)}`; }
    else if (c === '[') { out += '('; sc.i++; }
    else if (c === ']') { out += ')'; sc.i++; }
    else if (/[0-9A-Za-z.+\-*/()!=, \t\n]/.test(c)) { out += c; sc.i++; }
    else throw new LatexError(`unsupported character ${JSON.stringify(c)}`);
  }
  return out;
}

/** `|x|` → `abs(x)`: bars alternate between opening and closing (nested bars are not supported). */
function bars(s: string): string {
  let open = false;
  return s.replace(/\\?\|/g, () => ((open = !open) ? ' abs(' : ')'));
}

export function latexToMathjs(s: string): string {
  // Scientific notation before identifier splitting would read `1e3` as 1·e·3.
  const sci = s.replace(/(\d)[eE]([+-]?\d+)(?![\d.])/g, '$1*10^{$2}');
  const out = splitIdentifiers(convert(bars(sci)))
    // A variable before a parenthesis multiplies it: `n(n+1)`; functions were emitted with their own names.
    .replace(/(^|[^A-Za-z0-9_])([A-Za-z](?:_[A-Za-z0-9]+)?)\s*\(/g, (m, pre: string, id: string) => (KNOWN_NAMES.has(id) ? m : `${pre}${id}*(`));
  return out.replace(/\s+/g, ' ').trim();
}
