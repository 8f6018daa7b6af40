/**
 * Fused weighted row sums: the per-token part of every preference objective as one or two recorded
 * ops with a hand-written backward.
 *
 *   S[k, b] = n_k[b]⁻¹ Σ_t w_k[b,t] · g_k[b,t] · v_k[b,t]   v_k = x_k − o_k, or |x_k| for an `abs` row
 *                                                        w_k = weight · Π factors · Π (1 − complements)
 *                                                        n_k = max(Σ_t meanOver_k, 1), or 1
 *   out     = C · S                                        C: [nOut, K] plain numbers, out: [nOut, B]
 *
 * x_k and the gate g_k are differentiable (policy log-probs, per-token KL, a learned mask); the
 * weight w_k (validity mask × token weights × scores), the offset o_k (reference log-probs) and n_k
 * are constants, and the constant products are formed inside the op. With d = n⁻¹ ⊙ Cᵀ · dOut
 * ([K, B]), the backward is
 *   ∂/∂x_k = d_k ⊗ w_k g_k          (non-abs rows)
 *   ∂/∂g_k = d_k ⊗ w_k v_k          (gated rows)
 *   ∂/∂x_k = d_k ⊗ w_k sign(x_k)    (abs rows)
 * summed over the rows where the same tensor appears.
 *
 * Why: at the sizes we train (a few dozen pairs × a few hundred tokens) these objectives cost
 * per-op overhead, not FLOPs. Every op tfjs records while a gradient is taken also clones its
 * saved inputs (an Identity kernel each) and gets its own backward ops. A `customGrad` forward runs
 * with the tape off, so its ops cost only their kernels, and its backward is the products above.
 * The product rule is split over two ops: the first carries the value and the gradient of the
 * `x`s of non-abs rows; the second adds zeros and carries the gradient of the gates and of the abs
 * rows' `x` (a learned mask), so a constant mask costs no backward work, only the copies op 2 saves
 * for a backward that may come. A mask made by `stopGradient` (the activation mask) is known to be
 * constant and skips op 2 altogether: it is folded into the row's constant weight (same products,
 * same values and gradients; on wasm ~15% off SparsePO's loss-level step, bench/losses.ts).
 *
 * Two implementations of the same sums: on the cpu backend a host pass (reading a tensor there is
 * free, and its elementwise kernels cost ~40-100 µs on [32, 256] against ~10 µs for a JS loop);
 * elsewhere tensor ops. Accumulation is in float64 on the host, float32 in tensor ops.
 *
 * `detached` computes constants from the sums inside the forward (the metrics): made with the tape
 * off, so no gradient can flow through them; they are kept for the caller to use and dispose.
 *
 * Limits: first-order gradients only (the backward is not itself differentiable); every input must
 * be finite (a weight of 0 times an Inf value is NaN); at least one non-abs row.
 */
import * as tf from '@tensorflow/tfjs';
import { isStopped, readsAreFree, scaleRows } from './tensor-utils.js';

export interface WeightedRow {
  /** [B, T] per-token values (differentiable). */
  x: tf.Tensor2D;
  /** [B, T] constant subtracted from x (no gradient). */
  offset?: tf.Tensor2D;
  /** Sum |x| instead of x − offset (an L1 norm). */
  abs?: boolean;
  /** [B, T] constant weight (the validity mask; no gradient). */
  weight: tf.Tensor2D;
  /** [B, T] further constant factors of the weight (token weights, T-REG's r̂); undefined ones skipped. */
  factors?: ReadonlyArray<tf.Tensor2D | undefined>;
  /** [B, T] constant scores c whose complements 1 − c multiply the weight (cDPO); undefined skipped. */
  complements?: ReadonlyArray<tf.Tensor2D | undefined>;
  /** [B, T] differentiable weight multiplying the constant one. */
  gate?: tf.Tensor2D;
  /** [B, T] a mask m: the row's sum is divided by max(Σ_t m_t, 1) (IPO's per-response mean). */
  meanOver?: tf.Tensor2D;
}

export interface RowSums {
  /** [nOut, B] C · S (differentiable). */
  out: tf.Tensor2D;
  /** Whatever `detached` returned: constants, kept (the caller disposes them). */
  detached?: tf.Tensor[];
}

