/**
 * SparsePO (Christopoulou et al., "SparsePO: Controlling Preference Alignment of LLMs via Sparse
 * Token Masks", arXiv 2410.05102; official code huawei-noah/HEBO `SparsePO/src/trainers/
 * sparse_trainer.py` and `mapo_trainer.py`). A TDPO-style objective (Zeng et al., arXiv 2404.11999,
 * TDPO₁ eq. 7) whose reward and KL terms carry per-token masks:
 *
 *   ratio_t = lp_θ[t] − lp_ref[t]
 *   kl_t    = KL(π_ref(·|x,y_<t) ‖ πθ(·|x,y_<t))  over the full vocabulary (kl.ts)   ≥ 0
 *   u       = Σ_t m^u_{w,t} ratio^w_t − Σ_t m^u_{l,t} ratio^l_t
 *   d       = Σ_t m^d_{w,t} (−kl^w_t) − Σ_t m^d_{l,t} (−kl^l_t)          (= masked KL_l − KL_w)
 *   L       = −logσ(β (u − d)) + λ_u (‖m^u_w‖₁ + ‖m^u_l‖₁) + λ_d (‖m^d_w‖₁ + ‖m^d_l‖₁)   (mean over pairs)
 *
 * Inputs per side: `kl` (KL(π_ref‖πθ) per position, differentiable), `sparseMaskReward` (m^u),
 * optional `sparseMaskKl` (m^d). Masks come from sparse-masks.ts (learned head, trained jointly
 * through this loss, or the activation-based MaPO mask) or from anywhere else.
 *
 * Decisions and departures:
 *  - KL direction: KL(π_ref ‖ πθ) per position, as TDPO and the official SparsePO code compute it
 *    (Σ_v π_ref (log π_ref − log πθ)); the paper's notation was not re-read (objectives.md §7.4).
 *  - "sparse-common" (no `sparseMaskKl`): m^d = m^u, and, like the code, each λ is halved so the
 *    shared mask's L1 is counted once: penalty ((λ_u + λ_d)/2)(‖m_w‖₁ + ‖m_l‖₁).
 *    "sparse-indp" (`sparseMaskKl` given): separate masks, full λ_u and λ_d.
 *  - Absent masks are all ones (→ TDPO₁); absent `kl` drops the d term (→ DPO with masked rewards).
 *  - `tokenWeights` multiply both masks (e.g. critical weights × SparsePO mask); the L1 penalty is on
 *    the masks themselves (the head's output), before the weights, over valid tokens.
 *  - No clamp or renormalisation of the mask (unbounded above after the ReLU), as in the code.
 * Shapes: every per-token input [B, T]; loss scalar. Metrics: pair metrics, `u`, `d`, `l1`,
 * `maskDensity` (fraction of valid tokens with m^u > 0).
 */
import * as tf from '@tensorflow/tfjs';
import type { PreferenceLossFn, PreferenceLossInputs, PreferenceSide } from '../types.js';
import { readAndDispose, rowDot } from '../tensor-utils.js';
import { checkPreferenceInputs, effectiveWeights, pairMetrics, sigmoidPairLoss, tokenLogRatios } from './core.js';

interface SideTerms {
  u: tf.Tensor1D; // Σ m^u ratio
  d: tf.Tensor1D; // Σ m^d (−kl)
  l1u: tf.Tensor1D;
  l1d: tf.Tensor1D;
}

function sideTerms(side: PreferenceSide, withL1: boolean): SideTerms {
  const mu = side.sparseMaskReward;
  const md = side.sparseMaskKl ?? mu;
  const zeros = tf.zeros([side.mask.shape[0]]) as tf.Tensor1D;
  // the masks may be differentiable (learned head): they multiply the constant weights as tensors
  const base = effectiveWeights(side);
  const wu: tf.Tensor2D = mu ? tf.mul(base, mu) : base;
  const wd: tf.Tensor2D = md === mu ? wu : md ? tf.mul(base, md) : base;
  const u = rowDot(tokenLogRatios(side), wu);
  const d = side.kl ? (tf.neg(rowDot(side.kl, wd)) as tf.Tensor1D) : zeros;
  const l1 = (m: tf.Tensor2D | undefined) => (m && withL1 ? rowDot(tf.abs(m), side.mask) : zeros);
  return { u, d, l1u: l1(mu), l1d: l1(side.sparseMaskKl) };
}

/** Fraction of valid tokens (both responses) whose reward mask is > 0 (1 without masks); read on the CPU. */
function maskDensity(inputs: PreferenceLossInputs): number {
  let valid = 0;
  let dense = 0;
  for (const side of [inputs.chosen, inputs.rejected]) {
    const m = side.mask.dataSync();
    const mu = side.sparseMaskReward?.dataSync();
    for (let i = 0; i < m.length; i++) {
      if (!(m[i] > 0)) continue;
      valid++;
      if (!mu || mu[i] > 0) dense++;
    }
  }
  return valid > 0 ? dense / valid : 0;
}

export const sparsePo: PreferenceLossFn = (inputs, params) => {
  checkPreferenceInputs('sparsePo', inputs, params);
  const lamU = params.sparseL1Reward ?? 0;
  const lamD = params.sparseL1Kl ?? 0;
  const independent = Boolean(inputs.chosen.sparseMaskKl || inputs.rejected.sparseMaskKl);
  let metricsT: tf.Tensor1D | undefined;
  const loss = tf.tidy(() => {
    const withL1 = lamU > 0 || lamD > 0;
    const w = sideTerms(inputs.chosen, withL1);
    const l = sideTerms(inputs.rejected, withL1);
    const u = tf.sub(w.u, l.u);
    const d = tf.sub(w.d, l.d);
    const h = tf.mul(tf.sub(u, d), params.beta) as tf.Tensor1D;
    const core = sigmoidPairLoss(h, params.labelSmoothing ?? 0);
    const l1 = independent
      ? tf.add(tf.mul(tf.add(w.l1u, l.l1u), lamU), tf.mul(tf.add(w.l1d, l.l1d), lamD))
      : tf.mul(tf.add(w.l1u, l.l1u), (lamU + lamD) / 2);
    if (!params.skipMetrics) {
      metricsT = tf.keep(
        tf.stack([
          tf.mean(h),
          tf.mean(tf.cast(tf.greater(h, 0), 'float32')),
          tf.mean(tf.mul(w.u, params.beta)),
          tf.mean(tf.mul(l.u, params.beta)),
          tf.mean(u),
          tf.mean(d),
          tf.mean(l1),
        ]) as tf.Tensor1D,
      );
    }
    return tf.mean(tf.add(core, l1)) as tf.Scalar;
  });
  const metrics: Record<string, number> = {};
  if (metricsT) {
    const v = readAndDispose(metricsT);
    Object.assign(metrics, pairMetrics(v), { u: v[4], d: v[5], l1: v[6], maskDensity: maskDensity(inputs) });
  }
  return { loss, metrics };
};
