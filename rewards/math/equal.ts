/**
 * Equality of two scalar expressions (mathjs syntax, from latex.ts), of two equations, and of two
 * constant matrices. Structure (sets, tuples, relations…) is compared in compare.ts.
 *
 * In order:
 * 1. identical mathjs syntax trees → equal (also decides `9^9^9^9` against itself without evaluating);
 * 2. no free variables → both sides evaluated with 64-digit BigNumbers (mathjs/decimal.js), compared
 *    with relative tolerance `rtol`. 64 digits and exponents up to 9e15 keep `1/2004!` and `1/2006!`
 *    apart where float64 rounds both to 0; an absolute floor of 1e-50 absorbs the rounding residue of
 *    transcendental constants (`\sin(\pi)` vs `0`);
 * 3. free variables → float64 evaluation at 8 seeded random points in [0.3, 2.7] (avoiding the
 *    integers where identities like x^x = x hide); equal when every point where both sides are finite
 *    agrees within max(rtol, 1e-9) and at least 3 such points exist.
 *
 * Guards against expressions that explode (each refusal is an `error` verdict with a reason):
 * at most 300 syntax nodes; only whitelisted functions and operators (no assignment, no function
 * definitions, no `import`); factorial and binomial arguments at most 5000; a value that overflows
 * even 64-digit BigNumbers (9e15-digit exponents), or is NaN, cannot be compared.
 * BigNumber precision bounds the cost of every operation, so `9^9^9` is cheap.
 * A constant expression that evaluates to a matrix (`A + B`, `A B` of written matrices) is compared
 * entry by entry at the same tolerance.
 */
import { Rng } from '../../engine/rng.js';
import { createRequire } from 'node:module';
import type * as MathJs from 'mathjs';
import type { MathNode, MathJsInstance } from 'mathjs';

export type Decision = { equal: true; how: string } | { equal: false; why: string };

export class UndecidableError extends Error {
  override name = 'UndecidableError';
}

// mathjs's ESM entry is ~900 modules and takes 1–2 s to import through the module loader (and tsx's
// hooks); its CommonJS build is the same code and loads about twice as fast. Not the single-file
// browser bundle: it reads BigNumber literals through float64 (1e-400 → 0, 2004! → Infinity), which
// the test table catches. Loaded on first use, so the plain-number fast path never pays for it.
interface Engines { big: MathJsInstance; big2: MathJsInstance | null; flt: MathJsInstance }
let engines: Engines | null = null;

/** Load mathjs now (pool workers call this before they report ready, so no task's clock pays for it). */
export function warmMath(): Engines {
  if (engines) return engines;
  const { create, all } = createRequire(import.meta.url)('mathjs') as typeof MathJs;
  engines = { big: create(all, { number: 'BigNumber', precision: 64 }), big2: null, flt: create(all, { number: 'number' }) };
  return engines;
}

/** Used only to tell a rounding residue from a genuinely tiny value (see {@link closeBig}). */
function big2(): MathJsInstance {
  const e = warmMath();
  if (!e.big2) {
    const { create, all } = createRequire(import.meta.url)('mathjs') as typeof MathJs;
    e.big2 = create(all, { number: 'BigNumber', precision: 128 });
  }
  return e.big2;
}

const MAX_NODES = 300;
const MAX_FACTORIAL = 5000;
const ALLOWED_FUNCS = new Set([
  'sqrt', 'nthRoot', 'exp', 'log', 'log10', 'abs', 'combinations',
  'sin', 'cos', 'tan', 'sec', 'csc', 'cot', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh',
]);
const ALLOWED_OPS = new Set(['add', 'subtract', 'multiply', 'divide', 'pow', 'unaryMinus', 'unaryPlus', 'factorial']);
const CONSTANTS = new Set(['pi', 'e', 'i', 'Infinity']);
const VAR_RE = /^[A-Za-z](?:_[A-Za-z0-9]+)?$/;

interface Compiled {
  big: MathNode;
  key: string;
  vars: string[];
}

/**
 * Compiled expressions by source text. Gold answers repeat across the G completions of a prompt and
 * a group's completions often agree, so most comparisons find one side, often both, here. A refusal
 * (UndecidableError) is remembered too.
 */
