/**
 * The in-process demo recipe on the built-in policy: SFT warm start, rollouts, policy updates,
 * greedy evaluation. These are the functions the compute activities call; they take explicit
 * objects (model, optimizer, rng, tokenizer) and plain parameters, never the experiment config.
 *
 * The RL update ({@link policyUpdate}) runs the policy objective named in its parameters, looked up
 * in the losses registry (ppo-clip = GRPO / DAPO / Dr.GRPO, forking-tokens, spo):
 *  - advantages come in per token: {@link outcomeAdvantages} broadcasts group-normalised outcome
 *    rewards (`groupAdvantages` from losses/), tasks/spo.ts builds SPO's segment advantages;
 *  - the loss runs over several epochs of minibatches of the same rollouts; `oldLogp` are the
 *    sampling log-probs recorded at rollout time (temperature-scaled, matching
 *    `sequenceLogProbs(..., { temperature })`);
 *  - groups whose advantages are all zero have, without a KL term, zero gradient; they are dropped
 *    before the forward pass (`skipZeroAdvantage`, default true) to save compute, like DAPO's
 *    dynamic-sampling filter (which also resamples; we do not).
 *
 * Batches: SFT and policy-update forward passes are packed (padding-free, `packed`, default true; see
 * models/packing.ts) and may be split into micro-batches (`microBatchSize`) whose gradients are
 * summed into one optimizer step. The loss normaliser is always the whole step's (token count,
 * sequence count, B·L_max; SPO: risky tokens), so micro-batching changes memory, not the update. Learning rates come
 * from models/lr-schedule.ts.
 */
import * as tf from '@tensorflow/tfjs';
import {
  getPolicyLoss, groupAdvantages, quantileLinear, whitening,
  type AdvantageMode, type AggregationMode, type GroupAdvantageOptions, type LossResult, type PolicyLossFn, type PolicyLossName, type PolicyLossParams,
} from '../losses/index.js';
import type { Rng } from '../common/rng.js';
import { generate } from '../models/generate.js';
import type { CausalLM } from '../models/causal-lm.js';
import { sequenceLogProbs } from '../models/logprobs.js';
import { lrAt, type LrSchedule } from '../models/lr-schedule.js';
import type { AdamW } from '../models/optimizer.js';
import { encodeResponse } from '../models/response-tokens.js';
import type { PromptInput, ResponseInput, TextTokenizer } from '../models/tokenizer.js';
import { trainStepAccumulated } from '../models/train-step.js';

/** A prompt (text or chat messages) with its SFT demonstration (text, or assistant messages after a chat prompt). */
export interface Demonstration {
  prompt: PromptInput;
  completion: ResponseInput;
}

export interface SftOptions {
  steps: number;
  batchSize: number;
  lr: number;
  rng: Rng;
  tokenizer: TextTokenizer;
  /** Default 1. */
  maxGradNorm?: number;
  /** Linear warmup steps (default 0) then constant lr; ignored when `schedule` is given. */
  warmupSteps?: number;
  /** Learning-rate schedule over this call's steps (default: linear warm-up of `warmupSteps`). */
  schedule?: LrSchedule;
  /** Packed (padding-free) forward passes (default true). */
  packed?: boolean;
  /** Rows per forward/backward pass; gradients of a step's micro-batches are summed (default batchSize). */
  microBatchSize?: number;
}

export interface SftResult {
  /** Token-mean cross-entropy of each step. */
  losses: number[];
}

/** Prompt tokens (as the tokenizer renders the prompt) and demonstration tokens (models/response-tokens.ts). */
function encodePair(tok: TextTokenizer, prompt: PromptInput, completion: ResponseInput): { seq: number[]; start: number } {
  const p = tok.encodePrompt(prompt);
  return { seq: [...p, ...encodeResponse(tok, prompt, p, completion)], start: p.length };
}

/**
 * Σ over `enc` of the demonstration tokens' negative log-likelihood, divided by `normaliser`
 * (default: their own count, i.e. the token mean).
 */
