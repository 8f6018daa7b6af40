/**
 * One preference step's batch: which pairs (the data cursor), their token sequences, and the loss
 * inputs of the configured objective, built from a policy and a reference forward pass.
 *
 * Rows: the B chosen sequences first, then the B rejected ones, in one forward pass per model; each
 * side is a [B, Tr] slice of it. Per objective, the constants beside the log-probs:
 *   dpo, ipo                none
 *   token-weighted-dpo      tokenWeights: 1 up to the first token where the responses differ, `afterDivergenceWeight` after
 *   critical-token-dpo      criticalScores s_t (rejected; chosen too with criticalSide 'both'), from the scores file
 *   t-reg                   tokenRewards r̂_t on both sides, from the scores file
 *   sparse-po               kl = KL(π_ref‖πθ) per token from both models' logits (on the gradient path), and
 *                           sparseMaskReward = the activation mask of the reference's per-layer hidden states
 */
import * as tf from '@tensorflow/tfjs';
import type { PreferenceObjective } from '../configs/preference-schema.js';
import { activationMask, klRefPolicyFromLogits, type DropoutFrame, type PreferenceLossInputs, type PreferenceLossParams, type PreferenceSide, type SparseMaskHead } from '../losses/index.js';
import type { TextTokenizer } from '../models/tokenizer.js';
import type { TokenScores } from '../store/preference-files.js';
import { encodePair, type PreferencePair } from '../tasks/preference-pairs.js';
import { paddedRows, rowsOf, type ResponseForward } from './preference-forward.js';
import { deriveRng } from '../common/rng.js';

/**
 * Pair indices of step `step` (1-based): positions (step−1)·B … step·B−1 of the stream that visits
 * every pair once per epoch in a per-epoch shuffle (stream (seed, 'preference-order', epoch)).
 * `cursor` is the number of pairs consumed after this step, `epoch` the epoch of its last pair.
 */
export function batchIndices(pairCount: number, seed: number, step: number, batchSize: number): { indices: number[]; cursor: number; epoch: number } {
  if (pairCount < 1) throw new Error('batchIndices: no pairs');
  const orders = new Map<number, number[]>();
  const indices: number[] = [];
  let epoch = 0;
  for (let k = 0; k < batchSize; k++) {
    const position = (step - 1) * batchSize + k;
    epoch = Math.floor(position / pairCount);
    let order = orders.get(epoch);
    if (!order) orders.set(epoch, (order = deriveRng(seed, 'preference-order', epoch).shuffle(Array.from({ length: pairCount }, (_, i) => i))));
    indices.push(order[position % pairCount]);
  }
  return { indices, cursor: step * batchSize, epoch };
}

export interface EncodedBatch {
  pairs: PreferencePair[];
  /** 2B sequences: chosen rows, then rejected rows. */
  seqs: number[][];
  starts: number[];
  chosen: number[][];
  rejected: number[][];
}

export function encodeBatch(tok: TextTokenizer, pairs: PreferencePair[]): EncodedBatch {
  const enc = pairs.map((p) => encodePair(tok, p));
  return {
    pairs,
    seqs: [...enc.map((e) => [...e.prompt, ...e.chosen]), ...enc.map((e) => [...e.prompt, ...e.rejected])],
    starts: [...enc.map((e) => e.prompt.length), ...enc.map((e) => e.prompt.length)],
    chosen: enc.map((e) => e.chosen),
    rejected: enc.map((e) => e.rejected),
  };
}

/**
 * Token-weighted DPO's weights: 1 up to and including the first position where the two responses
 * differ, `after` beyond it. (Before that position both responses have the same tokens after the
 * same prefix, so their log-ratios cancel in the margin whatever their weight.)
 */
export function divergenceWeights(chosen: readonly number[], rejected: readonly number[], after: number): { chosen: number[]; rejected: number[] } {
  let d = 0;
  while (d < chosen.length && d < rejected.length && chosen[d] === rejected[d]) d++;
  const weights = (n: number) => Array.from({ length: n }, (_, t) => (t <= d ? 1 : after));
  return { chosen: weights(chosen.length), rejected: weights(rejected.length) };
}

export function lossParams(o: PreferenceObjective): PreferenceLossParams {
  const params: PreferenceLossParams = { beta: o.beta };
  if ('labelSmoothing' in o) params.labelSmoothing = o.labelSmoothing;
  if (o.name === 'critical-token-dpo') params.criticalSide = o.criticalSide;
  if (o.name === 't-reg') params.tregAlpha = o.alpha;
  // the learned mask is shared by both terms: λ_u = λ_d = λ, which the loss counts once
  if (o.name === 'sparse-po' && o.mask === 'learned') Object.assign(params, { sparseL1Reward: o.maskL1, sparseL1Kl: o.maskL1 });
  return params;
}

/** Whether the objective needs the full logits (KL) and the reference's hidden states (mask). */
export function forwardNeeds(o: PreferenceObjective): { logits: boolean; hidden: boolean } {
  return { logits: o.name === 'sparse-po' && o.klTerm, hidden: o.name === 'sparse-po' && (o.mask === 'activations' || o.mask === 'learned') };
}

