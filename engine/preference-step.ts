/**
 * One optimizer step of a preference objective on a batch of B pairs, in micro-batches of
 * `optimizer.microBatchSize` pairs (gradient accumulation, models/train-step.ts
 * `trainStepAccumulated`): each micro-batch has its own reference pass, side constants, policy pass
 * and loss, so a pass holds 2 × microBatchSize rows, not 2 × B; the gradients are summed, then one
 * AdamW update.
 *
 * Every preference loss is a mean over its pairs (losses/preference/*.ts: the sigmoid and IPO pair
 * losses, SparsePO's L1 rows, T-REG's regulariser, cDPO's weighted DPO are all per-pair rows then
 * `mean`), so a micro-batch of n pairs contributes its loss × n / B and the terms sum to the
 * whole-batch loss. The learned SparsePO mask draws its dropout over the whole batch's frame
 * (losses/preference/sparse-masks.ts `DropoutFrame`), so every pair gets the noise of the
 * whole-batch pass. Each micro-batch is padded to its own longest response: values agree with the
 * whole-batch step to float rounding. With one micro-batch (microBatchSize unset or ≥ B) the step
 * is the single pass exactly: no scaling, the loss's own metrics.
 */
import * as tf from '@tensorflow/tfjs';
import type { PreferenceObjective } from '../configs/preference-schema.js';
import { getPreferenceLoss, TOKEN_FRACTION_METRICS, type SparseMaskHead } from '../losses/index.js';
import type { CausalLM } from '../models/causal-lm.js';
import type { AdamW } from '../models/optimizer.js';
import type { TextTokenizer } from '../models/tokenizer.js';
import { trainStepAccumulated, type TrainStepResult } from '../models/train-step.js';
import type { TokenScores } from '../store/preference-files.js';
import type { PreferencePair } from '../tasks/preference-pairs.js';
import { encodeBatch, forwardNeeds, learnedMasks, lossInputs, lossParams, sideConstants, type EncodedBatch } from './preference-batch.js';
import { responseForward } from './preference-forward.js';

/** What a step reads and trains: a run's resident models (engine/preference-sessions.ts). */
export interface PreferenceStepModels {
  tokenizer: TextTokenizer;
  policy: CausalLM;
  reference: CausalLM;
  /** SparsePO `mask: learned`: the mask head, trained and saved with the policy. */
  maskHead?: SparseMaskHead;
  /** What the optimizer steps and a version stores: the policy, plus the mask head when there is one. */
  trainable: CausalLM;
  optimizer: AdamW;
}

export interface PreferenceStepSettings {
  objective: PreferenceObjective;
  /** The step number (keys the learned mask's dropout stream). */
  step: number;
  /** Pairs per forward/backward pass; default (and at most) the whole batch. */
  microBatchSize?: number;
  lr: number;
  maxGradNorm: number;
  /** The run's scores files (cDPO's s_t, T-REG's r̂_t). */
  files: { criticalTokens?: TokenScores; tokenRewards?: TokenScores };
}

/** One micro-batch's loss metrics and what they are averaged over. */
interface MicroBatchMetrics {
  metrics: Record<string, number>;
  pairs: number;
  /** Valid response tokens of both sides (what `TOKEN_FRACTION_METRICS` are fractions of). */
  responseTokens: number;
}

/** Consecutive slices of `size` pairs (the last one shorter), each with its first pair's index in the batch. */
export function microBatches<T>(pairs: readonly T[], size: number): { from: number; pairs: T[] }[] {
  if (!(Number.isInteger(size) && size >= 1)) throw new Error(`microBatches: size must be a positive integer, got ${size}`);
  const out: { from: number; pairs: T[] }[] = [];
  for (let from = 0; from < pairs.length; from += size) out.push({ from, pairs: pairs.slice(from, from + size) });
  return out;
}

/**
 * The whole batch's metrics from its micro-batches': pair-weighted means, token-weighted for
 * `TOKEN_FRACTION_METRICS`. One micro-batch's are returned as they are (the single-pass step).
 */
export function combinedMetrics(parts: readonly MicroBatchMetrics[]): Record<string, number> {
  if (parts.length === 1) return parts[0].metrics;
  const out: Record<string, number> = {};
  for (const name of Object.keys(parts[0]?.metrics ?? {})) {
    const weight = (p: MicroBatchMetrics) => (TOKEN_FRACTION_METRICS.has(name) ? p.responseTokens : p.pairs);
    const total = parts.reduce((a, p) => a + weight(p), 0);
    out[name] = total > 0 ? parts.reduce((a, p) => a + weight(p) * p.metrics[name], 0) / total : 0;
  }
  return out;
}

const responseLengths = (batch: EncodedBatch) => [...batch.chosen, ...batch.rejected].map((r) => r.length);

/** One AdamW step on `pairs` (the step's whole batch); returns its loss, gradient norm and loss metrics. */
export function preferenceStep(models: PreferenceStepModels, pairs: readonly PreferencePair[], s: PreferenceStepSettings): TrainStepResult & { metrics: Record<string, number> } {
  const o = s.objective;
  const B = pairs.length;
  const parts = microBatches(pairs, Math.min(s.microBatchSize ?? B, B)).map(({ from, pairs: p }) => ({ from, batch: encodeBatch(models.tokenizer, p) }));
  // The whole batch's padded response width (responseForward's Tr): the learned mask's dropout frame.
  const width = Math.max(1, ...parts.flatMap(({ batch }) => responseLengths(batch)));
  const needs = forwardNeeds(o);
  const loss = getPreferenceLoss(o.name);
  const params = lossParams(o);
  const measured: MicroBatchMetrics[] = [];
  // A generator: trainStepAccumulated takes each term once the previous one is done, so each
  // micro-batch's reference pass and constants are made here, off the gradient tape, and freed after it.
  function* terms(): Generator<() => tf.Scalar> {
    for (const { from, batch } of parts) {
      const n = batch.pairs.length;
      const reference = responseForward(models.reference, batch.seqs, batch.starts, needs);
      let constants: ReturnType<typeof sideConstants> | undefined;
      try {
        constants = sideConstants(o, batch, reference, s.files);
        const fixed = constants;
        yield () => {
          const policy = responseForward(models.policy, batch.seqs, batch.starts, { logits: needs.logits });
          // A learned mask is made here, under the tape, so that the head gets its gradient.
          const sides = models.maskHead ? learnedMasks(models.maskHead, reference, n, { step: s.step, frame: { rows: B, cols: width, from } }) : fixed;
          const out = loss(lossInputs(o, n, policy, reference, sides), params);
          measured.push({ metrics: out.metrics, pairs: n, responseTokens: responseLengths(batch).reduce((a, x) => a + x, 0) });
          // The loss is a mean over this micro-batch's n pairs: × n / B makes the terms sum to the batch's mean.
          return n === B ? out.loss : tf.mul(out.loss, n / B) as tf.Scalar;
        };
      } finally {
        tf.dispose([reference, constants] as unknown as tf.TensorContainer);
      }
    }
  }
  const r = trainStepAccumulated(models.trainable, models.optimizer, terms(), { lr: s.lr, maxGradNorm: s.maxGradNorm });
  return { ...r, metrics: combinedMetrics(measured) };
}
