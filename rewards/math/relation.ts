/**
 * Relations in one variable (`x > 2`, `-2 \le x \le 7`, `1 \le |z| \le 3/2`, `x \ne 3`) against each
 * other and against sets of reals (intervals, unions, finite sets): both sides are read as predicates
 * on the real line and evaluated at test points where a difference must show.
 *
 * Test points: every boundary either side writes (interval endpoints, the constants of the relation,
 * their negatives for `|x|` and squares, 0), each one exactly and a hair to either side; the midpoint
 * of every gap between them; far out on both sides; and seeded random points. Two sets of reals that
 * agree at all of them can only differ on pieces narrower than those gaps or at boundaries neither
 * side writes, which a written final answer does not have.
 */
import { Rng } from '../../engine/rng.js';
import { compile, floatFn, warmMath, UndecidableError, type Decision } from './equal.js';
import type { Answer, RelOp } from './answer.js';

type Relation = Extract<Answer, { kind: 'relation' }>;
type Predicate = (x: number) => boolean | null;

/** A constant expression as a float, ±Infinity allowed (interval ends); null when it has variables or fails. */
function constant(expr: string): number | null {
  try {
    if (compile(expr).vars.length > 0) return null;
    const v = warmMath().flt.evaluate(expr) as unknown;
    return typeof v === 'number' && !Number.isNaN(v) ? v : null;
  } catch {
    return null;
  }
}

const HOLDS: Record<RelOp, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b, '<=': (a, b) => a <= b, '>': (a, b) => a > b, '>=': (a, b) => a >= b, '!=': (a, b) => a !== b,
};

/** The one variable of a relation, or null when it has none or several. */
export function relationVariable(r: Relation): string | null {
  const vars = new Set<string>();
  for (const e of r.exprs) for (const v of compile(e).vars) vars.add(v);
  return vars.size === 1 ? [...vars][0] : null;
}

function relationPredicate(r: Relation, variable: string): Predicate {
  const fns = r.exprs.map((e) => floatFn(e));
  return (x) => {
    const vals = fns.map((f) => f({ [variable]: x }));
    if (vals.some((v) => !v || v.im !== 0)) return null;
    return r.ops.every((op, k) => HOLDS[op](vals[k]!.re, vals[k + 1]!.re));
  };
}

/** Membership in a set answer: an interval `(a, b]`, a union of pieces, a finite set `\{1\}`, a labelled one. */
function setPredicate(a: Answer): { holds: Predicate; bounds: number[] } | null {
  if (a.kind === 'tuple' && a.items.length === 2 && a.items.every((i) => i.kind === 'expr')) {
    const lo = constant((a.items[0] as { expr: string }).expr);
    const hi = constant((a.items[1] as { expr: string }).expr);
    if (lo === null || hi === null || !(lo <= hi)) return null;
    const openLo = a.open === '(';
    const openHi = a.close === ')';
    return { holds: (x) => (openLo ? x > lo : x >= lo) && (openHi ? x < hi : x <= hi), bounds: [lo, hi] };
  }
  if (a.kind === 'expr' && !a.percent) {
    const v = constant(a.expr);
    return v === null ? null : { holds: (x) => x === v, bounds: [v] };
  }
  if (a.kind === 'union' || a.kind === 'set') {
    const pieces = a.items.map(setPredicate);
    if (pieces.some((p) => p === null)) return null;
    const ps = pieces as Array<{ holds: Predicate; bounds: number[] }>;
    return { holds: (x) => ps.some((p) => p.holds(x)), bounds: ps.flatMap((p) => p.bounds) };
  }
  return null;
}

function boundsOf(r: Relation): number[] {
  return r.exprs.map(constant).filter((v): v is number => v !== null);
}

function testPoints(bounds: number[]): number[] {
  const finite = [...new Set(bounds.filter(Number.isFinite).flatMap((b) => [b, -b]).concat(0))].sort((x, y) => x - y);
  const pts: number[] = [];
  for (const b of finite) {
    const d = 1e-7 * Math.max(1, Math.abs(b));
    pts.push(b - d, b, b + d);
  }
  for (let k = 1; k < finite.length; k++) pts.push((finite[k - 1] + finite[k]) / 2);
  const lo = finite[0];
  const hi = finite[finite.length - 1];
  pts.push(lo - 1, hi + 1, lo - 1e6, hi + 1e6);
  const rng = new Rng(0x1e1a);
  for (let k = 0; k < 16; k++) pts.push(lo - 2 + (hi - lo + 4) * rng.next());
  return pts;
}

function agree(p: Predicate, q: Predicate, points: number[]): Decision {
  let used = 0;
  for (const x of points) {
    const a = p(x);
    const b = q(x);
    if (a === null || b === null) continue;
    used++;
    if (a !== b) return { equal: false, why: `they differ at ${Number(x.toPrecision(6))}` };
  }
  if (used < 3) throw new UndecidableError('the relation could not be evaluated at enough points');
  return { equal: true, how: `same set of reals at ${used} test points` };
}

/** Two relations: the same one variable, and the same truth value at every test point. */
export function relationsEqual(a: Relation, b: Relation): Decision {
  if (a.text === b.text) return { equal: true, how: 'same relation' };
  const va = relationVariable(a);
  const vb = relationVariable(b);
  if (!va || !vb) return { equal: false, why: 'relations differ' };
  if (va !== vb) return { equal: false, why: `relations in different variables ${va} and ${vb}` };
  return agree(relationPredicate(a, va), relationPredicate(b, vb), testPoints([...boundsOf(a), ...boundsOf(b)]));
}

/** A relation against a set of reals (`x > 2` against `(2, \infty)`). */
export function relationVsSet(r: Relation, set: Answer): Decision {
  const v = relationVariable(r);
  const s = setPredicate(set);
  if (!v || !s) return { equal: false, why: 'relation vs a set it cannot be compared with' };
  return agree(relationPredicate(r, v), s.holds, testPoints([...boundsOf(r), ...s.bounds]));
}
