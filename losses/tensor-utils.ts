/** Small tensor helpers shared inside losses/ (not re-exported from index.ts except `stopGradient`). */
import * as tf from '@tensorflow/tfjs';

/**
 * sg[x]: the value of x with zero gradient (tfjs has no stop_gradient op).
 * Shapes: any → same.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const a = args[0] as tf.Tensor;
    return { value: a.clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  });
  return f(x) as T;
}

/** x where mask > 0, else 0; the gradient at masked positions is 0 (never NaN, even for ±Inf/NaN x). */
export function maskedValues(x: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor2D {
  return tf.where(tf.greater(mask, 0), x, tf.zerosLike(x));
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
