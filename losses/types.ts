/**
 * Shared types of the objectives library.
 *
 * Two families, one signature each:
 *  - policy-gradient losses (`PolicyLossFn`): per-token log-probs of sampled tokens, old (behaviour)
 *    log-probs and per-token advantages, all `[B, T]`;
 *  - preference losses (`PreferenceLossFn`): a chosen and a rejected response per pair, each with
 *    per-token policy and reference log-probs, `[B, T]` (B pairs, T padded response length).
 *
 * Every loss returns `{ loss, metrics }`: `loss` is a differentiable scalar, `metrics` plain numbers
 * (read with `dataSync`, so a loss may be called inside `tf.variableGrads`).
 *
 * Per-token arrays cover response tokens only: `mask` is 1 on valid response tokens, 0 on prompt and
 * padding. Values at masked positions do not change the loss or its gradient, but they must be
 * finite (write 0 there, not −Inf): masking is a multiplication, and 0 · Inf is NaN. Extreme finite
 * values (log-prob gaps of 1e4) are safe everywhere.
 */
import type * as tf from '@tensorflow/tfjs';

/**
 * How a `[B, T]` matrix of per-token losses becomes a scalar (see `aggregate.ts`):
 *  - `seq-mean-token-mean`: mean over sequences of each sequence's token mean (original GRPO);
 *  - `token-mean`: sum over all valid tokens / number of valid tokens (DAPO);
 *  - `seq-mean-token-sum-norm`: sum over all valid tokens / (B · maxLen) (Dr.GRPO).
 */
export type AggregationMode = 'seq-mean-token-mean' | 'token-mean' | 'seq-mean-token-sum-norm';

// ------------------------------------------------------------------------------------------------
// Policy family
// ------------------------------------------------------------------------------------------------

export interface PolicyLossInputs {
  /** [B, T] log πθ(y_t | x, y_<t) of the taken tokens (differentiable). */
  logp: tf.Tensor2D;
  /** [B, T] behaviour-policy log-probs of the same tokens (constants). */
  oldLogp: tf.Tensor2D;
  /** [B, T] per-token advantages (sequence advantages broadcast over the response). Constants. */
  advantages: tf.Tensor2D;
  /** [B, T] 1 = valid response token, 0 = prompt / padding. */
  mask: tf.Tensor2D;
  /** [B, T] reference log-probs, for the optional k3 KL term (constants). */
  refLogp?: tf.Tensor2D;
  /** [B, T] per-position policy entropies (constants), for the forking-token mask. */
  entropies?: tf.Tensor2D;
  /**
   * [B, T] non-negative per-token weights that multiply each token's loss (composable masks: forking
   * mask × SPO segments, …). They do not change the aggregation denominator, which keeps counting
   * all valid tokens of `mask`. Constants: no gradient flows into them.
   */
  tokenWeights?: tf.Tensor2D;
}

export interface PolicyLossParams {
  /** ε_low: ratio clipped below at 1 − clipLow. */
  clipLow: number;
  /** ε_high: ratio clipped above at 1 + clipHigh (clip-higher when > clipLow, DAPO). */
  clipHigh: number;
  /** β_KL: weight of the per-token k3 KL to the reference (needs `refLogp` when > 0). */
  klCoef: number;
  aggregation: AggregationMode;
  /** L_max for `seq-mean-token-sum-norm`; default T (the padded length). */
  maxLen?: number;
  /** Forking tokens: fraction ρ of valid tokens kept (0 < ρ ≤ 1). Default 0.2. */
  forkingRho?: number;
  /** Forking tokens: 'top' keeps the highest-entropy ρ of tokens (paper); 'bottom' the lowest ρ (ablation). Default 'top'. */
  forkingSide?: 'top' | 'bottom';
  /** Forking tokens: a precomputed entropy threshold τ (pooled over a larger batch by the caller). */
  entropyThreshold?: number;
  /** SPO: tokens whose old-policy probability is below this enter the loss. Default 0.9. */
  spoProbThreshold?: number;
  /** SPO: whiten advantages over the kept tokens of the batch. Default true. */
  spoWhiten?: boolean;
  /** Skip computing and reading the metrics; the loss is unchanged. Default false. */
  skipMetrics?: boolean;
}

export interface LossResult {
  loss: tf.Scalar;
  metrics: Record<string, number>;
}

export type PolicyLossFn = (inputs: PolicyLossInputs, params: PolicyLossParams) => LossResult;

// ------------------------------------------------------------------------------------------------
// Preference family
// ------------------------------------------------------------------------------------------------

/** One response of a preference pair; all tensors `[B, T]` (B pairs, T padded response length). */
export interface PreferenceSide {
  /** log πθ(y_t | x, y_<t) (differentiable). */
  logp: tf.Tensor2D;
  /** log π_ref(y_t | x, y_<t) (constants). */
  refLogp: tf.Tensor2D;
  /** 1 = valid response token. */
  mask: tf.Tensor2D;
  /** Generic per-token weights multiplying every per-token term (token-weighted DPO, composable). Constants. */
  tokenWeights?: tf.Tensor2D;
  /** cDPO: critical-token scores s_t ∈ (0,1) (constants); weight 1 − s_t. */
  criticalScores?: tf.Tensor2D;
  /** SparsePO: KL(π_ref ‖ πθ) per position over the full vocabulary (≥ 0, differentiable). */
  kl?: tf.Tensor2D;
  /** SparsePO: mask on the reward term m^u (learned head output, differentiable, or activation mask). */
  sparseMaskReward?: tf.Tensor2D;
  /** SparsePO: mask on the KL term m^d; when absent the reward mask is shared ("sparse-common"). */
  sparseMaskKl?: tf.Tensor2D;
  /** T-REG: self-generated token rewards r̂_t ∈ (−0.5, 0.5) (constants). */
  tokenRewards?: tf.Tensor2D;
}

export interface PreferenceLossInputs {
  chosen: PreferenceSide;
  rejected: PreferenceSide;
}

export interface PreferenceLossParams {
  /** β (DPO temperature; IPO's τ; cDPO's γ, the margin scale). */
  beta: number;
  /** DPO label smoothing ε ∈ [0, 0.5). Default 0. */
  labelSmoothing?: number;
  /** cDPO: weight the rejected response only (paper, default) or both responses. */
  criticalSide?: 'rejected' | 'both';
  /** SparsePO: L1 coefficient on the reward masks (λ_u). Default 0. */
  sparseL1Reward?: number;
  /** SparsePO: L1 coefficient on the KL masks (λ_d). Default 0. */
  sparseL1Kl?: number;
  /** T-REG: regulariser weight α (paper searches {0.1, 0.25, 0.5}). Default 0.5. */
  tregAlpha?: number;
  /** Skip computing and reading the metrics; the loss is unchanged. Default false. */
  skipMetrics?: boolean;
}

export type PreferenceLossFn = (inputs: PreferenceLossInputs, params: PreferenceLossParams) => LossResult;
