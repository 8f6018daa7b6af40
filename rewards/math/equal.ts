/**
 * Equality of two parsed answers.
 *
 * Scalars, in order:
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
 */
import { Rng } from '../../common/rng.js';
import { createRequire } from 'node:module';
import type * as MathJs from 'mathjs';
import type { MathNode, MathJsInstance } from 'mathjs';
import type { Answer } from './answer.js';

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

/** Parse, check against the whitelist and the size guards, and collect free variables. */
export function compile(expr: string): Compiled {
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
    } else if (t !== 'ParenthesisNode') {
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

/** The BigNumber value of a constant expression as [re, im], or an UndecidableError. */
function evalBig(c: Compiled): [import('mathjs').BigNumber, import('mathjs').BigNumber] {
  const { big } = warmMath();
  let v: unknown;
  try {
    v = c.big.evaluate();
  } catch (e) {
    throw new UndecidableError(`cannot evaluate ${c.key}: ${(e as Error).message}`);
  }
  const B = big.bignumber;
  let re: import('mathjs').BigNumber;
  let im: import('mathjs').BigNumber;
  if (big.isBigNumber(v)) { re = v; im = B(0); }
  else if (big.isComplex(v)) { re = B((v as { re: number }).re); im = B((v as { im: number }).im); }
  else if (typeof v === 'number') { re = B(v); im = B(0); }
  else throw new UndecidableError(`${c.key} is not a number`);
  for (const x of [re, im]) {
    if (x.isNaN()) throw new UndecidableError(`${c.key} is not a number (NaN)`);
    if (!x.isFinite()) throw new UndecidableError(`${c.key} overflows (too large to evaluate)`);
  }
  return [re, im];
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


type Fn = (scope: Record<string, number>) => { re: number; im: number } | null;

function floatFn(expr: string): Fn {
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
    const va = evalBig(a);
    const vb = evalBig(b);
    // mathjs computes complex numbers in float64 even in BigNumber mode: float tolerance there.
    const complex = !va[1].isZero() || !vb[1].isZero();
    return closeBig(va, vb, complex ? Math.max(rtol, 1e-12) : rtol, a, b)
      ? { equal: true, how: `equal values (${fmt(va)})` }
      : { equal: false, why: `${fmt(va)} ≠ ${fmt(vb)}` };
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

/** Equations are equal when lhs−rhs of one is a nonzero constant multiple of the other's. */
function equationEqual(a: { lhs: string; rhs: string }, b: { lhs: string; rhs: string }): Decision {
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

function fmt(v: [import('mathjs').BigNumber, import('mathjs').BigNumber]): string {
  const re = v[0].toSignificantDigits(8).toString();
  return v[1].isZero() ? re : `${re}${v[1].isNeg() ? '-' : '+'}${v[1].abs().toSignificantDigits(8).toString()}i`;
}

export interface EqualOptions {
  rtol: number;
  percent: 'either' | 'fraction' | 'literal';
}

function scalarEqual(a: Extract<Answer, { kind: 'expr' }>, b: Extract<Answer, { kind: 'expr' }>, o: EqualOptions): Decision {
  if (a.label && b.label && a.label !== b.label) return { equal: false, why: `different variables ${a.label} and ${b.label}` };
  if (a.percent === b.percent || o.percent === 'literal') return exprEqual(a.expr, b.expr, o.rtol);
  // Exactly one side carries `%`: read it as p/100 (and, in `either` mode, also as p).
  const [pctExpr, other] = a.percent ? [a.expr, b.expr] : [b.expr, a.expr];
  const asFraction = exprEqual(`(${pctExpr}) / 100`, other, o.rtol);
  if (asFraction.equal || o.percent === 'fraction') return asFraction.equal ? { equal: true, how: `${asFraction.how} (percent as fraction)` } : asFraction;
  const asNumber = exprEqual(pctExpr, other, o.rtol);
  return asNumber.equal ? { equal: true, how: `${asNumber.how} (percent sign dropped)` } : asNumber;
}

function elements(a: Answer): Answer[] {
  return a.kind === 'set' || a.kind === 'list' || a.kind === 'union' ? a.items : [a];
}

function tryEqual(a: Answer, b: Answer, o: EqualOptions): boolean {
  try { return answersEqual(a, b, o).equal; } catch { return false; }
}

/** Structural comparison; see answer.ts for the rules of each kind. */
export function answersEqual(a: Answer, b: Answer, o: EqualOptions): Decision {
  if (a.kind === 'text' || b.kind === 'text') {
    const ta = a.kind === 'text' ? a.text : null;
    const tb = b.kind === 'text' ? b.text : null;
    return ta !== null && ta === tb ? { equal: true, how: 'same text' } : { equal: false, why: 'text answers differ' };
  }
  const collA = a.kind === 'set' || a.kind === 'list' || a.kind === 'union';
  const collB = b.kind === 'set' || b.kind === 'list' || b.kind === 'union';
  if (collA || collB) {
    const xs = elements(a);
    const ys = elements(b);
    if (a.kind === 'list' && b.kind === 'list') {
      // Multisets: one-to-one matching.
      if (xs.length !== ys.length) return { equal: false, why: `${xs.length} answers vs ${ys.length}` };
      const used = new Array(ys.length).fill(false);
      for (const x of xs) {
        const j = ys.findIndex((y, k) => !used[k] && tryEqual(x, y, o));
        if (j < 0) return { equal: false, why: 'lists differ' };
        used[j] = true;
      }
      return { equal: true, how: 'same answers in any order' };
    }
    if ((xs.length === 1) !== (ys.length === 1)) return { equal: false, why: `${xs.length} answers vs ${ys.length}` };
    const allIn = (p: Answer[], q: Answer[]) => p.every((x) => q.some((y) => tryEqual(x, y, o)));
    return allIn(xs, ys) && allIn(ys, xs) ? { equal: true, how: 'same set' } : { equal: false, why: 'sets differ' };
  }
  if (a.kind === 'tuple' || b.kind === 'tuple') {
    if (a.kind !== 'tuple' || b.kind !== 'tuple') return { equal: false, why: 'tuple/interval vs scalar' };
    if (a.open !== b.open || a.close !== b.close) return { equal: false, why: `brackets ${a.open}${a.close} vs ${b.open}${b.close}` };
    if (a.items.length !== b.items.length) return { equal: false, why: 'tuple lengths differ' };
    for (let k = 0; k < a.items.length; k++) {
      const d = answersEqual(a.items[k], b.items[k], o);
      if (!d.equal) return { equal: false, why: `component ${k + 1}: ${d.why}` };
    }
    return { equal: true, how: 'same tuple/interval' };
  }
  if (a.kind === 'equation' || b.kind === 'equation') {
    const asEq = (x: Answer) => x.kind === 'equation' ? x : x.kind === 'expr' && x.label ? { lhs: x.label.replace(/\(([A-Za-z])\)/, '_$1'), rhs: x.expr } : null;
    const ea = asEq(a);
    const eb = asEq(b);
    if (!ea || !eb) return { equal: false, why: 'equation vs value' };
    return equationEqual(ea, eb);
  }
  if (a.kind !== 'expr' || b.kind !== 'expr') return { equal: false, why: `${a.kind} vs ${b.kind}` };
  return scalarEqual(a, b, o);
}
