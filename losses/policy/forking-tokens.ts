/**
 * Forking-token RLVR (Wang et al., "Beyond the 80/20 Rule: High-Entropy Minority Tokens Drive
 * Effective Reinforcement Learning for LLM Reasoning", arXiv 2506.01939, §5 eq. 3–4): DAPO whose
 * per-token surrogate is kept only at high-entropy ("forking") tokens.
 *
 *   τ_ρ   = quantile_{1−ρ}( { H_{i,t} : token (i,t) valid } )      pooled over the whole batch given,
 *                                                                  linear interpolation (torch.quantile)
 *   ℓ_i,t = 1[H_{i,t} ≥ τ_ρ] · ppoClip_i,t                          (ppo-clip.ts, clip-higher, optional KL)
 *   L     = Σ ℓ / Σ_i |o_i|                                        denominator = ALL valid tokens
 *
 * Decisions and departures:
 *  - Pooling: across every sequence and prompt of the batch passed in (the paper's "batch"), never
 *    per sequence. TRL pools per micro-batch across ranks; to pool over a larger rollout batch than
 *    one call sees, compute `entropyQuantileThreshold` once over it and pass `entropyThreshold`.
 *  - ρ = 1 keeps every valid token, so the loss equals plain DAPO exactly (short-circuited: no
 *    threshold is computed). TRL uses the same convention (1.0 disables the mask).
 *  - `forkingSide: 'bottom'` keeps the lowest-entropy fraction ρ: tokens with H < quantile_ρ(H).
 *    That is the exact complement of 'top' with 1 − ρ, so the paper's "bottom 80%" ablation
 *    (ρ = 0.8) trains on precisely the tokens that top-20% leaves out.
 *  - The mask multiplies in like any token weight; the aggregation mode is the caller's
 *    (`token-mean` for the paper's DAPO); the denominator never shrinks to the kept tokens.
 *  - Entropies are constants (from the rollout or a no-grad pass); they are read once to the CPU
 *    for an O(n) selection (no sort).
 * Shapes: every input [B, T]. Metrics: ppo-clip's, plus `entropyThreshold`, `keptFraction`.
 */
import * as tf from '@tensorflow/tfjs';
import type { PolicyLossFn } from '../types.js';
import { LossInputError } from '../errors.js';
import { checkPolicyInputs, clippedPolicyLoss } from './ppo-clip.js';
import { constantWeights, tidyLoss } from '../tensor-utils.js';

/** k-th smallest (0-based) of a[lo..hi] by in-place quickselect; returns the value. */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** numpy/torch default quantile (linear interpolation) of the values; NaN when empty. A Float64Array argument is reordered in place. */
export function quantileLinear(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  if (!(q >= 0 && q <= 1)) throw new LossInputError('quantileLinear', `q must be in [0, 1], got ${q}`);
  const a = values instanceof Float64Array ? values : Float64Array.from(values); // selected in place
  const pos = q * (n - 1);
  const k = Math.floor(pos);
  const lower = select(a, k);
  if (pos === k) return lower;
  // after selection every element right of k is ≥ a[k]: the next order statistic is their minimum
  let upper = Number.POSITIVE_INFINITY;
  for (let i = k + 1; i < n; i++) if (a[i] < upper) upper = a[i];
  return lower + (pos - k) * (upper - lower);
}

function validEntropies(entropies: ArrayLike<number>, mask: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] > 0) n++;
  const out = new Float64Array(n);
  for (let i = 0, j = 0; i < mask.length; i++) if (mask[i] > 0) out[j++] = entropies[i];
  return out;
}

/**
 * τ such that a fraction ρ of the valid tokens has H ≥ τ: the (1−ρ)-quantile, pooled over all valid
 * tokens of `entropies` [B, T] (linear interpolation). NaN when no token is valid.
 */
export function entropyQuantileThreshold(entropies: tf.Tensor2D, mask: tf.Tensor2D, rho: number): number {
  if (!(rho > 0 && rho <= 1)) throw new LossInputError('entropyQuantileThreshold', `rho must be in (0, 1], got ${rho}`);
  return quantileLinear(validEntropies(entropies.dataSync() as Float32Array, mask.dataSync()), 1 - rho);
}

/**
 * [B, T] 0/1 forking mask: top keeps valid tokens with H ≥ quantile_{1−ρ}; bottom keeps H < quantile_ρ.
 * `threshold` overrides the pooled quantile.
 */
export function forkingTokenMask(entropies: tf.Tensor2D, mask: tf.Tensor2D, rho: number, side: 'top' | 'bottom' = 'top', threshold?: number): { mask: tf.Tensor2D; threshold: number; kept: number } {
  if (!(rho > 0 && rho <= 1)) throw new LossInputError('forkingTokenMask', `rho must be in (0, 1], got ${rho}`);
  const h = entropies.dataSync() as Float32Array;
  const m = mask.dataSync();
  const tau = threshold ?? quantileLinear(validEntropies(h, m), side === 'top' ? 1 - rho : rho);
  const out = new Float32Array(m.length);
  let kept = 0;
  for (let i = 0; i < m.length; i++) {
    if (!(m[i] > 0)) continue;
    const keep = side === 'top' ? h[i] >= tau : h[i] < tau;
    if (keep) {
      out[i] = 1;
      kept++;
    }
  }
  return { mask: tf.tensor2d(out, mask.shape), threshold: tau, kept };
}

export const forkingTokenPpo: PolicyLossFn = (inputs, params) => {
  checkPolicyInputs('forkingTokenPpo', inputs, params);
  const rho = params.forkingRho ?? 0.2;
  const side = params.forkingSide ?? 'top';
  if (!(rho > 0 && rho <= 1)) throw new LossInputError('forkingTokenPpo', `forkingRho must be in (0, 1], got ${rho}`);
  if (rho === 1 && params.entropyThreshold === undefined) {
    // ρ = 1 is plain DAPO: every valid token is kept, no threshold is needed.
    const r = tidyLoss(() => clippedPolicyLoss(inputs, params, inputs.tokenWeights && constantWeights([inputs.mask, inputs.tokenWeights]), inputs.mask));
    if (!params.skipMetrics) Object.assign(r.metrics, { keptFraction: r.metrics.validTokens > 0 ? 1 : 0, entropyThreshold: Number.NaN });
    return r;
  }
  const entropies = inputs.entropies;
  if (!entropies) throw new LossInputError('forkingTokenPpo', 'needs entropies (per-position policy entropy)');
  return tidyLoss(() => {
    const fork = forkingTokenMask(entropies, inputs.mask, rho, side, params.entropyThreshold);
    // the forking mask is already 0 on invalid tokens: it is the aggregation's numerator as is
    const r = clippedPolicyLoss(inputs, params, constantWeights([fork.mask, inputs.tokenWeights]), inputs.mask);
    if (!params.skipMetrics) {
      r.metrics.entropyThreshold = fork.threshold;
      r.metrics.keptFraction = r.metrics.validTokens > 0 ? fork.kept / r.metrics.validTokens : 0;
    }
    return r;
  });
};
