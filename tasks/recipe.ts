/**
 * The in-process demo recipe on the built-in policy: SFT warm start, GRPO rollouts and updates,
 * greedy evaluation. These are the functions the compute activities call; they take explicit
 * objects (model, optimizer, rng, tokenizer) and plain parameters, never the experiment config.
 *
 * GRPO here (arXiv 2402.03300), as run by {@link grpoUpdate}:
 *  - advantages: group-normalised outcome rewards, `groupAdvantages(r, G, 'grpo')` from losses/;
 *  - loss: `ppoClip` from losses/ over several epochs of minibatches of the same rollouts;
 *    `oldLogp` are the sampling log-probs recorded at rollout time (temperature-scaled, matching
 *    `sequenceLogProbs(..., { temperature })`);
 *  - groups whose rewards are all equal have zero advantage and, without a KL term, zero gradient;
 *    they are dropped before the forward pass (`skipZeroAdvantage`, default true) to save compute,
 *    like DAPO's dynamic-sampling filter (which also resamples; we do not).
 */
import * as tf from '@tensorflow/tfjs';
import { groupAdvantages, ppoClip, type AggregationMode } from '../losses/index.js';
import type { Rng } from '../engine/rng.js';
import { generate } from '../models/generate.js';
import { sequenceLogProbs } from '../models/logprobs.js';
import type { AdamW } from '../models/optimizer.js';
import type { CharTokenizer } from '../models/tokenizer.js';
import { trainStep } from '../models/train-step.js';
import type { Transformer } from '../models/transformer.js';
import { isCorrect } from './arithmetic.js';

/** A prompt with its SFT demonstration. */
export interface Demonstration {
  prompt: string;
  completion: string;
}

export interface SftOptions {
  steps: number;
  batchSize: number;
  lr: number;
  rng: Rng;
  tokenizer: CharTokenizer;
  /** Default 1. */
  maxGradNorm?: number;
  /** Linear warmup steps (default 0) then constant lr. */
  warmupSteps?: number;
}

export interface SftResult {
  /** Token-mean cross-entropy of each step. */
  losses: number[];
}

/** Prompt tokens (BOS + text) and demonstration tokens (text + EOS). */
function encodePair(tok: CharTokenizer, prompt: string, completion: string): { seq: number[]; start: number } {
  const p = tok.encode(prompt);
  return { seq: [...p, ...tok.encode(completion, { bos: false, eos: true })], start: p.length };
}

/** Mean negative log-likelihood of the demonstrations (response tokens only, token mean). */
export function sftLoss(model: Transformer, tok: CharTokenizer, batch: Demonstration[]): tf.Scalar {
  const enc = batch.map((d) => encodePair(tok, d.prompt, d.completion));
  const { logp, mask, entropies } = sequenceLogProbs(
    model,
    enc.map((e) => e.seq),
    enc.map((e) => e.start),
  );
  entropies.dispose();
  const loss = tf.div(tf.neg(tf.sum(tf.mul(logp, mask))), tf.sum(mask)) as tf.Scalar;
  return loss;
}

/** Supervised steps on uniformly drawn (with replacement) demonstrations. */
export function sftSteps(model: Transformer, opt: AdamW, examples: Demonstration[], o: SftOptions): SftResult {
  if (examples.length === 0) throw new Error('sftSteps: no examples');
  const losses: number[] = [];
  for (let s = 0; s < o.steps; s++) {
    const batch = Array.from({ length: o.batchSize }, () => examples[o.rng.int(examples.length)]);
    const lr = o.warmupSteps && s < o.warmupSteps ? (o.lr * (s + 1)) / o.warmupSteps : o.lr;
    const r = trainStep(model, opt, () => sftLoss(model, o.tokenizer, batch), { lr, maxGradNorm: o.maxGradNorm ?? 1 });
    losses.push(r.loss);
  }
  return { losses };
}

