/**
 * Shared pieces of the preference family: input checks, the weighted log-ratio row every objective
 * sums (through the fused `weightedRowSums`), the sigmoid (label-smoothed) pair loss, its fused
 * per-pair tail (`sigmoidPairTail`, SparsePO and T-REG) and the pair metrics, read on the host from
 * the sums. Internal to losses/.
 *
 * Shapes: every per-token tensor is [B, T] (B pairs, T padded response length); per-pair values [B].
 */
import * as tf from '@tensorflow/tfjs';
import type { PreferenceLossInputs, PreferenceLossParams, PreferenceSide } from '../types.js';
import { LossInputError } from '../errors.js';
import type { WeightedRow } from '../row-sums.js';

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

export interface RowOptions {
  /** More constant [B, T] weights (undefined ones skipped). */
  extra?: Array<tf.Tensor2D | undefined>;
  /** Constant scores c whose complements 1 − c weight the row (cDPO). */
  complements?: Array<tf.Tensor2D | undefined>;
  /** A differentiable weight (SparsePO's mask). */
  gate?: tf.Tensor2D;
  /** Divide the sum by the response's valid-token count (IPO). */
  mean?: boolean;
}

/**
 * A row Σ_t m_t · w_t · Π extra_t · Π (1 − complement_t) · g_t · (x − offset)[t] over one response:
 * the validity mask, `tokenWeights` and the options' weights, all multiplied inside the fused op.
 */
export function sideRow(side: PreferenceSide, x: tf.Tensor2D, opts: RowOptions & { offset?: tf.Tensor2D } = {}): WeightedRow {
  return {
    x,
    offset: opts.offset,
    weight: side.mask,
    factors: [side.tokenWeights, ...(opts.extra ?? [])],
    complements: opts.complements,
    gate: opts.gate,
    meanOver: opts.mean ? side.mask : undefined,
  };
}

/** The row Σ_t w_t (lp_θ − lp_ref)[t] of one response (weights as in `sideRow`). */
export function logRatioRow(side: PreferenceSide, opts: RowOptions = {}): WeightedRow {
  return sideRow(side, side.logp, { ...opts, offset: side.refLogp });
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

/**
 * mean_b[ core_ε(h_b) + c_b x_b ] from out = [h] or [h; x] ([1 or 2, B]): core_ε the sigmoid pair loss
 * above, c = 1 (`plain`: SparsePO's L1 row) or the detached pair weight sg[σ(−h)] (`pair-weight`:
 * T-REG's regulariser), as one recorded op. c is made in its forward, so no gradient flows through
 * it, and so is the gradient w.r.t. out, the constant [core'_ε(h); c] / B with
 * core'_ε(h) = −(1−ε) σ(−h) + ε σ(h): the taped tail's ~20 small kernels (each saving copies) become
 * ~10 untaped ones and one product in the backward. Same values and gradients as the taped tail.
 */
export function sigmoidPairTail(out: tf.Tensor2D, labelSmoothing: number, second: 'plain' | 'pair-weight' = 'plain'): tf.Scalar {
  const eps = labelSmoothing;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [o, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const [h, x] = outRowsUntaped(o);
    const sigNeg = tf.sigmoid(tf.neg(h)); // σ(−h)
    const dCore = eps === 0 ? tf.neg(sigNeg) : tf.add(tf.mul(sigNeg, -(1 - eps)), tf.mul(tf.sigmoid(h), eps));
    const core = sigmoidPairLoss(h, eps);
    const c = second === 'pair-weight' ? sigNeg : undefined;
    const total = x ? tf.add(core, c ? tf.mul(c, x) : x) : core;
    const slope = x ? tf.stack([dCore, c ?? tf.onesLike(x)]) : tf.reshape(dCore, [1, -1]);
    save([tf.div(slope, o.shape[1])]);
    return { value: tf.mean(total) as tf.Scalar, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, saved[0])] };
  });
  return op(out) as tf.Scalar;
}

/** The rows of a [1 or 2, B] tensor (inside a recorded op's forward, where nothing is taped). */
function outRowsUntaped(o: tf.Tensor2D): [tf.Tensor1D, tf.Tensor1D | undefined] {
  if (o.shape[0] === 1) return [tf.reshape(o, [-1]) as tf.Tensor1D, undefined];
  const [h, x] = tf.unstack(o) as tf.Tensor1D[];
  return [h, x];
}

/** `sigmoidPairLoss` of one pair on the host (metrics). */
export function sigmoidPairLossValue(h: number, labelSmoothing = 0): number {
  const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
  return (1 - labelSmoothing) * softplus(-h) + (labelSmoothing ? labelSmoothing * softplus(h) : 0);
}

/** Reads a [R, B] tensor as R rows of B numbers, and disposes it. */
export function readRows(t: tf.Tensor2D): Float32Array[] {
  const [r, b] = t.shape;
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return Array.from({ length: r }, (_, i) => v.subarray(i * b, (i + 1) * b));
}

export function meanOf(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : 0;
}

/**
 * The preference metrics that are fractions of the batch's valid response tokens (SparsePO's
 * `maskDensity`); every other metric of the family (`pairMetrics` and each objective's own) is a
 * mean over pairs. A step split into micro-batches weights each micro-batch's value accordingly.
 */
export const TOKEN_FRACTION_METRICS: ReadonlySet<string> = new Set(['maskDensity']);

/**
 * The metrics every preference loss reports: `margin` (mean h), `accuracy` (fraction of pairs with
 * h > 0), `chosenReward` and `rejectedReward` (mean per-pair rewards).
 */
export function pairMetrics(h: ArrayLike<number>, chosenReward: ArrayLike<number>, rejectedReward: ArrayLike<number>): Record<string, number> {
  let correct = 0;
  for (let i = 0; i < h.length; i++) if (h[i] > 0) correct++;
  return { margin: meanOf(h), accuracy: h.length ? correct / h.length : 0, chosenReward: meanOf(chosenReward), rejectedReward: meanOf(rejectedReward) };
}

/** x · c, elementwise on the host. */
export function scaled(x: ArrayLike<number>, c: number): Float64Array {
  return Float64Array.from({ length: x.length }, (_, i) => x[i] * c);
}