function nllSum(model: CausalLM, tok: TextTokenizer, enc: { seq: number[]; start: number }[], packed: boolean, normaliser?: number): tf.Scalar {
  const { logp, mask, entropies } = sequenceLogProbs(
    model,
    enc.map((e) => e.seq),
    enc.map((e) => e.start),
    { packed, padId: tok.pad },
  );
  entropies.dispose();
  const n = normaliser ?? enc.reduce((a, e) => a + e.seq.length - e.start, 0);
  const loss = tf.tidy(() => tf.div(tf.neg(tf.sum(tf.mul(logp, mask))), Math.max(n, 1)) as tf.Scalar);
  tf.dispose([logp, mask]);
  return loss;
}

/** Mean negative log-likelihood of the demonstrations (response tokens only, token mean). */
export function sftLoss(model: CausalLM, tok: TextTokenizer, batch: Demonstration[], opts: { packed?: boolean } = {}): tf.Scalar {
  return nllSum(
    model,
    tok,
    batch.map((d) => encodePair(tok, d.prompt, d.completion)),
    opts.packed ?? true,
  );
}

/** Supervised steps on uniformly drawn (with replacement) demonstrations. */
export function sftSteps(model: CausalLM, opt: AdamW, examples: Demonstration[], o: SftOptions): SftResult {
  if (examples.length === 0) throw new Error('sftSteps: no examples');
  const schedule: LrSchedule = o.schedule ?? (o.warmupSteps ? { kind: 'linear-warmup', warmupSteps: o.warmupSteps } : { kind: 'constant' });
  const mbs = Math.max(1, o.microBatchSize ?? o.batchSize);
  const packed = o.packed ?? true;
  const losses: number[] = [];
  for (let s = 0; s < o.steps; s++) {
    const batch = Array.from({ length: o.batchSize }, () => examples[o.rng.int(examples.length)]);
    const enc = batch.map((d) => encodePair(o.tokenizer, d.prompt, d.completion));
    // Token mean over the whole step, whatever the micro-batching.
    const tokens = enc.reduce((a, e) => a + e.seq.length - e.start, 0);
    const terms = chunks(enc, mbs).map((part) => () => nllSum(model, o.tokenizer, part, packed, tokens));
    const r = trainStepAccumulated(model, opt, terms, { lr: lrAt(schedule, o.lr, s), maxGradNorm: o.maxGradNorm ?? 1 });
    losses.push(r.loss);
  }
  return { losses };
}

function chunks<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

export interface RolloutOptions {
  groupSize: number;
  temperature: number;
  maxNewTokens: number;
  rng: Rng;
  tokenizer: TextTokenizer;
  /** Rows generated per batch (default: all at once). */
  batchSize?: number;
  /** Sampling filters and stop strings, as in `generate`. */
  topK?: number;
  topP?: number;
  stop?: string[];
}

export interface RolloutItem {
  /** Index of the prompt in the input list; items of one prompt are consecutive. */
  promptIndex: number;
  promptTokens: number[];
  /** Sampled tokens (ending in EOS when finished). */
  tokens: number[];
  logprobs: number[];
  entropies: number[];
  /** Decoded completion text (up to EOS). */
  completion: string;
  finished: boolean;
}

export interface RolloutBatch {
  groupSize: number;
  temperature: number;
  items: RolloutItem[];
}

/** `groupSize` samples for each prompt, consecutive per prompt. */
export function rollout(model: CausalLM, prompts: PromptInput[], o: RolloutOptions): RolloutBatch {
  // One stream per row, forked in row order: samples do not depend on how rows are batched.
  // A prompt is encoded once; its group's rows share (and never change) the token array.
  const rows = prompts.flatMap((p, i) => {
    const toks = o.tokenizer.encodePrompt(p);
    return Array.from({ length: o.groupSize }, (_, j) => ({ i, toks, rng: o.rng.fork(`row/${i}/${j}`) }));
  });
  const bs = o.batchSize ?? rows.length;
  const items: RolloutItem[] = [];
  for (let s = 0; s < rows.length; s += bs) {
    const chunk = rows.slice(s, s + bs);
    const gens = generate(
      model,
      chunk.map((r) => r.toks),
      {
        maxNewTokens: o.maxNewTokens, temperature: o.temperature, rng: chunk.map((r) => r.rng), eosId: o.tokenizer.stopIds, padId: o.tokenizer.pad,
        topK: o.topK, topP: o.topP, ...(o.stop?.length ? { stop: o.stop, decode: (ids: number[]) => o.tokenizer.decode(ids) } : {}),
      },
    );
    gens.forEach((g, k) =>
      items.push({
        promptIndex: chunk[k].i,
        promptTokens: chunk[k].toks,
        tokens: g.tokens,
        logprobs: g.logprobs,
        entropies: g.entropies,
        completion: o.tokenizer.decode(g.tokens),
        finished: g.finished,
      }),
    );
  }
  return { groupSize: o.groupSize, temperature: o.temperature, items };
}

