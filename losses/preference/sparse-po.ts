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
 *
 * Cost (bench/losses.ts: `node --import tsx bench/losses.ts <wasm|tensorflow> loss`, `… step demo`,
 * `… step long`, each its own run on a shared 2-core machine; ratios to DPO, median / minimum):
 *  - step level, what a training step costs: the policy's forward pass, these inputs (the KL from
 *    the policy's logits, kl.ts), the loss and the backward into the weights, with the reference
 *    pass and its activation mask precomputed. As the product runs it: 1.04 / 1.02 on wasm and
 *    1.03 / 1.02 on tensorflow for the demo batch (64 pairs; ~80 and ~50 ms a step), 0.99 / 1.01 and
 *    1.07 / 0.95 with 32-128-token responses (16 pairs): within the 1.15× target, and within the
 *    noise. A learned mask head trained with the policy (not a product option): 1.05-1.16.
 *  - loss level (32 pairs × 256 tokens, inputs precomputed, gradients to both responses' log-probs
 *    and KL): the activation mask 1.7-1.9× DPO on wasm (~0.25-0.33 ms against ~0.14-0.17), 2.1-2.3×
 *    on tensorflow; with the L1 terms 2.0-2.5×; learned masks (gradients to the masks too)
 *    3.4-4.3×; at 128 pairs × 1024 tokens 3.1-3.3×, 4.0-4.2× and 8.5× on wasm. What it adds is
 *    work, not overhead around it: 44 kernels on wasm against DPO's 30 (48 with L1, 90 learned): a
 *    second differentiable input per response (two more rows in the fused sums, a copy of the
 *    log-prob gradient for the KL), the mask products, and the metrics (`maskDensity` reads both
 *    masks, 10 kernels). Already cut: a `stopGradient` mask skips op 2 of the fused sums (row-sums.ts)
 *    and the per-pair tail is one op (core.ts `sigmoidPairTail`), ~15-20% each on wasm.
 */
import * as tf from '@tensorflow/tfjs';
import type { PreferenceLossFn, PreferenceLossInputs } from '../types.js';
import { readAndDispose, readsAreFree } from '../tensor-utils.js';
import { weightedRowSums, type WeightedRow } from '../row-sums.js';
import { checkPreferenceInputs, logRatioRow, sideRow, meanOf, pairMetrics, scaled, sigmoidPairTail } from './core.js';

/**
 * Fraction of valid tokens (both responses) whose reward mask is > 0 (1 without masks), as [valid,
 * dense] counts: a host loop where reads are free, else tensor ops (inside the fused op's forward,
 * read with the other metrics).
 */
function maskDensityCounts(inputs: PreferenceLossInputs): tf.Tensor1D {
  const sides = [inputs.chosen, inputs.rejected];
  if (readsAreFree()) {
    let valid = 0;
    let dense = 0;
    for (const side of sides) {
      const m = side.mask.dataSync();
      const mu = side.sparseMaskReward?.dataSync();
      for (let i = 0; i < m.length; i++) {
        if (!(m[i] > 0)) continue;
        valid++;
        if (!mu || mu[i] > 0) dense++;
      }
    }
    return tf.tensor1d([valid, dense]);
  }
  // Both responses at once; step(x) = [x > 0] (on wasm ~4 µs, against ~40 µs for greater + cast).
  const valid = tf.step(tf.concat(sides.map((s) => s.mask)));
  const positive = tf.step(tf.concat(sides.map((s) => s.sparseMaskReward ?? s.mask)));
  return tf.stack([tf.sum(valid), tf.sum(tf.mul(valid, positive))]) as tf.Tensor1D;
}

export const sparsePo: PreferenceLossFn = (inputs, params) => {
  checkPreferenceInputs('sparsePo', inputs, params);
  const { beta } = params;
  const lamU = params.sparseL1Reward ?? 0;
  const lamD = params.sparseL1Kl ?? 0;
  const independent = Boolean(inputs.chosen.sparseMaskKl || inputs.rejected.sparseMaskKl);
  // One fused op for every per-token sum. Rows per side s (sign +1 chosen, −1 rejected):
  //   U_s = Σ w m^u (lp − ref)        K_s = Σ w m^d kl        L_s = Σ mask |m|  (each mask with a λ)
  // h = β Σ_s sign·(U_s + K_s)  (u − d, as d = −(K_w − K_l)),  l1 = Σ λ L.
  const rows: WeightedRow[] = [];
  const hCoef: number[] = [];
  const l1Coef: number[] = [];
  const at = { u: [-1, -1], k: [-1, -1] }; // row index of U_s and K_s, for the metrics
  const push = (row: WeightedRow, h: number, l1: number) => {
    rows.push(row);
    hCoef.push(h);
    l1Coef.push(l1);
    return rows.length - 1;
  };
  let metricsT: tf.Tensor | undefined;
  const loss = tf.tidy(() => {
    [inputs.chosen, inputs.rejected].forEach((side, s) => {
      const sign = s === 0 ? 1 : -1;
      const mu = side.sparseMaskReward;
      const md = side.sparseMaskKl ?? mu;
      at.u[s] = push(logRatioRow(side, { gate: mu }), sign * beta, 0);
      if (side.kl) at.k[s] = push(sideRow(side, side.kl, { gate: md }), sign * beta, 0);
      const lamMu = independent ? lamU : (lamU + lamD) / 2;
      if (mu && lamMu > 0) push({ x: mu, abs: true, weight: side.mask }, 0, lamMu);
      if (side.sparseMaskKl && lamD > 0) push({ x: side.sparseMaskKl, abs: true, weight: side.mask }, 0, lamD);
    });
    const hasL1 = l1Coef.some((c) => c !== 0);
    // metrics, read once: S and the mask-density counts, flattened (h and l1 are C · S on the host)
    const metricsOf = (S: tf.Tensor2D) => [tf.concat([tf.reshape(S, [-1]), maskDensityCounts(inputs)])];
    const { out, detached } = weightedRowSums(rows, hasL1 ? [hCoef, l1Coef] : [hCoef], params.skipMetrics ? undefined : metricsOf);
    metricsT = detached?.[0];
    return sigmoidPairTail(out, params.labelSmoothing ?? 0); // mean(core(h) + l1)
  });
  if (!metricsT) return { loss, metrics: {} };
  const flat = readAndDispose(metricsT);
  const B = inputs.chosen.logp.shape[0];
  const K = rows.length;
  const v = Array.from({ length: K }, (_, i) => flat.subarray(i * B, (i + 1) * B));
  const [valid, dense] = flat.subarray(K * B);
  const combined = (coef: number[]) => Float64Array.from({ length: B }, (_, b) => coef.reduce((a, c, k) => a + c * v[k][b], 0));
  const zero = new Float32Array(v[0].length);
  const row = (i: number) => (i >= 0 ? v[i] : zero);
  const [uw, ul, kw, kl] = [row(at.u[0]), row(at.u[1]), row(at.k[0]), row(at.k[1])];
  return {
    loss,
    metrics: {
      ...pairMetrics(combined(hCoef), scaled(uw, beta), scaled(ul, beta)),
      u: meanOf(uw.map((x, i) => x - ul[i])),
      d: meanOf(kw.map((x, i) => kl[i] - x)),
      l1: meanOf(combined(l1Coef)),
      maskDensity: valid > 0 ? dense / valid : 0,
    },
  };
};