export interface RolloutOptions {
  groupSize: number;
  temperature: number;
  maxNewTokens: number;
  rng: Rng;
  tokenizer: CharTokenizer;
  /** Rows generated per batch (default: all at once). */
  batchSize?: number;
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
export function rollout(model: Transformer, prompts: string[], o: RolloutOptions): RolloutBatch {
  // One stream per row, forked in row order: samples do not depend on how rows are batched.
  const rows = prompts.flatMap((p, i) => Array.from({ length: o.groupSize }, (_, j) => ({ i, toks: o.tokenizer.encode(p), rng: o.rng.fork(`row/${i}/${j}`) })));
  const bs = o.batchSize ?? rows.length;
  const items: RolloutItem[] = [];
  for (let s = 0; s < rows.length; s += bs) {
    const chunk = rows.slice(s, s + bs);
    const gens = generate(
      model,
      chunk.map((r) => r.toks),
      { maxNewTokens: o.maxNewTokens, temperature: o.temperature, rng: chunk.map((r) => r.rng) },
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

export interface EvalResult {
  accuracy: number;
  correct: number;
  total: number;
}

/** Greedy-decoding exact-answer accuracy. */
export function evaluateAccuracy(
  model: Transformer,
  examples: { prompt: string; answer: string }[],
  o: { maxNewTokens: number; tokenizer: CharTokenizer; batchSize?: number },
): EvalResult {
  const bs = o.batchSize ?? 256;
  let correct = 0;
  for (let s = 0; s < examples.length; s += bs) {
    const chunk = examples.slice(s, s + bs);
    const gens = generate(
      model,
      chunk.map((e) => o.tokenizer.encode(e.prompt)),
      { maxNewTokens: o.maxNewTokens, temperature: 0 },
    );
    gens.forEach((g, k) => {
      if (isCorrect(o.tokenizer.decode(g.tokens), chunk[k].answer)) correct++;
    });
  }
  return { accuracy: examples.length ? correct / examples.length : 0, correct, total: examples.length };
}

export interface GrpoParams {
  /** Passes over the rollout batch (PPO epochs). */
  epochs: number;
  /** Sequences per optimizer step (default: the whole batch, one step per epoch). */
  miniBatchSize?: number;
  lr: number;
  maxGradNorm: number;
  clipLow: number;
  clipHigh: number;
  aggregation: AggregationMode;
  /** Drop groups with all-equal rewards before the update (default true; see the file header). */
  skipZeroAdvantage?: boolean;
  rng: Rng;
}

export interface GrpoResult {
  /** Mean over steps of the loss library's metrics, plus loss, gradNorm, steps, and kept sequences. */
  metrics: Record<string, number>;
}

/** Group-normalised advantages and PPO-clip epochs over one rollout batch. */
export function grpoUpdate(model: Transformer, opt: AdamW, batch: RolloutBatch, rewards: number[], p: GrpoParams): GrpoResult {
  if (rewards.length !== batch.items.length) throw new Error(`grpoUpdate: ${rewards.length} rewards for ${batch.items.length} completions`);
  const adv = groupAdvantages(rewards, batch.groupSize, 'grpo', { std: 'unbiased' });
  let keep = batch.items.map((_, i) => i).filter((i) => batch.items[i].tokens.length > 0);
  if (p.skipZeroAdvantage ?? true) {
    const G = batch.groupSize;
    keep = keep.filter((i) => adv.slice(Math.floor(i / G) * G, Math.floor(i / G) * G + G).some((a) => a !== 0));
  }
  const sums: Record<string, number> = {};
  let steps = 0;
  const mbs = p.miniBatchSize ?? Math.max(1, keep.length);
  for (let e = 0; e < p.epochs && keep.length > 0; e++) {
    const order = p.rng.shuffle([...keep]);
    for (let s = 0; s < order.length; s += mbs) {
      const idx = order.slice(s, s + mbs);
      let metrics: Record<string, number> = {};
      const r = trainStep(
        model,
        opt,
        () => {
          const items = idx.map((i) => batch.items[i]);
          const lp = sequenceLogProbs(
            model,
            items.map((it) => [...it.promptTokens, ...it.tokens]),
            items.map((it) => it.promptTokens.length),
            { temperature: batch.temperature > 0 ? batch.temperature : 1 },
          );
          const Tr = lp.logp.shape[1];
          const padRow = (xs: number[]) => [...xs, ...Array(Tr - xs.length).fill(0)];
          const oldLogp = tf.tensor2d(items.map((it) => padRow(it.logprobs)), [items.length, Tr]);
          const advantages = tf.tensor2d(
            idx.map((i) => Array(Tr).fill(adv[i])),
            [items.length, Tr],
          );
          const out = ppoClip(
            { logp: lp.logp, oldLogp, advantages, mask: lp.mask },
            { clipLow: p.clipLow, clipHigh: p.clipHigh, klCoef: 0, aggregation: p.aggregation },
          );
          metrics = out.metrics;
          return out.loss;
        },
        { lr: p.lr, maxGradNorm: p.maxGradNorm },
      );
      for (const [k, v] of Object.entries({ ...metrics, loss: r.loss, gradNorm: r.gradNorm })) sums[k] = (sums[k] ?? 0) + v;
      steps++;
    }
  }
  const metrics: Record<string, number> = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(steps, 1)]));
  metrics.steps = steps;
  metrics.keptSequences = keep.length;
  metrics.meanReward = rewards.reduce((a, b) => a + b, 0) / Math.max(rewards.length, 1);
  return { metrics };
}