/** Which implementation runs: a host pass where reading tensors is free (cpu), tensor ops elsewhere. */
export type RowSumsImpl = 'host' | 'tensor';

export function defaultRowSumsImpl(): RowSumsImpl {
  return readsAreFree() ? 'host' : 'tensor';
}

/**
 * @param rows     the K weighted sums
 * @param combine  C, nOut rows of K coefficients
 * @param detached optional: constants computed from (S [K, B], out [nOut, B]) with no gradient
 * @param impl     override the implementation (tests compare both)
 */
export function weightedRowSums(
  given: readonly WeightedRow[],
  combine: readonly (readonly number[])[],
  detached?: (sums: tf.Tensor2D, out: tf.Tensor2D) => tf.Tensor[],
  impl: RowSumsImpl = defaultRowSumsImpl(),
): RowSums {
  // A gate made by `stopGradient` (the activation mask) is a constant: it joins the row's constant
  // weight, and op 2 carries no gradient for it (nor for the abs row of a stopped x, whose sum is a
  // constant too). Same products, so the same values and gradients, without op 2's copies; op 1
  // hands such tensors a zero gradient, as stopGradient's own backward would.
  const rows = given.map((r) => (r.gate && isStopped(r.gate) ? { ...r, gate: undefined, factors: [...(r.factors ?? []), r.gate] } : r));
  const K = rows.length;
  if (!rows.some((r) => !r.abs) || combine.some((c) => c.length !== K)) {
    throw new Error(`weightedRowSums: needs a non-abs row and combine rows of length ${K}`);
  }
  const [B, T] = rows[0].x.shape;
  const cT = Array.from({ length: K }, (_, k) => combine.map((c) => c[k])); // Cᵀ [K, nOut]
  // Gradient owners: op 1 takes the x of non-abs rows, op 2 the gates and the x of abs rows. A
  // tensor that is both goes to both ops and tfjs sums its two gradients.
  const valueInputs = unique(rows.filter((r) => !r.abs).map((r) => r.x));
  const gateInputs = unique(rows.flatMap((r) => (!carriesGate(r) ? [] : r.abs ? [r.x] : [r.gate!])));
  const stopped = unique(given.flatMap((r) => [r.gate, r.abs ? r.x : undefined]).filter((t): t is tf.Tensor2D => t !== undefined && isStopped(t) && !valueInputs.includes(t)));
  const impls = impl === 'host' ? hostImpl(rows, B, T) : tensorImpl(rows, cT.map((c) => c.join(',')));
  let kept: tf.Tensor[] | undefined;

  // d = n⁻¹ ⊙ Cᵀ · dOut [K, B]; `inv` (n⁻¹) is the last saved tensor when some row is a mean
  const means = rows.some((r) => r.meanOver);
  const d = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const g = tf.matMul(tf.tensor2d(cT), dy as tf.Tensor2D) as tf.Tensor2D;
    return means ? (tf.mul(g, saved[saved.length - 1]) as tf.Tensor2D) : g;
  };
  const valueOp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const { sums, saves } = impls.sums();
    const inv = means ? inverseCounts(rows, B) : undefined;
    const S = inv ? (tf.mul(sums, inv) as tf.Tensor2D) : sums; // [K, B]
    const out = tf.matMul(tf.tensor2d(combine as number[][]), S) as tf.Tensor2D;
    if (detached) kept = detached(S, out).map((t) => tf.keep(t));
    save(inv ? [...saves, inv] : saves);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [...impls.valueGrads(valueInputs, d(dy, saved), saved), ...stopped.map((t) => tf.zerosLike(t))],
    };
  });
  const out = valueOp(...valueInputs, ...stopped) as tf.Tensor2D;
  if (gateInputs.length === 0) return { out, detached: kept };
  // Op 2 adds zeros: it is on the gradient path only when a gate is (a pass-through would put it on
  // the path of every input and run its backward for constant masks too).
  const gateOp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const saves = impls.gateSaves();
    save(means ? [...saves, inverseCounts(rows, B)] : saves);
    return { value: tf.zeros([combine.length, B]), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => impls.gateGrads(gateInputs, d(dy, saved), saved) };
  });
  return { out: tf.add(out, gateOp(...gateInputs)) as tf.Tensor2D, detached: kept };
}

