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
 *
 * Cost (bench/losses.ts, the commands and machine of sparse-po.ts; ratios to DPO, median / minimum):
 *  - step level (the policy's forward pass, the loss, the backward into the weights; r̂ precomputed
 *    by `computeTokenRewards`, the contrastive-prompt passes the issue excludes): 1.01 / 0.97 on wasm
 *    and 0.97 / 1.01 on tensorflow for the demo batch (64 pairs), 1.03 / 1.01 and 1.06 / 0.98 with
 *    32-128-token responses (16 pairs): within the 1.15× target, and within the noise.
 *  - loss level (32 pairs × 256 tokens, gradients to both responses' log-probs): the four per-pair
 *    sums are one fused op (row-sums.ts) and the tail (pair loss, w, α·w·L_REG, mean) another
 *    (core.ts `sigmoidPairTail`, which cut ~17% on wasm and ~22% on tensorflow): 1.3-2.0× DPO on
 *    wasm (minima 1.4-1.5; ~0.21-0.34 ms against ~0.14-0.17), 1.3-1.4× on tensorflow, ~2.0× at 128
 *    pairs × 1024 tokens. 40 kernels against DPO's 30, the regulariser itself: the r̂ weight product
 *    (2 multiplies on [B, T]) and its 2 saved copies, two more rows in the stacked sum, and a second
 *    gradient term per response (2 multiplies and 2 adds on [B, T]): per-token work, which no op
 *    count can remove.
 */
import * as tf from '@tensorflow/tfjs';
import type { PreferenceLossFn } from '../types.js';
import { LossInputError } from '../errors.js';
import { weightedRowSums, type WeightedRow } from '../row-sums.js';
import { checkPreferenceInputs, logRatioRow, sideRow, meanOf, pairMetrics, readRows, scaled, sigmoidPairLossValue, sigmoidPairTail } from './core.js';

/**
 * r̂_t = σ(lpBetter − lpWorse) − 0.5
 * @param lpBetter [B, T] evaluator log-probs of y_t under the "make it better" prompt
 * @param lpWorse  [B, T] the same under the "make it worse" prompt
 */
export function contrastiveTokenRewards(lpBetter: tf.Tensor2D, lpWorse: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.sub(tf.sigmoid(tf.sub(lpBetter, lpWorse)), 0.5) as tf.Tensor2D);
}

export const tReg: PreferenceLossFn = (inputs, params) => {
  checkPreferenceInputs('tReg', inputs, params);
  if (!inputs.chosen.tokenRewards || !inputs.rejected.tokenRewards) {
    throw new LossInputError('tReg', 'needs tokenRewards (r̂) on both the chosen and the rejected response');
  }
  const alpha = params.tregAlpha ?? 0.5;
  if (!(alpha >= 0)) throw new LossInputError('tReg', `tregAlpha must be ≥ 0, got ${alpha}`);
  const { beta } = params;
  let sums: tf.Tensor2D | undefined;
  const loss = tf.tidy(() => {
    // Rows per side: R = Σ w (lp − ref) (the DPO reward / β) and G = Σ w r̂ lp (−L_REG / β), one fused op.
    const rows: WeightedRow[] = [];
    for (const side of [inputs.chosen, inputs.rejected]) rows.push(logRatioRow(side), sideRow(side, side.logp, { extra: [side.tokenRewards] }));
    // h = β (R_w − R_l);  α (L_REG(y_w) + L_REG(y_l)) = −αβ (G_w + G_l); the metrics come from S alone
    const { out, detached } = weightedRowSums(rows, [[beta, 0, -beta, 0], [0, -alpha * beta, 0, -alpha * beta]], params.skipMetrics ? undefined : (S) => [S]);
    sums = detached?.[0] as tf.Tensor2D | undefined;
    return sigmoidPairTail(out, params.labelSmoothing ?? 0, 'pair-weight');
  });
  if (!sums) return { loss, metrics: {} };
  const [sw, gw, sl, gl] = readRows(sums);
  const rw = scaled(sw, beta);
  const rl = scaled(sl, beta);
  const h = rw.map((r, i) => r - rl[i]);
  const eps = params.labelSmoothing ?? 0;
  return {
    loss,
    metrics: {
      ...pairMetrics(h, rw, rl),
      dpoLoss: meanOf(h.map((x) => sigmoidPairLossValue(x, eps))),
      regLoss: meanOf(gw.map((g, i) => -beta * (g + gl[i]))),
      regWeight: meanOf(h.map((x) => 1 / (1 + Math.exp(x)))), // σ(−h)
    },
  };
};