const compiled = new Map<string, Compiled | UndecidableError>();
const COMPILED_MAX = 4096;

/** Parse, check against the whitelist and the size guards, and collect free variables (cached). */
export function compile(expr: string): Compiled {
  const hit = compiled.get(expr);
  if (hit instanceof UndecidableError) throw hit;
  if (hit) return hit;
  let c: Compiled | UndecidableError;
  try {
    c = compileUncached(expr);
  } catch (e) {
    if (!(e instanceof UndecidableError)) throw e;
    c = e;
  }
  if (compiled.size >= COMPILED_MAX) compiled.clear();
  compiled.set(expr, c);
  if (c instanceof UndecidableError) throw c;
  return c;
}

function compileUncached(expr: string): Compiled {
  const { big, flt } = warmMath();
  let node: MathNode;
  try {
    node = big.parse(expr);
  } catch (e) {
    throw new UndecidableError(`cannot parse ${JSON.stringify(expr)}: ${(e as Error).message}`);
  }
  let count = 0;
  const vars = new Set<string>();
  node.traverse((n: MathNode, _path: string, parent: MathNode | null) => {
    if (++count > MAX_NODES) throw new UndecidableError(`expression too large (> ${MAX_NODES} nodes)`);
    const t = n.type;
    if (t === 'OperatorNode') {
      const fn = (n as unknown as { fn: string }).fn;
      if (!ALLOWED_OPS.has(fn)) throw new UndecidableError(`operator ${fn} not allowed`);
    } else if (t === 'FunctionNode') {
      const name = (n as unknown as { fn: { name?: string } }).fn.name ?? '';
      if (!ALLOWED_FUNCS.has(name)) throw new UndecidableError(`function ${name || '(computed)'} not allowed`);
    } else if (t === 'SymbolNode') {
      const name = (n as unknown as { name: string }).name;
      const isCallee = parent?.type === 'FunctionNode' && (parent as unknown as { fn: MathNode }).fn === n;
      if (isCallee) return;
      if (!CONSTANTS.has(name)) {
        if (!VAR_RE.test(name)) throw new UndecidableError(`symbol ${name} not allowed`);
        vars.add(name);
      }
    } else if (t === 'ConstantNode') {
      const v = (n as unknown as { value: unknown }).value;
      if (typeof v === 'string' || typeof v === 'boolean' || v === null || v === undefined) throw new UndecidableError('non-numeric constant');
    } else if (t !== 'ParenthesisNode' && t !== 'ArrayNode') {
      throw new UndecidableError(`${t} not allowed`);
    }
  });
  // Factorial / binomial guard: their constant arguments are evaluated cheaply in float64 first.
  node.traverse((n: MathNode) => {
    const isFact = n.type === 'OperatorNode' && (n as unknown as { fn: string }).fn === 'factorial';
    const isBinom = n.type === 'FunctionNode' && (n as unknown as { fn: { name: string } }).fn.name === 'combinations';
    if (!isFact && !isBinom) return;
    for (const a of (n as unknown as { args: MathNode[] }).args) {
      let v: unknown;
      try { v = flt.evaluate(a.toString(), Object.fromEntries([...vars].map((x) => [x, 1.5]))); } catch { continue; }
      if (typeof v === 'number' && !(Math.abs(v) <= MAX_FACTORIAL)) {
        throw new UndecidableError(`factorial/binomial argument too large (> ${MAX_FACTORIAL})`);
      }
    }
  });
  return { big: node, key: node.toString({ parenthesis: 'auto' }), vars: [...vars].sort() };
}

type BigNumber = import('mathjs').BigNumber;

/** One evaluated value as [re, im]; a matrix value as rows of them. */
type Value = { matrix: false; v: BigPair } | { matrix: true; rows: BigPair[][] };

function toPair(v: unknown, key: string): BigPair {
  const { big } = warmMath();
  const B = big.bignumber;
  let re: BigNumber;
  let im: BigNumber;
  if (big.isBigNumber(v)) { re = v; im = B(0); }
  else if (big.isComplex(v)) { re = B((v as { re: number }).re); im = B((v as { im: number }).im); }
  else if (typeof v === 'number') { re = B(v); im = B(0); }
  else throw new UndecidableError(`${key} is not a number`);
  for (const x of [re, im]) {
    if (x.isNaN()) throw new UndecidableError(`${key} is not a number (NaN)`);
    if (!x.isFinite()) throw new UndecidableError(`${key} overflows (too large to evaluate)`);
  }
  return [re, im];
}

