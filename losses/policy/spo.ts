/**
 * SPO — Segment Policy Optimization (Guo, Xu, Liu, Ye, Qiu, arXiv 2505.23564; official code
 * AIFrameResearch/SPO, treetune-based). Segment-level advantages from Monte Carlo values, then a
 * PPO-clip loss restricted to low-probability tokens.
 *
 * Chain (short CoT, paper §4.1, code `math_episode_generator_with_mc_advantages.py`):
 *   cutpoints   c = { t − 1 : p_old(y_t) < threshold }  (state just before a risky token; default 0.9),
 *               then every k-th of them is kept (`cutpoint_interval`, code default 5)
 *   values      V(s_c) = mean reward of N continuations from x ⊕ y_≤c (computed by the caller)
 *   advantages  A_k = V(s_{c_k}) − V(s_{c_{k−1}}) for the tokens c_{k−1}+1 … c_k;
 *               first segment against V(s_0) (the prompt state); last segment closes with R(y)
 * Tree (long CoT, paper §4.2, code `tree_episode_generator.py`):
 *   V(leaf) = reward; V(node) = mean of its children's values;
 *   A(edge) = V(child) − V(parent)                                  'rloo' (code default)
 *   A(edge) = (V(child) − V(parent)) / (std_children(parent) + 1e-8) 'grpo'
 *   edges with A = 0 are dropped by default (code: `only_adv_greater_than_zero`, tested as ≠ 0)
 * Loss (paper eq. 6, code `ppo_trainer.py` `_compute_actor_loss` with `use_prob_mask`):
 *   keep_t = valid_t ∧ p_old(y_t) < threshold
 *   Â      = whiten(A) over the kept tokens of the batch (mean 0, unit variance; unbiased variance,
 *            rsqrt(var + 1e-8), treetune `whiten`)
 *   L      = aggregate_{keep}( −min(ρ_t Â_t, clip(ρ_t, 1−ε_low, 1+ε_high) Â_t) ) [+ β_KL k3]
 *
 * Decisions and departures:
 *  - V(s_0) is estimated (the paper's formulation): the first segment's advantage is V(s_{c_1}) −
 *    V(s_0). Passing `v0: null` reproduces the official code's quirk (first segment gets 0 when the
 *    first low-probability token is not the first response token).
 *  - The probability mask is part of the denominator (masked mean over kept tokens), as in the code;
 *    other token weights multiply in without changing it (e.g. × a forking mask).
 *  - Tree 'grpo' mode uses the population std of the siblings' values (not verified against the
 *    code; stated here so it can be checked).
 *  - The KL term, when used, goes through the same aggregation (the code sums k3 per sequence
 *    before averaging; not reproduced).
 *  - The log importance ratio is clamped to ±10 before the exp, as the official trainer does
 *    (`ppo_trainer.py`: `torch.clamp(log_ratio, -10, 10)`), not ±20 like ppo-clip (verl). The two
 *    agree wherever the ratio is below e^10 ≈ 22026; beyond it SPO's surrogate (and its gradient,
 *    zero where the clamp is active) is the official one. Decision: follow SPO's own code here.
 *  - A single segment spanning the response (no kept cutpoints) gives A = R − V(s_0) on every token:
 *    outcome-level PPO with a value baseline.
 * Shapes: policy-loss inputs [B, T]; advantages per token (broadcast segment advantages) [B, T].
 */
import * as tf from '@tensorflow/tfjs';
import type { PolicyLossFn } from '../types.js';
import { LossInputError } from '../errors.js';
import { constantWeights, tidyLoss } from '../tensor-utils.js';
import { checkPolicyInputs, clippedPolicyLoss } from './ppo-clip.js';

/** The official SPO trainer's bound on the log importance ratio (`ppo_trainer.py`). */
export const SPO_LOG_RATIO_CLAMP = 10;

export interface SpoCutpointOptions {
  /** Tokens with old-policy probability below this define cutpoints. Default 0.9 (hard-coded in the code). */
  threshold?: number;
  /** Keep every k-th cutpoint (1 = all). Default 5 ("int5"). */
  interval?: number;
}

