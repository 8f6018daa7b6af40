/**
 * Critical-token DPO ("cDPO" of Lin et al., "Critical Tokens Matter: Token-Level Contrastive
 * Estimation Enhances LLM's Reasoning Capability", arXiv 2411.19943, ICML 2025; §3.2 eq. 4–6).
 * Not "conservative DPO" (label-smoothed DPO), which other libraries also call cDPO; that one is
 * `dpo` with `labelSmoothing` here.
 *
 * Contrastive-estimation scores (offline, from a positive and a negative fine-tuned model):
 *   log s_t = (1+β_ce) log P_pos(y_t) − β_ce log P_neg(y_t) − log Z_t
 *           = log softmax((1+β_ce)·z_pos − β_ce·z_neg)[y_t]        (each model's normaliser cancels)
 * Loss (token-weighted DPO with weights 1 − s_t on the rejected response; sequence sums):
 *   φ(y_w)   = γ Σ_t m_t (lp_θ − lp_ref)[y_w, t]
 *   φ_s(y_l) = γ Σ_t m_t (1 − s_t)(lp_θ − lp_ref)[y_l, t]
 *   L        = mean_pairs[ −logσ( φ(y_w) − φ_s(y_l) ) ]
 *
 * Decisions and departures:
 *  - γ (paper, 1.0) and β (official code `get_cdpo_config`, 0.1) play the same role: the single
 *    coefficient of the margin. It is `params.beta` here; the library sets no default, configs
 *    should say which one they follow (objectives.md §1 gives numbers for both).
 *  - Weights go on the rejected response only, as the paper states and the code does (`only_neg`).
 *  - `criticalSide: 'both'` also weights the chosen response, by s_t (not 1 − s_t), as the official
 *    two-sided mode does (`train_cdpo.py`, `only_neg=False`: `chosen_rewards` are the positive
 *    side's `ce_prob`). The paper defines no two-sided form, so its only source is that code; and it
 *    is the reading that fits the scores: on a correct response a high s_t marks a token the
 *    positive model prefers over the negative one, the token that earned the correctness.
 *  - Sequence sums, as the paper writes (eq. 5–6): one Bradley–Terry comparison per pair. The
 *    official `dpo_loss` instead applies −logσ position by position (chosen token t against
 *    rejected token t, padded with zeros) and averages over positions. That pairs unrelated tokens
 *    of two different responses and adds log 2 for every padded position, so it is not
 *    reproduced; test/losses/preference.test.ts keeps both numbers apart on one pair.
 *  - s_t are constants (precomputed once); `tokenWeights` multiply in; label smoothing is honoured.
 *  - With s_t = 0 everywhere the loss is exactly DPO.
 * Shapes: logits [B, T, V]; ids, scores, log-probs [B, T].
 */
import * as tf from '@tensorflow/tfjs';
import type { PreferenceLossFn } from '../types.js';
import { LossInputError } from '../errors.js';
import { takenLogProbs } from '../token-stats.js';
import { checkPreferenceInputs } from './core.js';
import { weightedDpoLoss } from './dpo.js';

/**
 * s_t = softmax((1+β_ce)·z_pos − β_ce·z_neg)[y_t]
 * @param posLogits [B, T, V] positive-model logits at the response positions
 * @param negLogits [B, T, V] negative-model logits at the same positions
 * @param ids       [B, T] int32 response token ids
 * @param betaCe    β_ce (default 1.0, the paper's and code's default)
 * @returns [B, T] scores in (0, 1); low = likely critical
 */
export function criticalTokenScores(posLogits: tf.Tensor3D, negLogits: tf.Tensor3D, ids: tf.Tensor2D, betaCe = 1): tf.Tensor2D {
  if (!(betaCe >= 0)) throw new LossInputError('criticalTokenScores', `betaCe must be ≥ 0, got ${betaCe}`);
  return tf.tidy(() => tf.exp(takenLogProbs(tf.sub(tf.mul(posLogits, 1 + betaCe), tf.mul(negLogits, betaCe)) as tf.Tensor3D, ids)) as tf.Tensor2D);
}

export const criticalTokenDpo: PreferenceLossFn = (inputs, params) => {
  checkPreferenceInputs('criticalTokenDpo', inputs, params);
  const sRejected = inputs.rejected.criticalScores;
  if (!sRejected) throw new LossInputError('criticalTokenDpo', 'needs rejected.criticalScores (s_t)');
  const both = (params.criticalSide ?? 'rejected') === 'both';
  if (both && !inputs.chosen.criticalScores) throw new LossInputError('criticalTokenDpo', "criticalSide 'both' needs chosen.criticalScores");
  // rejected: 1 − s_t (complement); chosen ('both'): s_t itself (factor)
  return weightedDpoLoss(inputs, params, { rejected: sRejected }, { chosen: both ? inputs.chosen.criticalScores : undefined });
};
