/**
 * T-REG (Zhou, Zhang, Zhao, Meng, "T-REG: Preference Optimization with Token-Level Reward
 * Regularization", arXiv 2412.02685, ACL 2025), the DPO-REG form:
 *
 *   r̂_t     = σ( log π_eval(y_t | x_better, y_<t) − log π_eval(y_t | x_worse, y_<t) ) − 0.5   ∈ (−0.5, 0.5)
 *   r(y)    = β Σ_t m_t (lp_θ − lp_ref)[t]                     (DPO implicit reward)
 *   L_DPO   = −logσ( r(y_w) − r(y_l) )
 *   L_REG(y)= −β Σ_t m_t r̂_t lp_θ[t]                           (token-reward-weighted LM loss)
 *   w       = sg[ σ( r(y_l) − r(y_w) ) ]                       (the DPO gradient's pair weight)
 *   L       = mean_pairs[ L_DPO + α · w · ( L_REG(y_w) + L_REG(y_l) ) ]
 *
 * Sources actually read: the arXiv abstract (ar5iv, ACL Anthology) and a third-party summary
 * (papernotes, ACL2025 "t-reg_preference_optimization_with_token-level_reward_regularization"),
 * which states the formulas above. The paper body and the official repo wzhouad/T-REG could NOT be
 * retrieved here (the repo has no stored snapshot; only the papers' first sections were reachable),
 * so the open points of objectives.md §7.1 are decided as follows, each a choice, not a verified fact:
 *  - L_REG uses log πθ (the summary's simplified form), not log(πθ/π_ref). Both have the same
 *    gradient; the value differs by the constant −β Σ r̂ lp_ref. This matches the spec's worked number.
 *  - L_REG is a sum over tokens (no length normalisation), matching the summed DPO reward it is
 *    meant to redistribute; the summary writes Σ_t.
 *  - β in L_REG is the DPO β (one β, as in the summary's formula).
 *  - π_eval is the caller's choice (the summary says the reference model); the loss only receives r̂.
 *    The contrastive prompt wording was not retrieved, so no template ships in losses/.
 *  - w is computed per pair from the current (label-smoothing-free) DPO margin and detached.
 *  - Only the DPO-REG variant; SimPO-REG (length-normalised reward) is left out.
 * `tokenWeights` multiply every per-token term (both rewards and both regularisers).
 * Shapes: per-token inputs [B, T]; r̂ via `side.tokenRewards`. Metrics: pair metrics, `dpoLoss`,
 * `regLoss` (mean L_REG(y_w)+L_REG(y_l)), `regWeight` (mean w).
 */
import * as tf from '@tensorflow/tfjs';
import type { PreferenceLossFn, PreferenceSide } from '../types.js';
import { LossInputError } from '../errors.js';
import { isHostBackend, readAndDispose, rowDot, stopGradient } from '../tensor-utils.js';
import { checkPreferenceInputs, effectiveWeights, pairMetrics, sigmoidPairLoss } from './core.js';

/**
 * r̂_t = σ(lpBetter − lpWorse) − 0.5
 * @param lpBetter [B, T] evaluator log-probs of y_t under the "make it better" prompt
 * @param lpWorse  [B, T] the same under the "make it worse" prompt
 */
export function contrastiveTokenRewards(lpBetter: tf.Tensor2D, lpWorse: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.sub(tf.sigmoid(tf.sub(lpBetter, lpWorse)), 0.5) as tf.Tensor2D);
}

/**
 * Both per-pair sums a side needs, from one batched matMul on the gradient path:
 *   [Σ_t w_t lp_θ[t], Σ_t w_t r̂_t lp_θ[t]] = lp_θ[b,1,T] · [w; w r̂][b,2,T]ᵀ
 * and the constant Σ_t w_t lp_ref[t]. Returns the DPO reward r [B] and L_REG [B].
 * The constant operands are built in one host pass where the backend allows it.
 */
function sideTerms(side: PreferenceSide, beta: number): { reward: tf.Tensor1D; reg: tf.Tensor1D } {
  const [b, t] = side.logp.shape;
  const rHat = side.tokenRewards as tf.Tensor2D;
  let rows: tf.Tensor3D;
  let refSum: tf.Tensor1D;
  if (isHostBackend()) {
    const w = effectiveWeights(side).dataSync();
    const r = rHat.dataSync();
    const ref = side.refLogp.dataSync();
    const packed = new Float32Array(2 * b * t);
    const sums = new Float32Array(b);
    for (let i = 0; i < b; i++) {
      let acc = 0;
      for (let j = 0; j < t; j++) {
        const k = i * t + j;
        const wk = w[k];
        packed[2 * i * t + j] = wk;
        packed[(2 * i + 1) * t + j] = wk * r[k];
        acc += wk * ref[k];
      }
      sums[i] = acc;
    }
    rows = tf.tensor3d(packed, [b, 2, t]);
    refSum = tf.tensor1d(sums);
  } else {
    const w = effectiveWeights(side);
    rows = tf.stack([w, effectiveWeights(side, [rHat])], 1) as tf.Tensor3D;
    refSum = rowDot(side.refLogp, w);
  }
  const sums = tf.reshape(tf.matMul(tf.reshape(side.logp, [b, 1, t]) as tf.Tensor3D, rows, false, true), [b, 2]);
  const [lpSum, regSum] = tf.unstack(sums, 1) as [tf.Tensor1D, tf.Tensor1D];
  const reward = tf.mul(tf.sub(lpSum, refSum), beta) as tf.Tensor1D;
  return { reward, reg: tf.mul(regSum, -beta) as tf.Tensor1D };
}

export const tReg: PreferenceLossFn = (inputs, params) => {
  checkPreferenceInputs('tReg', inputs, params);
  if (!inputs.chosen.tokenRewards || !inputs.rejected.tokenRewards) {
    throw new LossInputError('tReg', 'needs tokenRewards (r̂) on both the chosen and the rejected response');
  }
  const alpha = params.tregAlpha ?? 0.5;
  if (!(alpha >= 0)) throw new LossInputError('tReg', `tregAlpha must be ≥ 0, got ${alpha}`);
  let metricsT: tf.Tensor1D | undefined;
  const loss = tf.tidy(() => {
    const cw = sideTerms(inputs.chosen, params.beta);
    const cl = sideTerms(inputs.rejected, params.beta);
    const rw = cw.reward;
    const rl = cl.reward;
    const h = tf.sub(rw, rl) as tf.Tensor1D;
    const dpoLoss = sigmoidPairLoss(h, params.labelSmoothing ?? 0);
    const pairWeight = stopGradient(tf.sigmoid(tf.neg(h)));
    const reg = tf.add(cw.reg, cl.reg);
    if (!params.skipMetrics) {
      metricsT = tf.keep(
        tf.stack([
          tf.mean(h),
          tf.mean(tf.cast(tf.greater(h, 0), 'float32')),
          tf.mean(rw),
          tf.mean(rl),
          tf.mean(dpoLoss),
          tf.mean(reg),
          tf.mean(pairWeight),
        ]) as tf.Tensor1D,
      );
    }
    return tf.mean(tf.add(dpoLoss, tf.mul(tf.mul(pairWeight, reg), alpha))) as tf.Scalar;
  });
  const metrics: Record<string, number> = {};
  if (metricsT) {
    const v = readAndDispose(metricsT);
    Object.assign(metrics, pairMetrics(v), { dpoLoss: v[4], regLoss: v[5], regWeight: v[6] });
  }
  return { loss, metrics };
};
