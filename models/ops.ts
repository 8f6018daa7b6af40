/**
 * Differentiable building blocks shared by the model classes. Two limits of the TensorFlow.js wasm
 * backend shape them, and only on wasm:
 *  - its BatchMatMul is 20-40x slower with a transposed 2-D operand, so there {@link dense} transposes
 *    explicitly in its backward pass (batched 4-D attention matmuls showed no such gap); libtensorflow
 *    takes matMul's transpose flags at full speed, so elsewhere no transpose is materialised;
 *  - it has no kernel for `gather`'s gradient (UnsortedSegmentSum), so there tokens are embedded with
 *    a one-hot matmul and {@link selectRows} computes its gradient with a second gather; elsewhere
 *    {@link embedRows} is a gather whose gradient runs on the backend.
 */
import * as tf from '@tensorflow/tfjs';

/** Additive mask value for keys a query must not see. */
export const NEG_INF = -1e9;

/** The wasm backend: slow with transposed matmul operands, no gather gradient (see the header). */
export function onWasm(): boolean {
  return tf.getBackend() === 'wasm';
}

/**
 * 2-D matmul whose backward pass transposes explicitly instead of using matMul's transpose flags:
 * on wasm, ([704,256]ᵀ·[704,64] measured ~25 ms with the flag against ~0.7 ms transpose-then-multiply).
 */
const denseTransposing = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as tf.Tensor2D[];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy as tf.Tensor2D)];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/**
 * a [N,in] @ wᵀ for a weight stored [out, in] (Hugging Face's layout), without keeping a transposed
 * copy of w: the forward transposes inside the op (wasm, whose transposed-operand matmul is slow;
 * the copy is freed when the op returns) or uses matMul's flag (other backends), and only a and w
 * are saved for the backward. Transposing w outside the op kept a full float32 copy of every
 * weight matrix alive for the whole forward pass, and on the gradient tape until the backward
 * (540 MB for SmolLM2-135M; issue 17).
 */
export const denseT = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, w]);
  const flags = !onWasm();
  return {
    value: flags ? tf.matMul(a, w, false, true) : tf.matMul(a, tf.transpose(w)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sw] = saved as tf.Tensor2D[];
      const g = dy as tf.Tensor2D;
      // da = dy·w; dw = dyᵀ·a (dy is activation-sized, so its explicit transpose on wasm is cheap)
      return [tf.matMul(g, sw), flags ? tf.matMul(g, sa, true, false) : tf.matMul(tf.transpose(g), sa)];
    },
  };
}) as (a: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/**
 * a [n,k] @ b [k,m]. On wasm the backward pass transposes explicitly (header); elsewhere matMul's own
 * gradient, whose transposed products run as flags: two Transpose kernels fewer per use.
 */
export function dense(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return onWasm() ? denseTransposing(a, b) : tf.matMul(a, b);
}

/**
 * x [N,dIn] @ w [dIn,dOut] (+ b) -> [N,dOut]; `decoding`: nothing will be differentiated. Callers keep activations 2-D ([B·T, d]) between
 * layers: on libtensorflow a Reshape is a kernel of its own, and flattening to [B·T, d] and back
 * around every matmul cost two of them per layer forward and two more backward.
 */
export function linear(x: tf.Tensor2D, w: tf.Tensor, b?: tf.Tensor, decoding = false): tf.Tensor2D {
  // Decoding differentiates nothing: the plain ops, without a custom gradient's bookkeeping.
  if (b && !decoding && !onWasm()) return affine(x, w as tf.Tensor2D, b as tf.Tensor1D);
  // dense's written-out gradient (wasm) has the same forward, a plain matMul.
  const y: tf.Tensor2D = decoding ? tf.matMul(x, w as tf.Tensor2D) : dense(x, w as tf.Tensor2D);
  return b ? tf.add(y, b) : y;
}

/**
 * x @ w + b with the gradient written out: the same products and the same column sum as tfjs's own
 * gradients of matMul and of the broadcasting add, without the add's two Reshapes (no-ops here, but
 * each a kernel and a shape upload on libtensorflow). The matMul's transposes run as flags, so not
 * on wasm (see the header).
 */
const affine = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w), b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as tf.Tensor2D[];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, sw, false, true), tf.matMul(sx, g, true, false), tf.sum(g, 0)];
    },
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/**
 * table[ids] (ids of any shape, flattened) -> [ids.size, d]; differentiable in `table`. A gather, whose
 * gradient (UnsortedSegmentSum) runs on the backend; on wasm, which lacks that kernel, a one-hot matmul.
 */
