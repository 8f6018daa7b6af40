/**
 * PPO-clip policy loss with clip-higher and an optional k3 KL term: the GRPO / DAPO / Dr.GRPO core.
 *
 * PPO (arXiv 1707.06347 eq. 7), GRPO (arXiv 2402.03300 eq. 3), DAPO clip-higher (arXiv 2503.14476 eq. 10):
 *   ρ_t = exp(lp_θ[t] − lp_old[t])
 *   ℓ_t = −min( ρ_t A_t , clip(ρ_t, 1 − ε_low, 1 + ε_high) A_t ) · w_t  +  β_KL · k3_t · w_t
 *   L   = aggregate(ℓ, mask, mode)                       (aggregate.ts: GRPO / DAPO / Dr.GRPO)
 *
 * Shapes: every input `[B, T]`; `loss` is a scalar.
 *
 * Departures from the papers / verl `compute_policy_loss_vanilla`:
 *  - the log-ratio is clamped to [−20, 20] (verl does the same), so a 1e4 log-prob gap (or finite
 *    garbage at padded positions) never yields Inf or NaN. Objectives built on this surrogate may
 *    pass their own bound (`logRatioClamp`): SPO uses its official trainer's ±10 (losses/policy/spo.ts). Inputs must be finite everywhere,
 *    padding included (write 0, not −Inf, there): the aggregation multiplies by the mask;
 *  - no dual-clip (clip_ratio_c); the KL term goes through the same aggregation as the surrogate
 *    (GRPO eq. 3); token weights w multiply both terms but never the aggregation denominator.
 *
 * Metrics (means over valid tokens): `clipFraction` (tokens where the clipped branch is active),
 * `approxKl` (mean of lp_old − lp_θ, verl's `ppo_kl`), `kl` (mean k3, when β_KL > 0),
 * `pgLoss` (the aggregated surrogate without KL), `ratioMean`, `validTokens`.
 */
import * as tf from '@tensorflow/tfjs';
import type { LossResult, PolicyLossFn, PolicyLossInputs, PolicyLossParams } from '../types.js';
import { aggregate } from '../aggregate.js';
import { k3 } from '../kl.js';
import { LossInputError } from '../errors.js';
import { constantWeights, greaterIndicator, readAndDispose, rowDot, tidyLoss, untaped } from '../tensor-utils.js';

/** verl's bound on the log importance ratio (`compute_policy_loss_vanilla`). */
export const LOG_RATIO_CLAMP = 20;

/** Checks shapes and parameters shared by every policy loss; throws `LossInputError`. */
export function checkPolicyInputs(where: string, inputs: PolicyLossInputs, params: PolicyLossParams): void {
  const shape = inputs.logp.shape;
  const named: Array<[string, tf.Tensor | undefined]> = [
    ['oldLogp', inputs.oldLogp],
    ['advantages', inputs.advantages],
    ['mask', inputs.mask],
    ['refLogp', inputs.refLogp],
    ['entropies', inputs.entropies],
    ['tokenWeights', inputs.tokenWeights],
  ];
  for (const [name, t] of named) {
    if (t && (t.shape.length !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1])) {
      throw new LossInputError(where, `${name} has shape [${t.shape}], expected [${shape}]`);
    }
  }
  if (!(params.clipLow >= 0 && params.clipLow < 1)) throw new LossInputError(where, `clipLow must be in [0, 1), got ${params.clipLow}`);
  if (!(params.clipHigh >= 0)) throw new LossInputError(where, `clipHigh must be ≥ 0, got ${params.clipHigh}`);
  if (!(params.klCoef >= 0)) throw new LossInputError(where, `klCoef must be ≥ 0, got ${params.klCoef}`);
  if (params.klCoef > 0 && !inputs.refLogp) throw new LossInputError(where, 'klCoef > 0 needs refLogp');
}

/**
 * The clipped surrogate shared by every policy objective of this folder.
 * @param numerator [B, T] mask × per-token weights (undefined = `denomMask`): multiplies each token's
 *                  loss; the denominator still counts `denomMask`
 * @param denomMask [B, T] the mask the aggregation divides by (usually `inputs.mask`)
 * @param logRatioClamp bound on |lp_θ − lp_old| before the exp (default ±20, verl)
 */
export function clippedPolicyLoss(
  inputs: PolicyLossInputs,
  params: PolicyLossParams,
  numerator: tf.Tensor2D | undefined,
  denomMask: tf.Tensor2D,
  logRatioClamp = LOG_RATIO_CLAMP,
): LossResult {
  const { logp, oldLogp, advantages, refLogp } = inputs;
  let metricsTensor: tf.Tensor1D | undefined;
  const loss = tf.tidy(() => {
    // Clamped log-ratio: finite values anywhere (padding included) give a finite ratio and gradient.
    const logRatio = tf.clipByValue(tf.sub(logp, oldLogp), -logRatioClamp, logRatioClamp) as tf.Tensor2D;
    const ratio: tf.Tensor2D = tf.exp(logRatio);
    const negAdv = tf.neg(advantages);
    const pgUnclipped = tf.mul(negAdv, ratio);
    const pgClipped = tf.mul(negAdv, tf.clipByValue(ratio, 1 - params.clipLow, 1 + params.clipHigh));
    const pgMat: tf.Tensor2D = tf.maximum(pgUnclipped, pgClipped);
    let perToken = pgMat;
    let klMat: tf.Tensor2D | undefined;
    if (params.klCoef > 0 && refLogp) {
      klMat = k3(logp, refLogp, params.klCoef); // β_KL · k3, one fused op (kl.ts)
      perToken = tf.add(perToken, klMat);
    }
    const total = aggregate(perToken, denomMask, params.aggregation, params.maxLen, numerator);

    if (!params.skipMetrics) {
      // One small tensor, read once by the caller: sums over valid tokens (row dots with the mask),
      // made with the tape off (metrics need no gradient).
      [metricsTensor] = untaped(() => {
        const m = tf.step(denomMask) as tf.Tensor2D; // [mask > 0]; step is the cheaper form on cpu and wasm
        const dot = (x: tf.Tensor2D) => tf.sum(rowDot(x, m));
        const parts = [
          tf.sum(m),
          dot(greaterIndicator(pgClipped, pgUnclipped) as tf.Tensor2D),
          tf.neg(dot(logRatio)),
          dot(ratio),
          klMat ? tf.div(dot(klMat), params.klCoef) : tf.scalar(0),
          klMat ? aggregate(pgMat, denomMask, params.aggregation, params.maxLen, numerator) : total,
        ];
        return [tf.stack(parts)];
      }) as [tf.Tensor1D];
    }
    return total;
  });
  const metrics: Record<string, number> = {};
  if (metricsTensor) {
    const [n, clipped, negLr, ratioSum, klSum, pg] = readAndDispose(metricsTensor);
    const d = Math.max(n, 1);
    metrics.validTokens = n;
    metrics.clipFraction = clipped / d;
    metrics.approxKl = negLr / d;
    metrics.ratioMean = n > 0 ? ratioSum / d : 1;
    metrics.pgLoss = pg;
    if (params.klCoef > 0) metrics.kl = klSum / d;
  }
  return { loss, metrics };
}

/** PPO-clip / GRPO / DAPO / Dr.GRPO (the variant is the aggregation mode plus clip and KL settings). */
export const ppoClip: PolicyLossFn = (inputs, params) => {
  checkPolicyInputs('ppoClip', inputs, params);
  return tidyLoss(() => clippedPolicyLoss(inputs, params, inputs.tokenWeights && constantWeights([inputs.mask, inputs.tokenWeights]), inputs.mask));
};