/** Whether op 2 carries a gradient for the row: a (differentiable) gate, or an abs row's x unless stopped. */
function carriesGate(r: WeightedRow): boolean {
  return r.abs ? !isStopped(r.x) : r.gate !== undefined;
}

/** [K, B] 1 / max(Σ_t meanOver, 1) per row (1 for rows without one), as tensor ops (small). */
function inverseCounts(rows: readonly WeightedRow[], B: number): tf.Tensor2D {
  const ones = tf.ones([B]);
  const memo = new Map<number, tf.Tensor>();
  return tf.stack(
    rows.map((r) => {
      if (!r.meanOver) return ones;
      let v = memo.get(r.meanOver.id);
      if (!v) memo.set(r.meanOver.id, (v = tf.reciprocal(tf.maximum(tf.sum(r.meanOver, 1), 1))));
      return v;
    }),
  ) as tf.Tensor2D;
}

/**
 * The rows of `out` as [B] tensors, for the taped per-pair tail. Every row must reach the loss:
 * tfjs's unstack gradient fails on an unused output (and on a single one, hence the reshape).
 */
export function outRows(out: tf.Tensor2D): tf.Tensor1D[] {
  return out.shape[0] === 1 ? [tf.reshape(out, [-1]) as tf.Tensor1D] : (tf.unstack(out) as tf.Tensor1D[]);
}

interface Impl {
  /** Forward of op 1: the raw sums [K, B] and what `valueGrads` needs saved. */
  sums: () => { sums: tf.Tensor2D; saves: tf.Tensor[] };
  valueGrads: (inputs: tf.Tensor2D[], d: tf.Tensor2D, saved: tf.Tensor[]) => tf.Tensor2D[];
  /** Forward of op 2: what `gateGrads` needs saved. */
  gateSaves: () => tf.Tensor[];
  gateGrads: (inputs: tf.Tensor2D[], d: tf.Tensor2D, saved: tf.Tensor[]) => tf.Tensor2D[];
}

/** A key naming a row's constant weight (same key, same product). */
function weightKey(r: WeightedRow): string {
  const ids = (ts: ReadonlyArray<tf.Tensor | undefined> = []) => ts.filter((t) => t).map((t) => t!.id).join(',');
  return `${r.weight.id}|${ids(r.factors)}|${ids(r.complements)}`;
}

/** The constant tensors of a row's weight, each present one once. */
function weightParts(r: WeightedRow): { factors: tf.Tensor2D[]; complements: tf.Tensor2D[] } {
  const present = (ts: ReadonlyArray<tf.Tensor2D | undefined> = []) => ts.filter((t): t is tf.Tensor2D => t !== undefined);
  return { factors: [r.weight, ...present(r.factors)], complements: present(r.complements) };
}

function unique(ts: tf.Tensor2D[]): tf.Tensor2D[] {
  return [...new Map(ts.map((t) => [t.id, t])).values()];
}

/**
 * Tensor ops; the backward uses only saved tensors (the caller's may be disposed by then). All K
 * sums are one multiply and one sum over the stacked values and multipliers ([K, B, T]); on wasm
 * that is cheaper than K batched-matMul row dots, and far cheaper than a [K, B, 1] × [K, B, T]
 * broadcast (3-D broadcasting takes a slow generic path there), which is why the backward scales
 * each row's [B, T] multiplier by its [B, 1] column instead.
 */