export function embedRows(ids: tf.Tensor, table: tf.Tensor2D): tf.Tensor2D {
  // A cast to the same dtype is still a kernel; token ids are int32 already on every path here.
  const flat = tf.reshape(ids.dtype === 'int32' ? ids : tf.cast(ids, 'int32'), [ids.size]);
  if (!onWasm()) return tf.gather(table, flat);
  return dense(tf.oneHot(flat, table.shape[0]) as tf.Tensor2D, table);
}

/**
 * out[i] = x[idx[i]] for x [n,d], with idx[i] = -1 giving a zero row. Valid indices must be
 * distinct (checked), so the gradient is itself a gather: dx[j] = dy[i] where idx[i] = j, else 0.
 */
export function selectRows(x: tf.Tensor2D, idx: Int32Array): tf.Tensor2D {
  const n = x.shape[0];
  const m = idx.length;
  const inverse = new Int32Array(n).fill(m); // m = the appended zero row of dy
  const fwd = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const j = idx[i];
    if (j < 0) {
      fwd[i] = n; // the appended zero row of x
      continue;
    }
    if (j >= n || inverse[j] !== m) throw new Error(`selectRows: index ${j} repeated or outside [0, ${n})`);
    inverse[j] = i;
    fwd[i] = j;
  }
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const a = args[0] as tf.Tensor2D;
    const withZero = (t: tf.Tensor2D) => tf.concat([t, tf.zeros([1, t.shape[1]])], 0);
    return {
      value: tf.gather(withZero(a), tf.tensor1d(fwd, 'int32')),
      gradFunc: (dy: tf.Tensor) => tf.gather(withZero(dy as tf.Tensor2D), tf.tensor1d(inverse, 'int32')),
    };
  }) as (a: tf.Tensor2D) => tf.Tensor2D;
  return op(x);
}

/** [1,1,T,past+T] additive mask: query i (at buffer index past+i) sees keys 0..past+i. */
export function causalBias(T: number, past: number): tf.Tensor4D {
  const Tk = past + T;
  const data = new Float32Array(T * Tk);
  for (let i = 0; i < T; i++) for (let j = past + i + 1; j < Tk; j++) data[i * Tk + j] = NEG_INF;
  return tf.tensor4d(data, [1, 1, T, Tk]);
}

/**
 * table[ids] -> [ids.length, d], differentiable in `table`. The gradient is a scatter-add: done in
 * JS on wasm (no UnsortedSegmentSum kernel) and plain JS, with the backend's kernel elsewhere.
 * Unlike {@link embedRows} it never builds an [N, vocab] one-hot, so it suits large vocabularies.
 */
export function embedLookup(ids: Int32Array, table: tf.Tensor2D): tf.Tensor2D {
  const [V, d] = table.shape;
  for (const id of ids) if (!(id >= 0 && id < V)) throw new Error(`embedLookup: token id ${id} outside [0, ${V})`);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const t = args[0] as tf.Tensor2D;
    return {
      value: tf.gather(t, tf.tensor1d(ids, 'int32')),
      gradFunc: (dy: tf.Tensor) => {
        // On the backend where it has the kernel (libtensorflow, WebGL, CUDA): no round trip through JS.
        if (!['cpu', 'wasm'].includes(tf.getBackend())) return tf.unsortedSegmentSum(dy, tf.tensor1d(ids, 'int32'), V);
        const g = dy.dataSync() as Float32Array;
        const out = new Float32Array(V * d);
        for (let i = 0; i < ids.length; i++) {
          const src = i * d;
          const dst = ids[i] * d;
          for (let k = 0; k < d; k++) out[dst + k] += g[src + k];
        }
        return tf.tensor2d(out, [V, d]);
      },
    };
  }) as (t: tf.Tensor2D) => tf.Tensor2D;
  return op(table);
}
