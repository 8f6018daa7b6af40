/**
 * KL estimators.
 *
 * k3 (Schulman, "Approximating KL divergence", 2020; GRPO arXiv 2402.03300 eq. 4), per sampled token:
 *   k3_t = exp(lp_ref − lp_θ) − (lp_ref − lp_θ) − 1   ≥ 0, unbiased for KL(πθ ‖ π_ref) under y ~ πθ.
 * Departure: the log-ratio is clamped to [−20, 20] before the exp (verl clamps to ±20 as well), so an
 * extreme log-prob gap gives a large finite value and gradient instead of Inf/NaN.
 * One recorded op with its closed-form gradient, ∂(c·k3)/∂lp_θ = c·(1 − e^d)·[|lp_ref − lp_θ| ≤ 20]
 * (zero where the clamp is active, as the gradient of the clamp itself): the chain of five
 * elementwise ops and, above all, the clamp's gradient (two comparisons, a logical and and a where:
 * ~40 µs each on wasm for [64, 256]) cost more than the few FLOPs per token (bench/losses.ts).
 * On the cpu backend it is one host loop (reads are free there, its elementwise kernels slow).
 *
 * Full-vocabulary KL(π_ref ‖ πθ) per position from logits (TDPO arXiv 2404.11999 eq. 8; SparsePO
 * arXiv 2410.05102): Σ_v π_ref(v) (log π_ref(v) − log πθ(v)), differentiable in the policy logits,
 * also one recorded op: its gradient is softmax(z) − π_ref. Against the taped chain (two
 * log-softmaxes, exp, product, sum, each saving [B, T, V] copies) that is 12-30% less time for the
 * KL with its backward (wasm and tensorflow, [64, 4, 20] to [8, 128, 2048]) and one saved tensor.
 */
import * as tf from '@tensorflow/tfjs';
import { readsAreFree } from './tensor-utils.js';

const LOG_RATIO_CLAMP = 20;

/**
 * @param logp    [B, T] policy log-probs of the taken tokens (differentiable)
 * @param refLogp [B, T] reference log-probs of the same tokens (constants)
 * @param coef    c, a constant factor folded into the op (β_KL in ppo-clip); default 1
 * @returns [B, T] c · k3 per token (finite at masked positions when inputs are finite)
 */
export function k3(logp: tf.Tensor2D, refLogp: tf.Tensor2D, coef = 1): tf.Tensor2D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [lp, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const { value, slope } = readsAreFree() ? k3Host(lp, refLogp, coef) : k3Tensor(lp, refLogp, coef);
    save([slope]);
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, saved[0])] };
  });
  return op(logp) as tf.Tensor2D;
}

/** c·k3 and its slope c·(1 − e^d)·[|raw| ≤ 20] as tensor ops (run inside the op's forward: untaped). */
function k3Tensor(logp: tf.Tensor2D, refLogp: tf.Tensor2D, coef: number): { value: tf.Tensor2D; slope: tf.Tensor2D } {
  const raw = tf.sub(refLogp, logp);
  const d = tf.clipByValue(raw, -LOG_RATIO_CLAMP, LOG_RATIO_CLAMP);
  const e = tf.exp(d);
  const value = tf.mul(tf.sub(tf.sub(e, d), 1), coef) as tf.Tensor2D;
  // [|raw| ≤ 20] = 1 − step(|raw| − 20): step (x > 0) is ~10× cheaper than a comparison on wasm
  const inRange = tf.sub(1, tf.step(tf.sub(tf.abs(raw), LOG_RATIO_CLAMP)));
  return { value, slope: tf.mul(tf.mul(tf.sub(1, e), inRange), coef) as tf.Tensor2D };
}

function k3Host(logp: tf.Tensor2D, refLogp: tf.Tensor2D, coef: number): { value: tf.Tensor2D; slope: tf.Tensor2D } {
  const lp = logp.dataSync();
  const ref = refLogp.dataSync();
  const value = new Float32Array(lp.length);
  const slope = new Float32Array(lp.length);
  for (let i = 0; i < lp.length; i++) {
    const raw = ref[i] - lp[i];
    const d = raw < -LOG_RATIO_CLAMP ? -LOG_RATIO_CLAMP : raw > LOG_RATIO_CLAMP ? LOG_RATIO_CLAMP : raw;
    const e = Math.exp(d);
    value[i] = coef * (e - d - 1);
    slope[i] = d === raw ? coef * (1 - e) : 0;
  }
  return { value: tf.tensor2d(value, logp.shape), slope: tf.tensor2d(slope, logp.shape) };
}

/**
 * One recorded op with its closed-form gradient: ∂KL_t/∂z_t = softmax(z_t) − π_ref,t (as Σ_v π_ref = 1),
 * so the taped log-softmax, exp, product and sum (each saving [B, T, V] copies and adding its own
 * backward ops) become one saved [B, T, V] difference and one product in the backward.
 * @param policyLogits [B, T, V] policy logits (differentiable)
 * @param refLogits    [B, T, V] reference logits (constants: no gradient reaches them)
 * @returns [B, T] KL(π_ref ‖ πθ) per position, ≥ 0
 */
export function klRefPolicyFromLogits(policyLogits: tf.Tensor3D, refLogits: tf.Tensor3D): tf.Tensor2D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [z, save] = args as [tf.Tensor3D, tf.GradSaveFunc];
    const lpRef = tf.logSoftmax(refLogits, -1);
    const lpPol = tf.logSoftmax(z, -1);
    const pRef = tf.exp(lpRef);
    save([tf.sub(tf.exp(lpPol), pRef)]);
    return {
      value: tf.sum(tf.mul(pRef, tf.sub(lpRef, lpPol)), -1),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(tf.expandDims(dy, -1), saved[0])],
    };
  });
  return op(policyLogits) as tf.Tensor2D;
}