function tensorImpl(rows: readonly WeightedRow[], columnKeys: readonly string[]): Impl {
  const weightOf = (r: WeightedRow, get: (t: tf.Tensor2D) => tf.Tensor) => {
    const { factors, complements } = weightParts(r);
    let w = get(factors[0]);
    for (const f of factors.slice(1)) w = tf.mul(w, get(f));
    for (const c of complements) w = tf.mul(w, tf.sub(1, get(c)));
    return w as tf.Tensor2D;
  };
  // Op 2's saved tensors, each once; per gated or abs row, where its factors sit in that list.
  const gateSaves = new Saves();
  const gatePlan = rows.map((r) => {
    if (!carriesGate(r)) return undefined;
    const { factors, complements } = weightParts(r);
    [...factors, ...complements].forEach((t) => gateSaves.at(t));
    return { x: gateSaves.at(r.x), o: r.offset ? gateSaves.at(r.offset) : -1 };
  });
  let valuePlan: number[] = [];
  return {
    sums: () => {
      const ws = new Map<string, tf.Tensor2D>(); // constant weights, one per distinct product
      const wOf = (r: WeightedRow) => {
        const key = weightKey(r);
        let w = ws.get(key);
        if (!w) ws.set(key, (w = weightOf(r, (t) => t)));
        return w;
      };
      const gated = new Map<string, tf.Tensor2D>(); // w·g, shared by rows with the same weight and gate
      const multiplier = (r: WeightedRow) => {
        if (r.abs || !r.gate) return wOf(r);
        const key = `${weightKey(r)}|${r.gate.id}`;
        let m = gated.get(key);
        if (!m) gated.set(key, (m = tf.mul(wOf(r), r.gate) as tf.Tensor2D));
        return m;
      };
      const values = tf.stack(rows.map((r) => (r.abs ? tf.abs(r.x) : r.offset ? tf.sub(r.x, r.offset) : r.x)));
      const mults = rows.map(multiplier);
      const valueSaves = new Saves();
      valuePlan = rows.map((r, k) => (r.abs ? -1 : valueSaves.at(mults[k])));
      return { sums: tf.sum(tf.mul(values, tf.stack(mults)), 2) as tf.Tensor2D, saves: valueSaves.list }; // [K, B]
    },
    valueGrads: (inputs, d, saved) => {
      const dk = tf.unstack(d) as tf.Tensor1D[];
      const terms = inputs.map((): Array<[tf.Tensor1D, tf.Tensor2D]> => []);
      const keys = inputs.map((): string[] => []);
      rows.forEach((r, k) => {
        if (r.abs) return;
        const i = inputs.indexOf(r.x);
        terms[i].push([dk[k], saved[valuePlan[k]] as tf.Tensor2D]);
        keys[i].push(`${columnKeys[k]}|${valuePlan[k]}`);
      });
      // Inputs whose terms are the same (same C columns, same multipliers: SparsePO's lp and KL) share one product.
      const done = new Map<string, tf.Tensor2D>();
      return terms.map((ts, i) => {
        const key = keys[i].join(' ');
        const again = done.get(key);
        if (again) return again.clone();
        const g = scaleRows(ts);
        done.set(key, g);
        return g;
      });
    },
    gateSaves: () => gateSaves.list,
    gateGrads: (inputs, d, saved) => {
      const dk = tf.unstack(d) as tf.Tensor1D[];
      const terms = inputs.map((): Array<[tf.Tensor1D, tf.Tensor2D]> => []);
      rows.forEach((r, k) => {
        const plan = gatePlan[k];
        if (!plan) return;
        const w = weightOf(r, (t) => saved[gateSaves.at(t)]);
        const x = saved[plan.x];
        if (r.abs) terms[inputs.indexOf(r.x)].push([dk[k], tf.mul(w, tf.sign(x)) as tf.Tensor2D]);
        else terms[inputs.indexOf(r.gate!)].push([dk[k], tf.mul(w, plan.o >= 0 ? tf.sub(x, saved[plan.o]) : x) as tf.Tensor2D]);
      });
      return terms.map(scaleRows);
    },
  };
}

/** A list of tensors to save, each once, with the position of each. */
class Saves {
  readonly list: tf.Tensor[] = [];
  private readonly pos = new Map<number, number>();
  at(t: tf.Tensor): number {
    let i = this.pos.get(t.id);
    if (i === undefined) {
      i = this.list.length;
      this.pos.set(t.id, i);
      this.list.push(t);
    }
    return i;
  }
}