/** Scores of each pair's side from a scores file (a missing pair is a broken file: fail loudly). */
function scoreRows(file: TokenScores | undefined, what: string, pairs: PreferencePair[], side: 'chosen' | 'rejected', lengths: number[][]): number[][] {
  if (!file) throw new Error(`${what}: the scores file has not been computed`);
  return pairs.map((p, b) => {
    const row = file.scores[p.id]?.[side];
    if (!row || row.length !== lengths[b].length) throw new Error(`${what}: no ${side} scores of pair ${p.id} (or of the wrong length) in the scores file`);
    return row;
  });
}

/** The constant per-token inputs of each side (disposed by the caller with `tf.dispose`). */
export function sideConstants(
  o: PreferenceObjective,
  batch: EncodedBatch,
  reference: ResponseForward,
  files: { criticalTokens?: TokenScores; tokenRewards?: TokenScores },
): { chosen: Partial<PreferenceSide>; rejected: Partial<PreferenceSide> } {
  const B = batch.pairs.length;
  const Tr = reference.logp.shape[1];
  const rows = (xs: number[][]) => paddedRows(xs, Tr) as tf.Tensor2D;
  switch (o.name) {
    case 'token-weighted-dpo': {
      const w = batch.chosen.map((c, b) => divergenceWeights(c, batch.rejected[b], o.afterDivergenceWeight));
      return { chosen: { tokenWeights: rows(w.map((x) => x.chosen)) }, rejected: { tokenWeights: rows(w.map((x) => x.rejected)) } };
    }
    case 'critical-token-dpo': {
      const s = (side: 'chosen' | 'rejected') => rows(scoreRows(files.criticalTokens, 'critical-token-dpo', batch.pairs, side, batch[side]));
      return { chosen: o.criticalSide === 'both' ? { criticalScores: s('chosen') } : {}, rejected: { criticalScores: s('rejected') } };
    }
    case 't-reg': {
      const r = (side: 'chosen' | 'rejected') => rows(scoreRows(files.tokenRewards, 't-reg', batch.pairs, side, batch[side]));
      return { chosen: { tokenRewards: r('chosen') }, rejected: { tokenRewards: r('rejected') } };
    }
    case 'sparse-po': {
      // `learned`: the head's mask is made under the gradient tape (preference-sessions.ts), not here.
      if (o.mask !== 'activations') return { chosen: {}, rejected: {} };
      if (!reference.hidden) throw new Error('sparse-po: the reference pass returned no hidden states');
      const mask = (from: number) => tf.tidy(() => activationMask(reference.hidden!.map((h) => rowsOf(h, from, B)), rowsOf(reference.mask, from, B)));
      return { chosen: { sparseMaskReward: mask(0) }, rejected: { sparseMaskReward: mask(B) } };
    }
    default:
      return { chosen: {}, rejected: {} };
  }
}

/**
 * The learned mask of each side from the reference's hidden states (differentiable in the head).
 * `frame`: where these B pairs sit in the step's whole batch, whose dropout noise they take (a
 * micro-batch); both sides of a pair draw the same noise, as in the whole-batch pass.
 */
export function learnedMasks(head: SparseMaskHead, reference: ResponseForward, B: number, mode: { step: number; frame?: DropoutFrame }): { chosen: Partial<PreferenceSide>; rejected: Partial<PreferenceSide> } {
  if (!reference.hidden) throw new Error('sparse-po: the reference pass returned no hidden states');
  const mask = (from: number) => head.apply(reference.hidden!.map((h) => rowsOf(h, from, B)), { training: true, ...mode });
  return { chosen: { sparseMaskReward: mask(0) }, rejected: { sparseMaskReward: mask(B) } };
}

/**
 * The loss inputs: policy log-probs (differentiable), reference log-probs and masks (constants),
 * the side constants, and for sparse-po the per-token KL from both models' logits.
 */
export function lossInputs(
  o: PreferenceObjective,
  B: number,
  policy: ResponseForward,
  reference: ResponseForward,
  constants: { chosen: Partial<PreferenceSide>; rejected: Partial<PreferenceSide> },
): PreferenceLossInputs {
  const side = (from: number, extra: Partial<PreferenceSide>): PreferenceSide => {
    const s: PreferenceSide = { logp: rowsOf(policy.logp, from, B), refLogp: rowsOf(reference.logp, from, B), mask: rowsOf(reference.mask, from, B), ...extra };
    if (forwardNeeds(o).logits) {
      if (!policy.logits || !reference.logits) throw new Error(`${o.name}: the KL term needs both models' logits`);
      s.kl = klRefPolicyFromLogits(rowsOf(policy.logits, from, B), rowsOf(reference.logits, from, B));
    }
    return s;
  };
  return { chosen: side(0, constants.chosen), rejected: side(B, constants.rejected) };
}
