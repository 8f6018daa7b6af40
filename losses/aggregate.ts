/**
 * Masked aggregation of a per-token loss matrix: the one place where normalisation happens
 * (verl `agg_loss`; GRPO arXiv 2402.03300 eq. 21, DAPO arXiv 2503.14476 eq. 8–12,
 * Dr.GRPO arXiv 2503.20783 §3.2).
 *
 *   seq-mean-token-mean      (1/|S|) Σ_i (1/|o_i|) Σ_t m_it ℓ_it      S = sequences with ≥1 valid token
 *   token-mean               Σ_it m_it ℓ_it / Σ_it m_it
 *   seq-mean-token-sum-norm  Σ_it m_it ℓ_it / (B · L_max)             L_max = maxLen ?? T
 *
 * Departures: empty sequences (no valid token) are left out of `seq-mean-token-mean`'s outer mean
 * rather than producing 0/0 (verl divides by B after a NaN-prone inner mean); an all-masked batch
 * gives loss 0 with zero gradient in every mode.
 *
 * `lossMat` must be finite at masked positions (the losses of this folder guarantee it); it is
 * multiplied by `mask`, so any per-token weight applied to `lossMat` beforehand leaves the
 * denominators unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import type { AggregationMode } from './types.js';
import { LossInputError } from './errors.js';

export const AGGREGATION_MODES = ['seq-mean-token-mean', 'token-mean', 'seq-mean-token-sum-norm'] as const satisfies readonly AggregationMode[];

/**
 * @param lossMat [B, T] per-token losses
 * @param mask    [B, T] 1 = valid token (may be fractional for weighted means)
 * @param mode    aggregation mode
 * @param maxLen  L_max for `seq-mean-token-sum-norm` (default T)
 * @returns scalar
 */
export function aggregate(lossMat: tf.Tensor2D, mask: tf.Tensor2D, mode: AggregationMode, maxLen?: number): tf.Scalar {
  return tf.tidy(() => {
    const masked = tf.mul(lossMat, mask);
    switch (mode) {
      case 'token-mean':
        return tf.div(tf.sum(masked), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
      case 'seq-mean-token-mean': {
        const perSeqCount = tf.sum(mask, 1); // [B]
        const perSeq = tf.div(tf.sum(masked, 1), tf.maximum(perSeqCount, 1)); // [B]
        const nonEmpty = tf.sum(tf.cast(tf.greater(perSeqCount, 0), 'float32'));
        return tf.div(tf.sum(perSeq), tf.maximum(nonEmpty, 1)) as tf.Scalar;
      }
      case 'seq-mean-token-sum-norm': {
        const [b, t] = lossMat.shape;
        const lMax = maxLen ?? t;
        if (!(lMax > 0)) throw new LossInputError('aggregate', `maxLen must be > 0, got ${lMax}`);
        return tf.div(tf.sum(masked), Math.max(b, 1) * lMax) as tf.Scalar;
      }
      default: {
        const never: never = mode;
        throw new LossInputError('aggregate', `unknown aggregation mode '${String(never)}'; valid: ${AGGREGATION_MODES.join(', ')}`);
      }
    }
  });
}
