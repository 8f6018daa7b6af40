/**
 * SparsePO mask producers (arXiv 2410.05102 §3; official code huawei-noah/HEBO `SparsePO/src/
 * trainers/mapo_trainer.py` (`apply_activation_mapping`) and `src/masks/mask_models.py`).
 *
 * (a) Activation mask ("MaPO", no parameters), from the reference model's hooked activations:
 *       a_h[t]  = mean over the hidden size of hook h's activation at t
 *       ã_h     = minmax_seq( zscore_seq(a_h) )       over the valid tokens of each sequence
 *       m[t]    = sg[ mean_h ã_h[t] ]                  ∈ [0, 1]
 *     The z-score is an affine map per sequence, which the min-max rescale undoes exactly, so the
 *     code rescales a_h directly (same numbers, no std). Z-score uses the unbiased std (the spec's
 *     script, ddof = 1) — irrelevant after min-max. A sequence whose activations are all equal (or
 *     that has a single valid token) gets mask 1 there instead of 0/0: no token is singled out, so it
 *     falls back to the unmasked objective. Masked positions get 0.
 *
 * (b) Learned mask head ("SparsePO", `mask_model="simple_all"`), on the reference model's per-layer
 *     hidden states h_ℓ [B, T, H] (ℓ = 1..L, already aligned to next-token positions):
 *       g_ℓ[t] = Dropout(ReLU( w_ℓ · LayerNorm(h_ℓ[t]) + b_ℓ ))        LayerNorm shared across layers
 *       m[t]   = Dropout(ReLU( Σ_ℓ c_ℓ g_ℓ[t] ))                        mixer Linear(L → 1, no bias)
 *     Exact zeros come from the ReLU; no sigmoid or clamp (unbounded above), as in the code.
 *     Trained jointly with the policy through the SparsePO loss: pass `head.variables` to
 *     `tf.variableGrads` with the policy's. Initialisation follows PyTorch's `nn.Linear` default
 *     (U(±1/√fan_in)) and `nn.LayerNorm` (γ = 1, β = 0, ε = 1e-5), from an explicit seed.
 *     Dropout (default rate 0.01, the code's `mask_dropout`) draws from a seeded stream keyed by
 *     (seed, step, site), so a resumed run reproduces the same masks; it is off in eval mode. The
 *     noise is drawn over a frame, by default the input's own [B, T]: a step split into
 *     micro-batches passes the whole batch's frame and each micro-batch's place in it
 *     ({@link DropoutFrame}), so every pair is masked as in the whole-batch pass.
 */
import * as tf from '@tensorflow/tfjs';
import { LossInputError } from '../errors.js';
import { stopGradient } from '../tensor-utils.js';

/**
 * @param activations one [B, T, H_h] tensor per hook (hidden sizes may differ between hooks)
 * @param mask        [B, T] valid response tokens
 * @returns [B, T] detached mask in [0, 1]
 */
export function activationMask(activations: readonly tf.Tensor3D[], mask: tf.Tensor2D): tf.Tensor2D {
  if (activations.length === 0) throw new LossInputError('activationMask', 'needs at least one hooked activation');
  for (const a of activations) {
    if (a.shape[0] !== mask.shape[0] || a.shape[1] !== mask.shape[1]) {
      throw new LossInputError('activationMask', `activation shape [${a.shape}] does not match mask [${mask.shape}]`);
    }
  }
  return tf.tidy(() => {
    const valid = tf.greater(mask, 0);
    const big = tf.fill(mask.shape, 3.4e38);
    let acc: tf.Tensor2D = tf.zerosLike(mask);
    for (const act of activations) {
      const a = tf.mean(act, -1) as tf.Tensor2D; // [B, T]
      const lo = tf.min(tf.where(valid, a, big), 1, true);
      const hi = tf.max(tf.where(valid, a, tf.neg(big)), 1, true);
      const range = tf.sub(hi, lo);
      const scaled = tf.div(tf.sub(a, lo), tf.where(tf.greater(range, 0), range, tf.onesLike(range)));
      const constant = tf.logicalNot(tf.greater(range, 0)); // [B, 1]: all equal, or ≤ 1 valid token
      acc = tf.add(acc, tf.where(tf.logicalAnd(constant, tf.onesLike(valid)), tf.onesLike(a), scaled));
    }
    const m = tf.where(valid, tf.div(acc, activations.length), tf.zerosLike(acc));
    return stopGradient(m as tf.Tensor2D);
  });
}

export interface SparseMaskHeadConfig {
  /** L: number of transformer layers whose hidden states feed the head. */
  numLayers: number;
  /** H: hidden size. */
  hiddenSize: number;
  /** Seed for the initial weights and the dropout stream. */
  seed: number;
  /** Dropout rate on each layer's gate and on the mixed mask. Default 0.01 (code default). */
  dropout?: number;
  /** Variable-name prefix, unique per process (tfjs names are global); default: tfjs's own unique names. */
  name?: string;
}

/**
 * The [rows, cols] batch a [B, T] input's dropout noise is drawn for, and the input's place in it:
 * rows [from, from + B), columns [0, T) (right padding: a shorter input is the frame's left part).
 */
export interface DropoutFrame {
  rows: number;
  cols: number;
  from: number;
}

/**
 * tf.dropout's keep multiplier floor(u + keep) / keep, u ~ U[0, 1) from `seed`, drawn over the
 * frame (with x's leading dimensions) and cut to x's block of it; x's own shape as the frame (from
 * 0) draws exactly tf.dropout's noise, so whole-batch steps keep their numbers.
 * @param x [..., B, T]
 */
