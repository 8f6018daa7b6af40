/**
 * Structural equality of two parsed answers (answer.ts); scalars go to equal.ts, relations to
 * relation.ts. The rules, kind by kind:
 *
 * - several answers never equal one (`\boxed{165} \boxed{180} \boxed{195}` against 195 is answer
 *   spam; `1, 2` against 1 is hedging);
 * - lists, sets and unions compare as sets (a repeated item adds nothing, as in math-verify);
 * - an ordered tuple against a set or list written in braces compares in the written order
 *   (`{1,3}` = `(1,3)` ≠ `(3,1)`: the order written is all the information there is);
 * - `assign` (`p=5, q=2`) against another compares value by name; against a list, in written order;
 * - tuples and intervals: same brackets, same length, equal items in order;
 * - a relation against a relation or a set of reals: the same set of reals (relation.ts);
 * - matrices: same shape, equal entries; a constant matrix expression (`A + B`) is evaluated;
 * - ratios `a:b`: equal when `a·d = b·c` with no zero part, else part by part (`12:00` ≠ `1:00`);
 * - equations: `lhs − rhs` proportional; a labelled value `y = …` counts as the equation `y = …`;
 * - labels: `x = 3` equals 3; two plain variable names must agree (`x = 3` ≠ `y = 3`);
 * - percent (`percent` option): `either` — `50\%` equals 0.5 and 50; `fraction`; `literal`.
 */
import { exprEqual, equationEqual, type Decision } from './equal.js';
import { relationsEqual, relationVsSet } from './relation.js';
import { SIMPLE_LABEL, type Answer, type Scalar } from './answer.js';

export interface EqualOptions {
  rtol: number;
  percent: 'either' | 'fraction' | 'literal';
}

function scalarEqual(a: Scalar, b: Scalar, o: EqualOptions): Decision {
  if (a.label && b.label && a.label !== b.label && SIMPLE_LABEL.test(a.label) && SIMPLE_LABEL.test(b.label)) {
    return { equal: false, why: `different variables ${a.label} and ${b.label}` };
  }
  if (a.percent === b.percent || o.percent === 'literal') return exprEqual(a.expr, b.expr, o.rtol);
  // Exactly one side carries `%`: read it as p/100 (and, in `either` mode, also as p).
  const [pctExpr, other] = a.percent ? [a.expr, b.expr] : [b.expr, a.expr];
  const asFraction = exprEqual(`(${pctExpr}) / 100`, other, o.rtol);
  if (asFraction.equal || o.percent === 'fraction') return asFraction.equal ? { equal: true, how: `${asFraction.how} (percent as fraction)` } : asFraction;
  const asNumber = exprEqual(pctExpr, other, o.rtol);
  return asNumber.equal ? { equal: true, how: `${asNumber.how} (percent sign dropped)` } : asNumber;
}

function tryEqual(a: Answer, b: Answer, o: EqualOptions): boolean {
  try { return answersEqual(a, b, o).equal; } catch { return false; }
}

const isCollection = (a: Answer) => a.kind === 'set' || a.kind === 'list' || a.kind === 'union' || a.kind === 'assign';
const isSetOfReals = (a: Answer) => (a.kind === 'tuple' && a.items.length === 2) || a.kind === 'union' || (a.kind === 'set' && a.items.length > 0);

function itemsOf(a: Answer): Answer[] {
  if (a.kind === 'assign') return a.entries.map((e) => e.value);
  return a.kind === 'set' || a.kind === 'list' || a.kind === 'union' || a.kind === 'tuple' ? a.items : [a];
}

function inOrder(xs: Answer[], ys: Answer[], o: EqualOptions): Decision {
  if (xs.length !== ys.length) return { equal: false, why: `${xs.length} items vs ${ys.length}` };
  for (let k = 0; k < xs.length; k++) {
    const d = answersEqual(xs[k], ys[k], o);
    if (!d.equal) return { equal: false, why: `item ${k + 1}: ${d.why}` };
  }
  return { equal: true, how: 'same items in order' };
}

function collectionsEqual(a: Answer, b: Answer, o: EqualOptions): Decision {
  if (a.kind === 'assign' && b.kind === 'assign') {
    if (a.entries.length !== b.entries.length) return { equal: false, why: `${a.entries.length} values vs ${b.entries.length}` };
    for (const e of a.entries) {
      const f = b.entries.find((x) => x.label === e.label);
      if (!f) return { equal: false, why: `no value for ${e.label}` };
      const d = answersEqual(e.value, f.value, o);
      if (!d.equal) return { equal: false, why: `${e.label}: ${d.why}` };
    }
    return { equal: true, how: 'same values by name' };
  }
  // Named values against an unnamed list or tuple: the written order decides.
  if ((a.kind === 'assign' && (b.kind === 'list' || b.kind === 'tuple' || b.kind === 'set')) || (b.kind === 'assign' && (a.kind === 'list' || a.kind === 'tuple' || a.kind === 'set'))) {
    return inOrder(itemsOf(a), itemsOf(b), o);
  }
  const xs = itemsOf(a);
  const ys = itemsOf(b);
  if (xs.length === 1 || ys.length === 1) return { equal: false, why: `${xs.length} answers vs ${ys.length}` };
  const allIn = (p: Answer[], q: Answer[]) => p.every((x) => q.some((y) => tryEqual(x, y, o)));
  return allIn(xs, ys) && allIn(ys, xs) ? { equal: true, how: 'same set' } : { equal: false, why: 'sets differ' };
}