/** The BigNumber value of a constant expression (a number or a matrix), or an UndecidableError. */
function evalValue(c: Compiled): Value {
  const { big } = warmMath();
  let v: unknown;
  try {
    v = c.big.evaluate();
  } catch (e) {
    throw new UndecidableError(`cannot evaluate ${c.key}: ${(e as Error).message}`);
  }
  if (big.isMatrix(v) || Array.isArray(v)) {
    const arr = (big.isMatrix(v) ? (v as { toArray(): unknown[] }).toArray() : v) as unknown[];
    const rows = arr.map((r) => (Array.isArray(r) ? r : [r]).map((x) => toPair(x, c.key)));
    return { matrix: true, rows };
  }
  return { matrix: false, v: toPair(v, c.key) };
}

type BigPair = [import('mathjs').BigNumber, import('mathjs').BigNumber];

/**
 * Relative comparison only: an absolute floor would call 1/2004! equal to 1/2006! (both < 1e-5000).
 * The one exception is a side that is exactly 0 against a tiny value (`\sin(\pi)` gives ~1e-64 at
 * 64 digits): the tiny side is re-evaluated at 128 digits, and a rounding residue shrinks with the
 * precision while a real value such as 1/2004! does not.
 */
function closeBig(a: BigPair, b: BigPair, rtol: number, ca: Compiled, cb: Compiled): boolean {
  const { big } = warmMath();
  const diff = a[0].minus(b[0]).abs().plus(a[1].minus(b[1]).abs());
  const mag = (x: BigPair) => x[0].abs().plus(x[1].abs());
  if (diff.lte(mag(a).plus(mag(b)).times(rtol))) return true;
  const [zero, other, otherC] = mag(a).isZero() ? [a, b, cb] : mag(b).isZero() ? [b, a, ca] : [null, null, null];
  if (!zero || !other || !otherC || mag(other).gt(1e-30)) return false;
  let v: unknown;
  try { v = big2().evaluate(otherC.key); } catch { return false; }
  const m2 = big.isBigNumber(v) ? v.abs() : big.isComplex(v) ? big.bignumber(big.abs(v as never) as number) : null;
  return m2 !== null && m2.lt(mag(other).times(1e-20));
}


export type Fn = (scope: Record<string, number>) => { re: number; im: number } | null;

export function floatFn(expr: string): Fn {
  const { flt } = warmMath();
  const code = flt.compile(expr);
  return (scope) => {
    let v: unknown;
    try { v = code.evaluate(scope); } catch { return null; }
    if (typeof v === 'number') return Number.isFinite(v) ? { re: v, im: 0 } : null;
    if (flt.isComplex(v)) {
      const c = v as { re: number; im: number };
      return Number.isFinite(c.re) && Number.isFinite(c.im) ? { re: c.re, im: c.im } : null;
    }
    return null;
  };
}

const POINTS = 8;

function samplePoints(vars: string[]): Array<Record<string, number>> {
  // A fixed seed: a verdict never depends on the run.
  const seeded = new Rng(0x5eed);
  const r = () => seeded.next();
  return Array.from({ length: POINTS }, () => Object.fromEntries(vars.map((v) => [v, 0.3 + 2.4 * r()])));
}

function closeFloat(a: { re: number; im: number }, b: { re: number; im: number }, tol: number): boolean {
  const diff = Math.abs(a.re - b.re) + Math.abs(a.im - b.im);
  const scale = Math.max(Math.abs(a.re) + Math.abs(a.im), Math.abs(b.re) + Math.abs(b.im));
  return diff <= tol * scale || diff <= 1e-12;
}

/** Are two scalar expressions (mathjs syntax) equal? */
/** A written decimal makes a value approximate; exact forms (integers, fractions, radicals) compare exactly. */
const APPROX = /\d\.\d|(?:^|[^\d])\.\d|\d\.(?!\d)/;
/** 'Exactly' at 64 digits: far below any float64 value, far above the rounding of the BigNumber arithmetic. */
const EXACT_RTOL = 1e-40;

