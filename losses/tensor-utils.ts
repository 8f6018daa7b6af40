/** Small tensor helpers shared inside losses/ (only `stopGradient` is re-exported by index.ts). */
import * as tf from '@tensorflow/tfjs';

/**
 * The tensors `stopGradient` returned: constants by construction, which the fused row sums
 * (row-sums.ts) fold into their constant weights instead of carrying a gradient for. A mark on the
 * tensor object (tfjs tensors have no field for it), so a clone or slice of one is not marked.
 */
const STOPPED = new WeakSet<tf.Tensor>();

/**
 * sg[x]: the value of x with zero gradient (tfjs has no stop_gradient op). Differentiate through
 * it, not w.r.t. it: a loss may treat the result as a constant (no gradient reaches it at all).
 * Shapes: any → same.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const a = args[0] as tf.Tensor;
    return { value: a.clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  });
  const out = f(x) as T;
  STOPPED.add(out);
  return out;
}

/** Whether `t` is a result of `stopGradient` (a constant). */
export function isStopped(t: tf.Tensor): boolean {
  return STOPPED.has(t);
}

/**
 * Row-wise dot product Σ_t x[b,t]·w[b,t] → [B], as one batched matMul ([B,1,T]·[B,T,1]).
 * On the tfjs CPU backend this is several times cheaper than mul + sum, forward and backward,
 * which is what keeps the token-weighted objectives close to their baselines' cost.
 * Both inputs must be finite everywhere (a masked position holding Inf would give 0 · Inf = NaN).
 */
export function rowDot(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor1D {
  const [b, t] = x.shape;
  return tf.reshape(tf.matMul(tf.reshape(x, [b, 1, t]) as tf.Tensor3D, tf.reshape(w, [b, t, 1]) as tf.Tensor3D), [b]) as tf.Tensor1D;
}

/**
 * Whether reading a tensor on the host costs nothing: the cpu backend's `dataSync` returns the
 * backing array, while its elementwise kernels cost ~40-100 µs on [32, 256] (per-element index
 * arithmetic), so one JS loop beats a chain of ops there. On wasm a read is a copy out of the
 * heap and an upload a copy in (~3-17 µs each) and its kernels are ~3-7 µs: tensor ops win.
 */
export function readsAreFree(): boolean {
  return tf.getBackend() === 'cpu';
}

/**
 * Σ_j d_j[b] · M_j[b, t] → [B, T]: per-row scalings of [B, T] matrices, summed (the backward of a
 * weighted row sum). The cpu backend's broadcasting multiply does index arithmetic per element
 * (~0.6 ms for [32, 256], 15× its same-shape multiply), so there it is one host loop; elsewhere a
 * broadcast multiply per term.
 * @param terms pairs of d [B] and M [B, T]
 */
export function scaleRows(terms: ReadonlyArray<readonly [tf.Tensor1D, tf.Tensor2D]>): tf.Tensor2D {
  if (terms.length === 0) throw new Error('scaleRows needs at least one term');
  const [b, t] = terms[0][1].shape;
  if (readsAreFree()) {
    const out = new Float32Array(b * t);
    for (const [d, m] of terms) {
      const dv = d.dataSync();
      const mv = m.dataSync();
      for (let i = 0; i < b; i++) {
        const di = dv[i];
        for (let j = i * t, end = j + t; j < end; j++) out[j] += di * mv[j];
      }
    }
    return tf.tensor2d(out, [b, t]);
  }
  let acc: tf.Tensor2D | undefined;
  for (const [d, m] of terms) {
    const term = tf.mul(tf.reshape(d, [b, 1]), m) as tf.Tensor2D;
    acc = acc ? (tf.add(acc, term) as tf.Tensor2D) : term;
  }
  return acc!;
}

/** Product of the given [B, T] factors (undefined ones skipped); `base` when none is given. */
export function product(base: tf.Tensor2D, ...factors: Array<tf.Tensor2D | undefined>): tf.Tensor2D {
  let w = base;
  for (const f of factors) if (f) w = tf.mul(w, f);
  return w;
}

/** Backends whose tensors live in host memory, where reading constants with `dataSync` is cheap. */
const HOST_BACKENDS = new Set(['cpu', 'tensorflow', 'wasm']);

/** Whether the active backend keeps tensors in host memory (cheap `dataSync` of constants). */
export function isHostBackend(): boolean {
  return HOST_BACKENDS.has(tf.getBackend());
}

/**
 * Π factors · Π (1 − complements) of constant [B, T] tensors (masks, weights, scores: never on the
 * gradient path), skipping undefined ones. On host-memory backends it is one JS loop and one upload,
 * several times cheaper than a chain of tfjs elementwise ops; elsewhere it is the tensor product.
 * No gradient reaches the inputs: use it for constants only.
 */
export function constantWeights(factors: Array<tf.Tensor2D | undefined>, complements: Array<tf.Tensor2D | undefined> = []): tf.Tensor2D {
  const fs = factors.filter((f): f is tf.Tensor2D => f !== undefined);
  const cs = complements.filter((c): c is tf.Tensor2D => c !== undefined);
  if (fs.length === 0) throw new Error('constantWeights needs at least one factor');
  if (fs.length === 1 && cs.length === 0) return fs[0];
  if (!isHostBackend()) {
    let w = product(fs[0], ...fs.slice(1));
    for (const c of cs) w = tf.mul(w, tf.sub(1, c));
    return w;
  }
  const out = Float32Array.from(fs[0].dataSync());
  for (const f of fs.slice(1)) {
    const v = f.dataSync();
    for (let i = 0; i < out.length; i++) out[i] *= v[i];
  }
  for (const c of cs) {
    const v = c.dataSync();
    for (let i = 0; i < out.length; i++) out[i] *= 1 - v[i];
  }
  return tf.tensor2d(out, fs[0].shape);
}

/**
 * Runs `fn` with the gradient tape off and keeps what it returns (the caller disposes it): for
 * values that only feed metrics. Inside a `customGrad` forward tfjs records nothing, so these ops
 * cost their kernels but no tape node, no copies of their saved inputs and no backward.
 */
export function untaped(fn: () => tf.Tensor[]): tf.Tensor[] {
  let out: tf.Tensor[] = [];
  const op = tf.customGrad(() => {
    out = fn().map((t) => tf.keep(t));
    return { value: tf.scalar(0), gradFunc: () => [] };
  });
  op().dispose();
  return out;
}

/**
 * [a > b] as float32 (finite inputs). On wasm step(a − b) costs ~9 µs for [64, 256] against ~60 µs
 * for greater + cast; on cpu the reverse (~270 µs against ~185 µs).
 */
export function greaterIndicator(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return readsAreFree() ? tf.cast(tf.greater(a, b), 'float32') : tf.step(tf.sub(a, b));
}

/** Reads a small 1-D tensor of metric sums and disposes it. */
export function readAndDispose(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

/** Runs a loss body in a tidy scope: intermediates are freed, `loss` survives, metrics are numbers. */
export function tidyLoss<R extends { loss: tf.Scalar; metrics: Record<string, number> }>(fn: () => R): R {
  return tf.tidy(() => fn() as unknown as tf.TensorContainerObject) as unknown as R;
}