function matrixExpr(a: Extract<Answer, { kind: 'matrix' }>): string | null {
  const cells = a.rows.map((r) => r.map((c) => (c.kind === 'expr' && !c.percent ? `(${c.expr})` : null)));
  if (cells.some((r) => r.some((c) => c === null))) return null;
  return `[${cells.map((r) => `[${r.join(', ')}]`).join(', ')}]`;
}

function ratioEqual(a: Extract<Answer, { kind: 'ratio' }>, b: Answer, o: EqualOptions): Decision {
  const [p, q] = a.parts as [Scalar, Scalar];
  if (b.kind === 'expr') return exprEqual(`(${p.expr}) / (${q.expr})`, b.expr, o.rtol);
  if (b.kind !== 'ratio') return { equal: false, why: `ratio vs ${b.kind}` };
  const [r, s] = b.parts as [Scalar, Scalar];
  const zero = [p, q, r, s].some((x) => exprEqual(x.expr, '0', o.rtol).equal);
  if (zero) return inOrder(a.parts, b.parts, o);
  return exprEqual(`(${p.expr}) * (${s.expr})`, `(${q.expr}) * (${r.expr})`, o.rtol);
}

/** Structural comparison; see the header for the rules of each kind. */
export function answersEqual(a: Answer, b: Answer, o: EqualOptions): Decision {
  if (a.kind === 'text' || b.kind === 'text') {
    const key = (x: Answer) => (x.kind === 'text' || x.kind === 'relation' ? x.text : null);
    return key(a) !== null && key(a) === key(b) ? { equal: true, how: 'same text' } : { equal: false, why: 'text answers differ' };
  }
  if (a.kind === 'relation' || b.kind === 'relation') {
    if (a.kind === 'relation' && b.kind === 'relation') return relationsEqual(a, b);
    const [rel, other] = a.kind === 'relation' ? [a, b] : [b as Extract<Answer, { kind: 'relation' }>, a];
    return isSetOfReals(other) ? relationVsSet(rel, other) : { equal: false, why: `relation vs ${other.kind}` };
  }
  if (a.kind === 'ratio') return ratioEqual(a, b, o);
  if (b.kind === 'ratio') return ratioEqual(b, a, o);
  if (isCollection(a) || isCollection(b)) {
    // A tuple against a set or list written with braces: the written order (see header).
    const tupleVsWritten = (x: Answer, y: Answer) => x.kind === 'tuple' && (y.kind === 'set' || y.kind === 'list');
    if (tupleVsWritten(a, b) || tupleVsWritten(b, a)) return inOrder(itemsOf(a), itemsOf(b), o);
    return collectionsEqual(a, b, o);
  }
  if (a.kind === 'tuple' || b.kind === 'tuple') {
    if (a.kind !== 'tuple' || b.kind !== 'tuple') return { equal: false, why: 'tuple/interval vs scalar' };
    if (a.open !== b.open || a.close !== b.close) return { equal: false, why: `brackets ${a.open}${a.close} vs ${b.open}${b.close}` };
    return inOrder(a.items, b.items, o);
  }
  if (a.kind === 'matrix' || b.kind === 'matrix') {
    if (a.kind === 'matrix' && b.kind === 'matrix') {
      if (a.rows.length !== b.rows.length || a.rows.some((r, k) => r.length !== b.rows[k].length)) return { equal: false, why: 'matrix shapes differ' };
      return inOrder(a.rows.flat(), b.rows.flat(), o);
    }
    const [m, other] = a.kind === 'matrix' ? [a, b] : [b as Extract<Answer, { kind: 'matrix' }>, a];
    const me = matrixExpr(m);
    return me && other.kind === 'expr' ? exprEqual(me, other.expr, o.rtol) : { equal: false, why: `matrix vs ${other.kind}` };
  }
  if (a.kind === 'equation' || b.kind === 'equation') {
    const asEq = (x: Answer) => x.kind === 'equation' ? x : x.kind === 'expr' && x.label && SIMPLE_LABEL.test(x.label) ? { lhs: x.label.replace(/[{}]/g, ''), rhs: x.expr } : null;
    const ea = asEq(a);
    const eb = asEq(b);
    if (!ea || !eb) return { equal: false, why: 'equation vs value' };
    return equationEqual(ea, eb);
  }
  if (a.kind !== 'expr' || b.kind !== 'expr') return { equal: false, why: `${a.kind} vs ${b.kind}` };
  return scalarEqual(a, b, o);
}