/** Per-token advantages, one array per rollout item, aligned with its sampled tokens. */
export type TokenAdvantages = number[][];

/**
 * Group-relative outcome advantages (losses/advantages.ts) broadcast over every token of each
 * completion: what ppo-clip (GRPO / DAPO / Dr.GRPO) and forking-tokens train on.
 */
export function outcomeAdvantages(batch: RolloutBatch, rewards: number[], mode: AdvantageMode = 'grpo', opts: GroupAdvantageOptions = {}): TokenAdvantages {
  if (rewards.length !== batch.items.length) throw new Error(`outcomeAdvantages: ${rewards.length} rewards for ${batch.items.length} completions`);
  const adv = groupAdvantages(rewards, batch.groupSize, mode, opts);
  return batch.items.map((it, i) => new Array<number>(it.tokens.length).fill(adv[i]));
}

export interface PolicyUpdateParams {
  /** The policy objective, by its registry name (losses/registry.ts). */
  loss: PolicyLossName;
  /** Passes over the rollout batch (PPO epochs). */
  epochs: number;
  /** Sequences per optimizer step (default: the whole batch, one step per epoch). */
  miniBatchSize?: number;
  /** Sequences per forward/backward pass within a step; gradients are summed (default miniBatchSize). */
  microBatchSize?: number;
  /** Peak learning rate (the rate itself under the default constant schedule). */
  lr: number;
  /** Schedule evaluated at `stepOffset` + this call's step index (default constant). */
  schedule?: LrSchedule;
  /** Optimizer steps taken before this call, for the schedule (default 0). */
  stepOffset?: number;
  maxGradNorm: number;
  clipLow: number;
  clipHigh: number;
  aggregation: AggregationMode;
  /**
   * The rollout's completion budget (`rollout.maxNewTokens`): Dr.GRPO's constant L_max, the
   * `seq-mean-token-sum-norm` normaliser B · L_max (Dr.GRPO arXiv 2503.20783 §3.2; TRL divides by
   * `max_completion_length`). A constant, so the loss scale does not move with the longest
   * completion of each step.
   */
  maxCompletionLength: number;
  /** β_KL of the k3 term to `reference` (default 0). */
  klCoef?: number;
  /** The frozen reference policy; required when klCoef > 0. */
  reference?: CausalLM;
  /** forking-tokens: fraction ρ of tokens kept, and which end of the entropy ranking (default 0.2, top). */
  forking?: { rho: number; side: 'top' | 'bottom' };
  /** spo: the risky-token probability threshold (default 0.9) and whitening (default true). */
  spo?: { probThreshold: number; whiten: boolean };
  /**
   * Per token of each item (indexed like the batch): whether it enters the loss and its
   * denominators (SPO-tree: a segment shared by several leaves trains once, zero-advantage edges
   * not at all). Default: every token.
   */
  tokenKeep?: readonly (readonly boolean[])[];
  /** Drop groups whose advantages are all zero (default true; never when klCoef > 0). */
  skipZeroAdvantage?: boolean;
  /**
   * Items left out of the loss (TRL's mask_truncated_completions: completions cut off by the length
   * limit), indexed like the batch. Their rewards have already counted in their group's advantages.
   */
  masked?: readonly boolean[];
  /** Packed (padding-free) forward passes (default true). */
  packed?: boolean;
  /** Pad token id of the sequences (default the built-in tokenizer's, 0). */
  padId?: number;
  rng: Rng;
}

export interface PolicyUpdateResult {
  /** Mean over steps of the loss library's metrics, plus loss, gradNorm, lr, steps, and kept sequences. */
  metrics: Record<string, number>;
}

