/**
 * Shared pieces of the preference family: input checks, the weighted per-response log-ratio sums
 * and the sigmoid (label-smoothed) pair loss. Internal to losses/.
 *
 * Shapes: every per-token tensor is [B, T] (B pairs, T padded response length); sums are [B].
 */
import * as tf from '@tensorflow/tfjs';
import type { PreferenceLossInputs, PreferenceLossParams, PreferenceSide } from '../types.js';
import { LossInputError } from '../errors.js';
import { constantWeights, rowDot } from '../tensor-utils.js';

export function checkPreferenceInputs(where: string, inputs: PreferenceLossInputs, params: PreferenceLossParams): void {
  for (const sideName of ['chosen', 'rejected'] as const) {
    const side = inputs[sideName];
    if (!side) throw new LossInputError(where, `missing ${sideName} response`);
    const shape = side.logp.shape;
    for (const [name, t] of Object.entries(side) as Array<[string, tf.Tensor | undefined]>) {
      if (t && (t.shape.length !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1])) {
        throw new LossInputError(where, `${sideName}.${name} has shape [${t.shape}], expected [${shape}]`);
      }
    }
  }
  if (inputs.chosen.logp.shape[0] !== inputs.rejected.logp.shape[0]) {
    throw new LossInputError(where, `chosen has ${inputs.chosen.logp.shape[0]} pairs, rejected ${inputs.rejected.logp.shape[0]}`);
  }
  if (!(params.beta > 0)) throw new LossInputError(where, `beta must be > 0, got ${params.beta}`);
  const eps = params.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps < 0.5)) throw new LossInputError(where, `labelSmoothing must be in [0, 0.5), got ${eps}`);
}

/**
 * m_t · w_t · Π extra_t · Π (1 − complement_t): the validity mask times `tokenWeights` and the
 * extra constant weights (undefined ones skipped). Constants only (see `constantWeights`).
 */
export function effectiveWeights(side: PreferenceSide, extra: Array<tf.Tensor2D | undefined> = [], complements: Array<tf.Tensor2D | undefined> = []): tf.Tensor2D {
  return constantWeights([side.mask, side.tokenWeights, ...extra], complements);
}

/** [B, T] lp_θ − lp_ref (finite inputs: masked positions are zeroed by the weights downstream). */
export function tokenLogRatios(side: PreferenceSide): tf.Tensor2D {
  return tf.sub(side.logp, side.refLogp);
}

/** [B] Σ_t w_t (lp_θ − lp_ref)[t], one batched row dot. */
export function weightedLogRatioSum(side: PreferenceSide, weights: tf.Tensor2D): tf.Tensor1D {
  return rowDot(tokenLogRatios(side), weights);
}

/**
 * [B] −(1−ε) logσ(h) − ε logσ(−h) = (1−ε) softplus(−h) + ε softplus(h)   (cDPO-style label smoothing,
 * Mitchell 2023; TRL `sigmoid`). softplus is stable for |h| ≫ 1.
 */
export function sigmoidPairLoss(h: tf.Tensor1D, labelSmoothing = 0): tf.Tensor1D {
  const main = tf.softplus(tf.neg(h));
  if (labelSmoothing === 0) return main as tf.Tensor1D;
  return tf.add(tf.mul(main, 1 - labelSmoothing), tf.mul(tf.softplus(h), labelSmoothing)) as tf.Tensor1D;
}

/** The metrics every preference loss reports, from the margin h [B] and the per-pair rewards [B]. */
export function pairMetricsTensor(h: tf.Tensor1D, chosenReward: tf.Tensor1D, rejectedReward: tf.Tensor1D): tf.Tensor1D {
  return tf.stack([
    tf.mean(h),
    tf.mean(tf.cast(tf.greater(h, 0), 'float32')),
    tf.mean(chosenReward),
    tf.mean(rejectedReward),
  ]) as tf.Tensor1D;
}

export function pairMetrics(values: ArrayLike<number>): Record<string, number> {
  return { margin: values[0], accuracy: values[1], chosenReward: values[2], rejectedReward: values[3] };
}
