/**
 * KL estimators.
 *
 * k3 (Schulman, "Approximating KL divergence", 2020; GRPO arXiv 2402.03300 eq. 4), per sampled token:
 *   k3_t = exp(lp_ref − lp_θ) − (lp_ref − lp_θ) − 1   ≥ 0, unbiased for KL(πθ ‖ π_ref) under y ~ πθ.
 * Departure: the log-ratio is clamped to [−20, 20] before the exp (verl clamps to ±20 as well), so an
 * extreme log-prob gap gives a large finite value and gradient instead of Inf/NaN.
 *
 * Full-vocabulary KL(π_ref ‖ πθ) per position from logits (TDPO arXiv 2404.11999 eq. 8; SparsePO
 * arXiv 2410.05102): Σ_v π_ref(v) (log π_ref(v) − log πθ(v)), differentiable in the policy logits.
 */
import * as tf from '@tensorflow/tfjs';

const LOG_RATIO_CLAMP = 20;

/**
 * @param logp    [B, T] policy log-probs of the taken tokens (differentiable)
 * @param refLogp [B, T] reference log-probs of the same tokens (constants)
 * @returns [B, T] k3 estimate per token (finite at masked positions when inputs are finite)
 */
export function k3(logp: tf.Tensor2D, refLogp: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const d = tf.clipByValue(tf.sub(refLogp, logp), -LOG_RATIO_CLAMP, LOG_RATIO_CLAMP);
    return tf.sub(tf.sub(tf.exp(d), d), 1) as tf.Tensor2D;
  });
}

/**
 * @param policyLogits [B, T, V] policy logits (differentiable)
 * @param refLogits    [B, T, V] reference logits (constants)
 * @returns [B, T] KL(π_ref ‖ πθ) per position, ≥ 0
 */
export function klRefPolicyFromLogits(policyLogits: tf.Tensor3D, refLogits: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const lpRef = tf.logSoftmax(refLogits, -1);
    const lpPol = tf.logSoftmax(policyLogits, -1);
    return tf.sum(tf.mul(tf.exp(lpRef), tf.sub(lpRef, lpPol)), -1) as tf.Tensor2D;
  });
}