/**
 * Weight of a micro-batch's aggregated loss in the whole step's loss: its share of the step's
 * normaliser (token-mean: tokens; seq-mean-token-mean: non-empty sequences; seq-mean-token-sum-norm:
 * sequences, with L_max the run's constant maxCompletionLength). Σ weight_m · L_m = L_step.
 * `lens` count the tokens each sequence contributes to the denominator (SPO: its risky tokens).
 */
export function microBatchWeight(mode: AggregationMode, microLens: number[], stepLens: number[]): number {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const nonEmpty = (xs: number[]) => xs.filter((n) => n > 0).length;
  if (mode === 'token-mean') return sum(microLens) / Math.max(sum(stepLens), 1);
  if (mode === 'seq-mean-token-mean') return nonEmpty(microLens) / Math.max(nonEmpty(stepLens), 1);
  return microLens.length / Math.max(stepLens.length, 1);
}

/** Step metrics from micro-batch metrics: token counts add, pgLoss adds by weight, the rest are token-weighted means. */
function mergeMicroMetrics(parts: { metrics: Record<string, number>; weight: number }[]): Record<string, number> {
  if (parts.length === 1) return parts[0].metrics;
  const out: Record<string, number> = {};
  const tokens = parts.reduce((a, p) => a + (p.metrics.validTokens ?? 0), 0);
  for (const key of new Set(parts.flatMap((p) => Object.keys(p.metrics)))) {
    if (key === 'validTokens') out[key] = tokens;
    else if (key === 'pgLoss') out[key] = parts.reduce((a, p) => a + p.weight * (p.metrics[key] ?? 0), 0);
    else out[key] = parts.reduce((a, p) => a + (p.metrics.validTokens ?? 0) * (p.metrics[key] ?? 0), 0) / Math.max(tokens, 1);
  }
  return out;
}

/**
 * Log-probs of each listed item's tokens under `model` (no gradient), in chunks of `chunk` sequences:
 * the reference pass of the KL term (exported for bench/losses.ts, which runs it once, untimed).
 */
export function frozenLogProbs(model: CausalLM, items: RolloutItem[], chunk: number, o: { temperature: number; packed: boolean; padId?: number }): number[][] {
  const out: number[][] = [];
  for (const part of chunks(items, chunk)) {
    const lp = sequenceLogProbs(model, part.map((it) => [...it.promptTokens, ...it.tokens]), part.map((it) => it.promptTokens.length), o);
    const rows = lp.logp.arraySync();
    tf.dispose([lp.logp, lp.mask, lp.entropies]);
    part.forEach((it, k) => out.push(rows[k].slice(0, it.tokens.length)));
  }
  return out;
}

/**
 * SPO's whitening (losses/policy/spo.ts `whitening`) over the risky tokens of the whole update batch,
 * done here rather than in the loss because a micro-batch sees only part of the batch.
 */
function whitenOverRisky(adv: number[][], risky: boolean[][]): number[][] {
  // float32 values, as the loss sees them in its tensors
  const { mean, scale } = whitening(Float32Array.from(adv.flat()), risky.flat());
  return adv.map((row) => row.map((a) => (Math.fround(a) - mean) * scale));
}

/** One micro-batch of a policy-update step: its rollout items and their per-token constants. */
export interface PolicyTermRows {
  items: RolloutItem[];
  /** Per-token advantages of each item, aligned with its tokens. */
  advantages: number[][];
  /** Reference log-probs of each item's tokens (the KL term; `frozenLogProbs`). */
  refLogp?: number[][];
  /** Feed the rollout's per-token entropies (forking-tokens). */
  entropies?: boolean;
  /** Per token of each item: whether it enters the loss (SPO-tree: each edge once). Default all. */
  tokenKeep?: (readonly boolean[])[];
}

/**
 * One micro-batch's loss inside a policy-update step (run under the gradient tape of
 * `trainStepAccumulated`): the policy's forward pass over prompt + response (`sequenceLogProbs`),
 * the rollout's constants padded to the micro-batch's response length, and the objective.
 * Exported for bench/losses.ts, which times exactly this, forward and backward.
 */
