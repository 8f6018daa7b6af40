/**
 * Masked aggregation of a per-token loss matrix: the one place where normalisation happens
 * (verl `agg_loss`; GRPO arXiv 2402.03300 eq. 21, DAPO arXiv 2503.14476 eq. 8–12,
 * Dr.GRPO arXiv 2503.20783 §3.2).
 *
 *   seq-mean-token-mean      (1/|S|) Σ_i (1/|o_i|) Σ_t w_it m_it ℓ_it      S = sequences with ≥1 valid token
 *   token-mean               Σ_it w_it m_it ℓ_it / Σ_it m_it
 *   seq-mean-token-sum-norm  Σ_it w_it m_it ℓ_it / (B · L_max)             L_max = maxLen ?? T
 *
 * Per-token weights w multiply the numerator only: the denominators count valid tokens of `mask`.
 * They are passed as `numerator` = m · w (mask included, so callers that already hold the product,
 * like the forking and SPO masks, pay for no extra tensor op).
 *
 * Departures: empty sequences (no valid token) are left out of `seq-mean-token-mean`'s outer mean
 * rather than producing 0/0 (verl divides by B after a NaN-prone inner mean); an all-masked batch
 * gives loss 0 with zero gradient in every mode.
 *
 * `lossMat` must be finite everywhere (masked positions included: 0 · Inf is NaN); the losses of
 * this folder guarantee it for finite inputs.
 */
import * as tf from '@tensorflow/tfjs';
import type { AggregationMode } from './types.js';
import { LossInputError } from './errors.js';
import { rowDot } from './tensor-utils.js';

export const AGGREGATION_MODES = ['seq-mean-token-mean', 'token-mean', 'seq-mean-token-sum-norm'] as const satisfies readonly AggregationMode[];

/**
 * @param lossMat [B, T] per-token losses
 * @param mask    [B, T] 1 = valid token
 * @param mode    aggregation mode
 * @param maxLen  L_max for `seq-mean-token-sum-norm` (default T)
 * @param numerator [B, T] optional m · w replacing the mask in the numerator (0 wherever mask is 0)
 * @returns scalar
 */
export function aggregate(lossMat: tf.Tensor2D, mask: tf.Tensor2D, mode: AggregationMode, maxLen?: number, numerator?: tf.Tensor2D): tf.Scalar {
  if (!AGGREGATION_MODES.includes(mode)) {
    throw new LossInputError('aggregate', `unknown aggregation mode '${String(mode)}'; valid: ${AGGREGATION_MODES.join(', ')}`);
  }
  const [b, t] = lossMat.shape;
  const lMax = maxLen ?? t;
  if (mode === 'seq-mean-token-sum-norm' && !(lMax > 0)) throw new LossInputError('aggregate', `maxLen must be > 0, got ${lMax}`);
  return tf.tidy(() => {
    const rowSums = rowDot(lossMat, numerator ?? mask); // [B]
    if (mode === 'token-mean') return tf.div(tf.sum(rowSums), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
    if (mode === 'seq-mean-token-sum-norm') return tf.div(tf.sum(rowSums), Math.max(b, 1) * lMax) as tf.Scalar;
    const counts = tf.sum(mask, 1); // [B]
    const nonEmpty = tf.sum(tf.cast(tf.greater(counts, 0), 'float32'));
    return tf.div(tf.sum(tf.div(rowSums, tf.maximum(counts, 1))), tf.maximum(nonEmpty, 1)) as tf.Scalar;
  });
}