/** One JS pass over host copies (cpu backend: `dataSync` there returns the backing array). */
function hostImpl(rows: readonly WeightedRow[], B: number, T: number): Impl {
  const N = B * T;
  const data = new Map<number, ArrayLike<number>>(); // tensor id → values, read in the forward
  const read = (t: tf.Tensor2D) => {
    let v = data.get(t.id);
    if (!v) data.set(t.id, (v = t.dataSync() as Float32Array));
    return v;
  };
  const weights = new Map<string, ArrayLike<number>>();
  const weightOf = (r: WeightedRow) => {
    const key = weightKey(r);
    let w = weights.get(key);
    if (!w) {
      const { factors, complements } = weightParts(r);
      if (factors.length === 1 && complements.length === 0) w = read(factors[0]);
      else {
        const p = Float32Array.from(read(factors[0]));
        for (const f of factors.slice(1)) multiplyInto(p, read(f));
        for (const c of complements) {
          const v = read(c);
          for (let i = 0; i < N; i++) p[i] *= 1 - v[i];
        }
        w = p;
      }
      weights.set(key, w);
    }
    return w;
  };
  // Per row, read once in the forward: the constant weight w, the gate g and the values' inputs x, o.
  let parts: Array<{ w: ArrayLike<number>; g: ArrayLike<number> | undefined; x: ArrayLike<number>; o: ArrayLike<number> | undefined }> = [];
  /** grad[target] += d_k[b] · m[i] (· m2[i]) over the rows that `pick` maps to multipliers. */
  const grads = (inputs: tf.Tensor2D[], d: tf.Tensor2D, pick: (r: WeightedRow, k: number) => { target: tf.Tensor2D; m: ArrayLike<number>; m2?: ArrayLike<number> } | undefined) => {
    const dv = d.dataSync();
    const out = inputs.map(() => new Float32Array(N));
    rows.forEach((r, k) => {
      const p = pick(r, k);
      if (!p) return;
      const g = out[inputs.indexOf(p.target)];
      const { m, m2 } = p;
      for (let b = 0, i = 0; b < B; b++) {
        const db = dv[k * B + b];
        if (m2) for (const end = i + T; i < end; i++) g[i] += db * m[i] * m2[i];
        else for (const end = i + T; i < end; i++) g[i] += db * m[i];
      }
    });
    return out.map((g) => tf.tensor2d(g, [B, T]));
  };
  return {
    sums: () => {
      const S = new Float32Array(rows.length * B);
      parts = rows.map((r, k) => {
        const x = read(r.x);
        const o = r.offset && read(r.offset);
        const g = r.gate && read(r.gate);
        const w = weightOf(r);
        for (let b = 0, i = 0; b < B; b++) {
          let acc = 0;
          const end = i + T;
          if (r.abs) for (; i < end; i++) acc += w[i] * Math.abs(x[i]);
          else if (o && g) for (; i < end; i++) acc += w[i] * g[i] * (x[i] - o[i]);
          else if (o) for (; i < end; i++) acc += w[i] * (x[i] - o[i]);
          else if (g) for (; i < end; i++) acc += w[i] * g[i] * x[i];
          else for (; i < end; i++) acc += w[i] * x[i];
          S[k * B + b] = acc;
        }
        return { w, g, x, o };
      });
      return { sums: tf.tensor2d(S, [rows.length, B]), saves: [] };
    },
    valueGrads: (inputs, d) => grads(inputs, d, (r, k) => (r.abs ? undefined : { target: r.x, m: parts[k].w, m2: parts[k].g })),
    gateSaves: () => [],
    gateGrads: (inputs, d) =>
      grads(inputs, d, (r, k) => {
        const { w, x, o } = parts[k];
        if (!carriesGate(r)) return undefined;
        if (r.abs) return { target: r.x, m: w, m2: map(x, Math.sign) };
        return r.gate ? { target: r.gate, m: w, m2: o ? difference(x, o) : x } : undefined;
      }),
  };
}

// Plain loops: `Float32Array.from` with a map function goes through the iterator protocol (~10× slower).
function multiplyInto(a: Float32Array, b: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) a[i] *= b[i];
}

function difference(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < out.length; i++) out[i] = a[i] - b[i];
  return out;
}

function map(a: ArrayLike<number>, f: (v: number) => number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < out.length; i++) out[i] = f(a[i]);
  return out;
}