/**
 * @param oldProbs p_old(y_t) of each response token, length T
 * @returns kept cutpoint indices (ascending; −1 = the prompt state, when the first token is risky)
 */
export function spoCutpoints(oldProbs: readonly number[], opts: SpoCutpointOptions = {}): number[] {
  const threshold = opts.threshold ?? 0.9;
  const interval = opts.interval ?? 5;
  if (!(Number.isInteger(interval) && interval >= 1)) throw new LossInputError('spoCutpoints', `interval must be a positive integer, got ${interval}`);
  const cuts: number[] = [];
  oldProbs.forEach((p, t) => {
    if (p < threshold) cuts.push(t - 1);
  });
  return cuts.filter((_, i) => i % interval === 0);
}

export interface SpoChainInput {
  /** Response length T. */
  length: number;
  /** Kept cutpoints (from `spoCutpoints`), ascending, in [−1, T−1). */
  cutpoints: readonly number[];
  /** V(s_c) at each cutpoint (Monte Carlo estimate), aligned with `cutpoints`. At −1 it is V(s_0). */
  values: readonly number[];
  /** V(s_0) at the prompt; `null` = not estimated (official-code quirk: first segment gets 0). */
  v0: number | null;
  /** Final verifier reward R(y): the value after the last token. */
  reward: number;
}

/** Per-token chain advantages, length T. */
export function spoChainAdvantages(input: SpoChainInput): number[] {
  const { length: T, cutpoints, values, reward } = input;
  if (cutpoints.length !== values.length) throw new LossInputError('spoChainAdvantages', `${cutpoints.length} cutpoints but ${values.length} values`);
  let prevValue: number | null = input.v0;
  let prevCut = -1;
  const adv = new Array<number>(T).fill(0);
  const closeSegment = (endInclusive: number, value: number) => {
    const a = prevValue === null ? 0 : value - prevValue;
    for (let t = prevCut + 1; t <= endInclusive; t++) adv[t] = a;
    prevCut = endInclusive;
    prevValue = value;
  };
  cutpoints.forEach((c, i) => {
    if (!Number.isInteger(c) || c < -1 || (i > 0 && c <= cutpoints[i - 1])) {
      throw new LossInputError('spoChainAdvantages', `cutpoints must be ascending integers ≥ −1, got ${cutpoints.join(', ')}`);
    }
    if (c === -1) {
      prevValue = values[i]; // the prompt state's own value: V(s_0)
      return;
    }
    if (c >= T - 1) return; // the state after the last token is valued by the reward itself
    closeSegment(c, values[i]);
  });
  if (T > 0) closeSegment(T - 1, reward);
  return adv;
}

/** A node of an SPO tree: leaves carry the verifier reward, inner nodes their children. */
export interface SpoTreeNode {
  reward?: number;
  children?: readonly SpoTreeNode[];
}

export interface SpoTreeEdge {
  /** Child indices from the root to this node (the segment generated by this edge). */
  path: number[];
  /** V(child). */
  value: number;
  /** Segment advantage shared by all tokens of the segment. */
  advantage: number;
}

/** Node values (mean of children) and per-edge advantages, depth-first order. */
export function spoTreeAdvantages(root: SpoTreeNode, mode: 'rloo' | 'grpo' = 'rloo', opts: { dropZero?: boolean; eps?: number } = {}): { rootValue: number; edges: SpoTreeEdge[] } {
  const dropZero = opts.dropZero ?? true;
  const eps = opts.eps ?? 1e-8;
  const value = (n: SpoTreeNode): number => {
    if (!n.children || n.children.length === 0) {
      if (n.reward === undefined || !Number.isFinite(n.reward)) throw new LossInputError('spoTreeAdvantages', 'every leaf needs a finite reward');
      return n.reward;
    }
    return n.children.reduce((s, c) => s + value(c), 0) / n.children.length;
  };
  const edges: SpoTreeEdge[] = [];
  const walk = (n: SpoTreeNode, path: number[], v: number) => {
    if (!n.children || n.children.length === 0) return;
    const childValues = n.children.map(value);
    const std = Math.sqrt(childValues.reduce((s, x) => s + (x - v) ** 2, 0) / childValues.length);
    n.children.forEach((c, i) => {
      const diff = childValues[i] - v;
      const a = mode === 'grpo' ? diff / (std + eps) : diff;
      if (!(dropZero && a === 0)) edges.push({ path: [...path, i], value: childValues[i], advantage: a });
      walk(c, [...path, i], childValues[i]);
    });
  };
  const rootValue = value(root);
  walk(root, [], rootValue);
  return { rootValue, edges };
}