export function exprEqual(ea: string, eb: string, rtolApprox: number): Decision {
  const a = compile(ea);
  const b = compile(eb);
  const approx = APPROX.test(ea) || APPROX.test(eb);
  const rtol = approx ? rtolApprox : EXACT_RTOL;
  if (a.key === b.key) return { equal: true, how: 'identical expressions' };
  const vars = [...new Set([...a.vars, ...b.vars])].sort();
  if (vars.length === 0) {
    const va = evalValue(a);
    const vb = evalValue(b);
    if (va.matrix || vb.matrix) return matrixValuesEqual(va, vb, rtol, a, b);
    // mathjs computes complex numbers in float64 even in BigNumber mode: float tolerance there.
    const complex = !va.v[1].isZero() || !vb.v[1].isZero();
    return closeBig(va.v, vb.v, complex ? Math.max(rtol, 1e-12) : rtol, a, b)
      ? { equal: true, how: `equal values (${fmt(va.v)})` }
      : { equal: false, why: `${fmt(va.v)} ≠ ${fmt(vb.v)}` };
  }
  const fa = floatFn(a.key);
  const fb = floatFn(b.key);
  const tol = Math.max(rtol, 1e-9); // float64 evaluation: 1e-9 is as exact as it gets
  let used = 0;
  for (const p of samplePoints(vars)) {
    const x = fa(p);
    const y = fb(p);
    if (!x || !y) continue;
    used++;
    if (!closeFloat(x, y, tol)) return { equal: false, why: `differ at ${vars.map((v) => `${v}=${p[v].toFixed(3)}`).join(', ')}` };
  }
  if (used < 3) throw new UndecidableError(`only ${used} of ${POINTS} random points evaluate to finite values`);
  return { equal: true, how: `agree on ${used} random points` };
}

function matrixValuesEqual(va: Value, vb: Value, rtol: number, a: Compiled, b: Compiled): Decision {
  if (!va.matrix || !vb.matrix) return { equal: false, why: 'matrix vs number' };
  if (va.rows.length !== vb.rows.length || va.rows.some((r, k) => r.length !== vb.rows[k].length)) return { equal: false, why: 'matrix shapes differ' };
  for (let i = 0; i < va.rows.length; i++) {
    for (let j = 0; j < va.rows[i].length; j++) {
      if (!closeBig(va.rows[i][j], vb.rows[i][j], rtol, a, b)) return { equal: false, why: `entry (${i + 1},${j + 1}): ${fmt(va.rows[i][j])} ≠ ${fmt(vb.rows[i][j])}` };
    }
  }
  return { equal: true, how: 'equal matrices' };
}

/** Equations are equal when lhs−rhs of one is a nonzero constant multiple of the other's. */
export function equationEqual(a: { lhs: string; rhs: string }, b: { lhs: string; rhs: string }): Decision {
  const da = compile(`(${a.lhs}) - (${a.rhs})`);
  const db = compile(`(${b.lhs}) - (${b.rhs})`);
  const vars = [...new Set([...da.vars, ...db.vars])].sort();
  const fa = floatFn(da.key);
  const fb = floatFn(db.key);
  let ratio: number | null = null;
  let used = 0;
  for (const p of samplePoints(vars)) {
    const x = fa(p);
    const y = fb(p);
    if (!x || !y || x.im !== 0 || y.im !== 0) continue;
    used++;
    if (Math.abs(y.re) < 1e-12 || Math.abs(x.re) < 1e-12) {
      if (Math.abs(y.re) < 1e-12 && Math.abs(x.re) < 1e-12) continue;
      return { equal: false, why: 'equations differ' };
    }
    const r = x.re / y.re;
    if (ratio === null) ratio = r;
    else if (Math.abs(r - ratio) > 1e-9 * Math.max(1, Math.abs(ratio))) return { equal: false, why: 'equations differ' };
  }
  if (used < 3) throw new UndecidableError('equation could not be evaluated on enough points');
  return { equal: true, how: 'equivalent equations' };
}

function fmt(v: BigPair): string {
  const re = v[0].toSignificantDigits(8).toString();
  return v[1].isZero() ? re : `${re}${v[1].isNeg() ? '-' : '+'}${v[1].abs().toSignificantDigits(8).toString()}i`;
}