function framedDropout<T extends tf.Tensor>(x: T, rate: number, seed: number, frame: DropoutFrame): T {
  const lead = x.shape.slice(0, -2);
  const [B, T] = x.shape.slice(-2);
  if (frame.from < 0 || frame.from + B > frame.rows || T > frame.cols) {
    throw new LossInputError('SparseMaskHead.apply', `a [${B}, ${T}] input at row ${frame.from} does not fit its dropout frame [${frame.rows}, ${frame.cols}]`);
  }
  const keep = 1 - rate;
  const multiplier = tf.div(tf.floor(tf.add(tf.randomUniform([...lead, frame.rows, frame.cols], 0, 1, 'float32', seed), keep)), keep);
  return tf.mul(x, tf.slice(multiplier, [...lead.map(() => 0), frame.from, 0], x.shape)) as T;
}

/** Mixes (seed, step, site) into a 31-bit dropout seed (deterministic, no global state). */
function dropoutSeed(seed: number, step: number, site: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const v of [step, site]) {
    h = Math.imul(h ^ (v >>> 0), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
  }
  return h & 0x7fffffff;
}

/** The learned SparsePO mask head; its weights are explicit `tf.Variable`s. */
export class SparseMaskHead {
  readonly lnGamma: tf.Variable; // [H]
  readonly lnBeta: tf.Variable; // [H]
  readonly layerWeight: tf.Variable; // [L, H]
  readonly layerBias: tf.Variable; // [L]
  readonly mixer: tf.Variable; // [L]
  readonly dropout: number;
  private readonly seed: number;

  constructor(readonly config: SparseMaskHeadConfig) {
    const { numLayers: L, hiddenSize: H, seed } = config;
    if (!(Number.isInteger(L) && L > 0 && Number.isInteger(H) && H > 0)) {
      throw new LossInputError('SparseMaskHead', `numLayers and hiddenSize must be positive integers, got ${L}, ${H}`);
    }
    this.dropout = config.dropout ?? 0.01;
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new LossInputError('SparseMaskHead', `dropout must be in [0, 1), got ${this.dropout}`);
    this.seed = seed;
    // tfjs variable names are global: name them only when the caller picks a (unique) prefix.
    const name = config.name;
    const n = (suffix: string) => (name === undefined ? undefined : `${name}/${suffix}`);
    const bH = 1 / Math.sqrt(H);
    const bL = 1 / Math.sqrt(L);
    // tidy: a variable shares its initial tensor's data but not its handle, so the initial tensors
    // must be freed here or `dispose` leaves five behind (tidy never disposes the variables)
    const v = (init: () => tf.Tensor, suffix: string) => tf.tidy(() => tf.variable(init(), true, n(suffix)));
    this.lnGamma = v(() => tf.ones([H]), 'ln/gamma');
    this.lnBeta = v(() => tf.zeros([H]), 'ln/beta');
    this.layerWeight = v(() => tf.randomUniform([L, H], -bH, bH, 'float32', seed), 'layer/weight');
    this.layerBias = v(() => tf.randomUniform([L], -bH, bH, 'float32', seed + 1), 'layer/bias');
    this.mixer = v(() => tf.randomUniform([L], -bL, bL, 'float32', seed + 2), 'mixer/weight');
  }

  get variables(): tf.Variable[] {
    return [this.lnGamma, this.lnBeta, this.layerWeight, this.layerBias, this.mixer];
  }

  /**
   * @param hidden one [B, T, H] reference hidden state per layer (L of them; constants)
   * @param mode   `{ training: true, step }` turns dropout on with the stream for `step`, drawn over
   *               `frame` (default: this input's own [B, T]); `{ training: false }` (eval) is deterministic
   * @returns [B, T] non-negative mask (differentiable in the head's variables)
   */
  apply(hidden: readonly tf.Tensor3D[], mode: { training: true; step: number; frame?: DropoutFrame } | { training: false }): tf.Tensor2D {
    const L = this.config.numLayers;
    if (hidden.length !== L) throw new LossInputError('SparseMaskHead.apply', `expected ${L} hidden states, got ${hidden.length}`);
    return tf.tidy(() => {
      const x = tf.stack(hidden as tf.Tensor3D[]) as tf.Tensor4D; // [L, B, T, H]
      const [, B, T, H] = x.shape;
      if (H !== this.config.hiddenSize) throw new LossInputError('SparseMaskHead.apply', `hidden size ${H} != ${this.config.hiddenSize}`);
      const { mean, variance } = tf.moments(x, -1, true);
      const normed = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), this.lnGamma), this.lnBeta);
      // per-layer Linear(H → 1): Σ_h normed · w_ℓ[h] + b_ℓ  → [L, B, T]
      const proj = tf.add(tf.sum(tf.mul(normed, tf.reshape(this.layerWeight, [L, 1, 1, H])), -1), tf.reshape(this.layerBias, [L, 1, 1]));
      let gates = tf.relu(proj) as tf.Tensor3D;
      // dropout only in training; its noise drawn over the caller's frame, else this input's own
      const frame = mode.training && this.dropout > 0 ? mode.frame ?? { rows: B, cols: T, from: 0 } : undefined;
      if (mode.training && frame) gates = framedDropout(gates, this.dropout, dropoutSeed(this.seed, mode.step, 0), frame);
      let m = tf.relu(tf.sum(tf.mul(gates, tf.reshape(this.mixer, [L, 1, 1])), 0)) as tf.Tensor2D; // [B, T]
      if (mode.training && frame) m = framedDropout(m, this.dropout, dropoutSeed(this.seed, mode.step, 1), frame);
      return tf.reshape(m, [B, T]) as tf.Tensor2D;
    });
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