/**
 * The probability mask and the whitened advantages, computed in one pass on the CPU: both depend
 * only on constants (old log-probs, advantages, mask), and the pass is far cheaper than the ~10
 * elementwise tensor ops it replaces.
 */
/**
 * SPO's whitening statistics over the kept entries: the mean, and 1 / sqrt(unbiased variance + 1e-8)
 * (treetune `whiten`). Plain numbers, so an update that whitens over a whole rollout batch before
 * splitting it into micro-batches (tasks/recipe.ts) uses exactly this.
 */
export function whitening(values: ArrayLike<number>, kept: ArrayLike<number | boolean>): { mean: number; scale: number } {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    if (kept[i]) {
      n++;
      sum += values[i];
    }
  }
  const mean = n > 0 ? sum / n : 0;
  let ss = 0;
  for (let i = 0; i < values.length; i++) if (kept[i]) ss += (values[i] - mean) ** 2;
  return { mean, scale: 1 / Math.sqrt(ss / Math.max(n - 1, 1) + 1e-8) };
}

function keepAndWhiten(inputs: { oldLogp: tf.Tensor2D; advantages: tf.Tensor2D; mask: tf.Tensor2D }, threshold: number, whiten: boolean): { keep: tf.Tensor2D; advantages: tf.Tensor2D; kept: number; valid: number } {
  const lp = inputs.oldLogp.dataSync();
  const m = inputs.mask.dataSync();
  const a = inputs.advantages.dataSync();
  const logThreshold = Math.log(threshold); // p_old < threshold ⇔ lp_old < log(threshold)
  const keep = new Float32Array(m.length);
  let n = 0;
  let valid = 0;
  for (let i = 0; i < m.length; i++) {
    if (!(m[i] > 0)) continue;
    valid++;
    if (lp[i] < logThreshold) {
      keep[i] = 1;
      n++;
    }
  }
  const shape = inputs.mask.shape;
  if (!whiten) return { keep: tf.tensor2d(keep, shape), advantages: inputs.advantages, kept: n, valid };
  const { mean, scale } = whitening(a, keep);
  const white = new Float32Array(m.length);
  for (let i = 0; i < m.length; i++) white[i] = (a[i] - mean) * scale;
  return { keep: tf.tensor2d(keep, shape), advantages: tf.tensor2d(white, shape), kept: n, valid };
}

/**
 * SPO policy loss: probability mask + whitening + PPO-clip. `inputs.advantages` holds the
 * (broadcast) segment advantages; `params.spoProbThreshold` (0.9) and `params.spoWhiten` (true).
 */
export const spoPpo: PolicyLossFn = (inputs, params) => {
  checkPolicyInputs('spoPpo', inputs, params);
  const threshold = params.spoProbThreshold ?? 0.9;
  const whiten = params.spoWhiten ?? true;
  return tidyLoss(() => {
    const { keep, advantages, kept, valid } = keepAndWhiten(inputs, threshold, whiten);
    const r = clippedPolicyLoss({ ...inputs, advantages }, params, constantWeights([keep, inputs.tokenWeights]), keep, SPO_LOG_RATIO_CLAMP);
    if (!params.skipMetrics) r.metrics.probMaskFraction = valid > 0 ? kept / valid : 0;
    return r;
  });
};