export function policyLossTerm(
  model: CausalLM,
  lossFn: PolicyLossFn,
  rows: PolicyTermRows,
  params: PolicyLossParams,
  o: { temperature: number; packed: boolean; padId?: number },
): LossResult {
  const { items } = rows;
  const lp = sequenceLogProbs(
    model,
    items.map((it) => [...it.promptTokens, ...it.tokens]),
    items.map((it) => it.promptTokens.length),
    o,
  );
  const Tr = lp.logp.shape[1];
  const matrix = (row: (k: number) => number[]) => tf.tensor2d(items.map((_, k) => { const xs = row(k); return [...xs, ...Array(Tr - xs.length).fill(0)]; }), [items.length, Tr]);
  let mask = lp.mask;
  if (rows.tokenKeep) {
    const keep = matrix((k) => rows.tokenKeep![k].map(Number));
    mask = tf.mul(lp.mask, keep) as tf.Tensor2D;
    tf.dispose([lp.mask, keep]);
  }
  return lossFn(
    {
      logp: lp.logp, oldLogp: matrix((k) => items[k].logprobs), advantages: matrix((k) => rows.advantages[k]), mask,
      ...(rows.refLogp ? { refLogp: matrix((k) => rows.refLogp![k]) } : {}),
      ...(rows.entropies ? { entropies: matrix((k) => items[k].entropies) } : {}),
    },
    params,
  );
}

/**
 * One iteration's policy update with the objective named by `p.loss`: PPO-style epochs of
 * mini-batch steps over the rollout batch, each step optionally split into micro-batches.
 *
 * What each objective is fed, computed once over the whole batch kept for the update (so every
 * micro-batch and epoch sees the same values, and micro-batching changes memory, not the update):
 *  - forking-tokens: the rollout's per-token entropies, and the entropy threshold τ pooled over all
 *    kept tokens of the batch (the paper's batch-level quantile; TRL pools per micro-batch instead);
 *  - spo: the per-token segment advantages given in `advantages`, whitened over the batch's risky
 *    tokens (p_old < probThreshold) when `spo.whiten`; the loss's own whitening is switched off;
 *  - klCoef > 0: the reference policy's log-probs of every kept sequence (one no-gradient pass).
 */
