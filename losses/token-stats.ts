/**
 * Per-token statistics from logits: log-probs of the taken tokens and per-position entropy.
 *
 *   log π(y_t) = z_t[y_t] − logsumexp(z_t)                 (z = logits / temperature)
 *   H_t        = logsumexp(z_t) − Σ_v softmax(z_t)_v · z_t[v]
 *
 * Both are numerically stable: logsumexp subtracts the row maximum, and the entropy is computed on
 * logits with the row maximum taken out, so it is never negative. `takenLogProbs` never builds a
 * [B, T, V] one-hot or log-softmax: it gathers B·T logits from the flattened tensor and subtracts the
 * [B, T] logsumexp. `entropyFromLogits` needs one [B, T, V] probability tensor (the entropy is a sum
 * over the vocabulary; nothing smaller can give it). The forking-token objective uses the entropy of
 * the sampling distribution, so pass the sampling temperature (paper, TRL).
 */
import * as tf from '@tensorflow/tfjs';
import { LossInputError } from './errors.js';

function scaled(logits: tf.Tensor3D, temperature: number): tf.Tensor3D {
  if (!(temperature > 0)) throw new LossInputError('token-stats', `temperature must be > 0, got ${temperature}`);
  return temperature === 1 ? logits : tf.div(logits, temperature);
}

/**
 * @param logits [B, T, V] (differentiable)
 * @param ids    [B, T] int32 taken-token ids in [0, V)
 * @returns [B, T] log π(y_t)
 */
export function takenLogProbs(logits: tf.Tensor3D, ids: tf.Tensor2D, temperature = 1): tf.Tensor2D {
  const [b, t, v] = logits.shape;
  if (ids.shape[0] !== b || ids.shape[1] !== t) throw new LossInputError('takenLogProbs', `ids shape [${ids.shape}] does not match logits [${logits.shape}]`);
  return tf.tidy(() => {
    const z = scaled(logits, temperature);
    const lse = tf.logSumExp(z, -1); // [B, T]
    const flatIdx = tf.add(tf.mul(tf.range(0, b * t, 1, 'int32'), tf.scalar(v, 'int32')), tf.cast(tf.reshape(ids, [b * t]), 'int32'));
    const picked = tf.reshape(tf.gather(tf.reshape(z, [b * t * v]), flatIdx), [b, t]);
    return tf.sub(picked, lse) as tf.Tensor2D;
  });
}

/**
 * @param logits [B, T, V]
 * @returns [B, T] entropy (nats) of softmax(logits / temperature)
 */
export function entropyFromLogits(logits: tf.Tensor3D, temperature = 1): tf.Tensor2D {
  return tf.tidy(() => {
    // Take the row maximum out first (H is shift-invariant). Without it, H = lse − Σ p·z subtracts
    // two nearly equal large float32 numbers: logits [64, 50] gave −3.8e-5. With z' = z − max z ≤ 0,
    // lse' = log Σ exp z' ≥ 0 (one term is exp 0 = 1) and −Σ p·z' ≥ 0, so H ≥ 0 in float32 too.
    const z = scaled(logits, temperature);
    const shifted = tf.sub(z, tf.max(z, -1, true)); // [B, T, V], ≤ 0
    const lse = tf.logSumExp(shifted, -1, true); // [B, T, 1], ≥ 0
    const p = tf.exp(tf.sub(shifted, lse));
    return tf.sub(tf.squeeze(lse, [-1]), tf.sum(tf.mul(p, shifted), -1)) as tf.Tensor2D;
  });
}