export function policyUpdate(model: CausalLM, opt: AdamW, batch: RolloutBatch, advantages: TokenAdvantages, p: PolicyUpdateParams): PolicyUpdateResult {
  if (advantages.length !== batch.items.length || advantages.some((a, i) => a.length !== batch.items[i].tokens.length)) {
    throw new Error(`policyUpdate: advantages must give one value per token of each of the ${batch.items.length} completions`);
  }
  const lossFn = getPolicyLoss(p.loss);
  if (!(Number.isInteger(p.maxCompletionLength) && p.maxCompletionLength > 0)) throw new Error(`policyUpdate: maxCompletionLength must be a positive integer, got ${p.maxCompletionLength}`);
  const longest = Math.max(0, ...batch.items.map((it) => it.tokens.length));
  if (longest > p.maxCompletionLength) throw new Error(`policyUpdate: a completion has ${longest} tokens, more than maxCompletionLength ${p.maxCompletionLength}`);
  const klCoef = p.klCoef ?? 0;
  if (klCoef > 0 && !p.reference) throw new Error('policyUpdate: klCoef > 0 needs a reference model');
  const G = batch.groupSize;
  let keep = batch.items.map((_, i) => i).filter((i) => batch.items[i].tokens.length > 0 && !p.masked?.[i] && (p.tokenKeep?.[i]?.some(Boolean) ?? true));
  if ((p.skipZeroAdvantage ?? true) && klCoef === 0) {
    // A group whose every token advantage is 0 has no gradient without the KL term.
    const live = new Set(keep.filter((i) => advantages[i].some((a) => a !== 0)).map((i) => Math.floor(i / G)));
    keep = keep.filter((i) => live.has(Math.floor(i / G)));
  }
  const mbs = p.miniBatchSize ?? Math.max(1, keep.length);
  const micro = Math.max(1, Math.min(p.microBatchSize ?? mbs, mbs));
  const schedule = p.schedule ?? { kind: 'constant' };
  const temperature = batch.temperature > 0 ? batch.temperature : 1;
  const packed = p.packed ?? true;
  const items = batch.items;

  // Batch-wide inputs, indexed like batch.items (undefined for items not kept).
  const refLogp: (number[] | undefined)[] = [];
  if (klCoef > 0) {
    const lps = frozenLogProbs(p.reference!, keep.map((i) => items[i]), micro, { temperature, packed, padId: p.padId });
    keep.forEach((i, k) => { refLogp[i] = lps[k]; });
  }
  const forkingRho = p.forking?.rho ?? 0.2;
  const forkingSide = p.forking?.side ?? 'top';
  let entropyThreshold: number | undefined;
  if (p.loss === 'forking-tokens' && forkingRho < 1) {
    // float32, like the entropies tensor the loss compares with τ
    const pooled = Float32Array.from(keep.flatMap((i) => items[i].entropies));
    entropyThreshold = quantileLinear(Float64Array.from(pooled), forkingSide === 'top' ? 1 - forkingRho : forkingRho);
  }
  const probThreshold = p.spo?.probThreshold ?? 0.9;
  let tokenAdv = advantages;
  // Tokens each sequence adds to the loss's denominator: SPO divides by its risky tokens only.
  const kept = (i: number, t: number) => p.tokenKeep?.[i]?.[t] ?? true;
  const keptCount = items.map((it, i) => it.tokens.filter((_, t) => kept(i, t)).length);
  let denomLen = (i: number) => keptCount[i];
  if (p.loss === 'spo') {
    const logThreshold = Math.log(probThreshold);
    const risky = items.map((it, i) => it.logprobs.map((lp, t) => Math.fround(lp) < logThreshold && kept(i, t)));
    const riskyCount = risky.map((r) => r.filter(Boolean).length);
    denomLen = (i) => riskyCount[i];
    if (p.spo?.whiten ?? true) {
      const white = whitenOverRisky(keep.map((i) => advantages[i]), keep.map((i) => risky[i]));
      tokenAdv = [...advantages];
      keep.forEach((i, k) => { tokenAdv[i] = white[k]; });
    }
  }

  const sums: Record<string, number> = {};
  let steps = 0;
  for (let e = 0; e < p.epochs && keep.length > 0; e++) {
    const order = p.rng.shuffle([...keep]);
    for (let s = 0; s < order.length; s += mbs) {
      const idx = order.slice(s, s + mbs);
      const stepDenoms = idx.map(denomLen);
      const parts: { metrics: Record<string, number>; weight: number }[] = [];
      const terms = chunks(idx, micro).map((mIdx) => () => {
        const weight = microBatchWeight(p.aggregation, mIdx.map(denomLen), stepDenoms);
        const out = policyLossTerm(
          model,
          lossFn,
          {
            items: mIdx.map((i) => items[i]),
            advantages: mIdx.map((i) => tokenAdv[i]),
            ...(klCoef > 0 ? { refLogp: mIdx.map((i) => refLogp[i]!) } : {}),
            entropies: p.loss === 'forking-tokens',
            ...(p.tokenKeep ? { tokenKeep: mIdx.map((i) => p.tokenKeep![i]) } : {}),
          },
          {
            // maxLen: the run's constant L_max, so seq-mean-token-sum-norm divides every micro-batch
            // and every step alike.
            clipLow: p.clipLow, clipHigh: p.clipHigh, klCoef, aggregation: p.aggregation, maxLen: p.maxCompletionLength,
            forkingRho, forkingSide, entropyThreshold,
            spoProbThreshold: probThreshold, spoWhiten: false,
          },
          { temperature, packed, padId: p.padId },
        );
        parts.push({ metrics: out.metrics, weight });
        return weight === 1 ? out.loss : tf.tidy(() => tf.mul(out.loss, weight) as tf.Scalar);
      });
      const lr = lrAt(schedule, p.lr, (p.stepOffset ?? 0) + steps);
      const r = trainStepAccumulated(model, opt, terms, { lr, maxGradNorm: p.maxGradNorm });
      for (const [k, v] of Object.entries({ ...mergeMicroMetrics(parts), loss: r.loss, gradNorm: r.gradNorm, lr })) sums[k] = (sums[k] ?? 0) + v;
      steps++;
    }
  }
  const metrics: Record<string, number> = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(steps, 1)]));
  metrics.steps = steps;
  metrics.keptSequences = keep.length;
  return { metrics };
}
