/**
 * Benchmark of the objectives in losses/: the cost of each objective on the same batch, as a ratio
 * to its family's baseline (plain GRPO for the policy family, plain DPO for the preference family),
 * measured side by side in one run: warm-up, then repetitions interleaved round-robin across
 * variants (so drift hits all alike; each round starts one variant later, so none always runs first),
 * median and minimum per variant. Two levels, two tables:
 *
 *  - loss level (`losses/<backend>/<family>/…`): only the loss, forward + backward, on precomputed
 *    per-token inputs (log-probs, entropies, KL, masks, scores, token rewards). The gradient is
 *    taken w.r.t. every input the policy produces, as in training: the policy log-probs (both
 *    responses of a pair), and SparsePO's per-token KL on both responses. SparsePO has three rows:
 *    the activation mask as the product runs it (a `stopGradient` output, no L1), the same constant
 *    mask with the L1 terms, and a learned mask (the mask head is trained through the loss: the
 *    gradient also reaches the masks). Every metric is computed and read, as in training (no
 *    `skipMetrics`). This isolates what the objective adds, which is small in absolute terms, so
 *    it is a large share of a loss as cheap as DPO's two fused row sums.
 *  - step level (`losses/<backend>/step-<shape>/<family>/…`): what a user pays per training step,
 *    through the product's own code: the policy model's forward pass over the sequences, the
 *    objective's per-token inputs that come from the policy, the loss, and the backward pass into
 *    every weight (`tf.variableGrads` over the model's variables, as `trainStep` does; the AdamW
 *    apply after it is the same for every objective and left out). Preference: the closure of
 *    `PreferenceSessions.update` (engine/preference-sessions.ts): `responseForward` of the policy
 *    (with the logits when the objective needs them), `lossInputs` (which computes SparsePO's
 *    KL(π_ref‖πθ) over the full vocabulary from the policy's logits and the reference's), the
 *    registered loss with `lossParams` of the schema's defaults. Policy: `policyLossTerm`
 *    (tasks/recipe.ts, the micro-batch term of `policyUpdate`): packed `sequenceLogProbs`, the
 *    rollout constants, the loss. Everything that comes from an extra model pass is computed once,
 *    untimed, with the product's functions: the reference pass (`responseForward` /
 *    `frozenLogProbs`), its activation mask and the other side constants (`sideConstants`), cDPO's
 *    scores from a positive and a negative model (`computeCriticalScores`), T-REG's contrastive
 *    token rewards (`computeTokenRewards`). Models are the demo policy (`createPolicy` on the schema
 *    defaults: d=64, 2 layers). Shapes: `demo` is the built-in task as the demo trains it (the first
 *    batch of generated pairs, default 64 per step; rollouts of 16 prompts × 8 sampled with
 *    `rollout`, up to 5 tokens); `long` has responses of 32-128 tokens (random characters; the
 *    behaviour log-probs and entropies from one no-gradient pass) with `maxSeqLen` 160 as in
 *    bench/engine.ts, 16 pairs and 32 sequences (4 prompts × 8), where per-token work weighs more.
 *    One more SparsePO row trains a learned mask head (`SparseMaskHead`, λ 0.001) on the
 *    reference's precomputed hidden states: a library composition, not a product option.
 *
 * Backends, each a separate interleaved run on its own copy of the batch (the previous backend is
 * restored): `wasm` first, because it is what users get without a native package (engine/backend.ts),
 * then `tensorflow` (tfjs-node; a row says so when it is not importable), then the pure-JS `cpu`
 * fallback the tests run on (loss level only: a demo step costs ~1.6 s there). The cost profiles
 * differ, so a ratio good on one is not evidence for another: on `cpu` an elementwise op on a
 * [32, 256] tensor costs ~100 µs (its binary kernels do per-element index arithmetic) while a
 * batched matMul row-dot costs ~20 µs; on `wasm` the elementwise op costs ~5-10 µs, the matMul
 * ~11 µs, and uploading a host-built tensor ~15 µs.
 *
 * Reading the loss-level ratios: at these sizes a loss costs roughly a fixed time per tfjs kernel
 * (~4-5 µs on wasm, taped or not), so a ratio is close to the ratio of kernel counts, though not
 * every kernel is alike (a `minimum` or a stack of [B, T] tensors costs several plain ones); at 16×
 * the tokens the per-token passes dominate instead. The step-level ratios are close to 1 because
 * the model's forward and backward passes are most of a step. The medians move with load on a
 * shared machine; the minima (in each note) are the steadier figure there.
 *
 * Alone: `node --import tsx bench/losses.ts [backend…] [policy|preference] [loss|step] [demo|long]`
 * prints the tables (default: wasm, tensorflow and cpu, both families, both levels, both shapes).
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { OBJECTIVES, PreferenceExperimentSchema, type PreferenceObjective } from '../configs/preference-schema.js';
import { ExperimentSchema } from '../configs/schema.js';
import { useBackend } from '../engine/backend.js';
import { batchIndices, encodeBatch, forwardNeeds, lossInputs, lossParams, sideConstants } from '../engine/preference-batch.js';
import { responseForward, rowsOf } from '../engine/preference-forward.js';
import { computeCriticalScores, computeTokenRewards } from '../engine/preference-scores.js';
import { createPolicy } from '../engine/policy.js';
import { deriveRng, type Rng } from '../common/rng.js';
import {
  criticalTokenDpo, dpo, forkingTokenPpo, getPolicyLoss, getPreferenceLoss, ipo, ppoClip, sparsePo, SparseMaskHead, spoPpo, stopGradient, tokenWeightedDpo, tReg,
} from '../losses/index.js';
import type { PolicyLossFn, PolicyLossInputs, PolicyLossName, PolicyLossParams, PreferenceLossFn, PreferenceLossInputs, PreferenceLossParams } from '../losses/index.js';
import { sequenceLogProbs } from '../models/logprobs.js';
import { Transformer } from '../models/transformer.js';
import { CharTokenizer } from '../models/tokenizer.js';
import { generatedRows } from '../tasks/data-set.js';
import { preferenceDataSet } from '../tasks/preference-data.js';
import type { PreferencePair } from '../tasks/preference-pairs.js';
import { frozenLogProbs, outcomeAdvantages, policyLossTerm, rollout, type PolicyTermRows, type RolloutItem } from '../tasks/recipe.js';
import type { BenchRow } from './row.js';

export type { BenchRow };

export type StepShape = 'demo' | 'long';
export type Level = 'loss' | 'step';
type Family = 'policy' | 'preference';

export interface BenchLossesOptions {
  /** Loss level: sequences (policy) and pairs (preference) per batch. Default 64 and 32. */
  policyBatch?: number;
  preferencePairs?: number;
  /** Loss level: padded response length. Default 256. */
  seqLen?: number;
  /** Loss level: warm-up rounds and interleaved samples. Default 5 and 31. */
  warmup?: number;
  reps?: number;
  /**
   * tfjs backends to measure, each in its own run. Default ['wasm', 'tensorflow', 'cpu']; one that
   * cannot be activated gets a row saying why. The step level is skipped on `cpu`.
   */
  backends?: string[];
  /** Families to measure. Default both. */
  families?: Family[];
  /** Levels to measure. Default both. */
  levels?: Level[];
  /** Step-level batch shapes. Default both. */
  stepShapes?: StepShape[];
  /**
   * Step level: interleaved samples per table. Default: as many as fit in 20 s at the warm-up
   * rounds' pace (3 rounds for demo, 2 for long), at least 7 and at most 41.
   */
  stepReps?: number;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function randTensor(r: () => number, b: number, t: number, lo: number, hi: number): tf.Tensor2D {
  const v = new Float32Array(b * t);
  for (let i = 0; i < v.length; i++) v[i] = lo + (hi - lo) * r();
  return tf.tensor2d(v, [b, t]);
}

/** Ragged responses: sequence i has a random length in [T/4, T]. */
function raggedMask(r: () => number, b: number, t: number): tf.Tensor2D {
  const v = new Float32Array(b * t);
  for (let i = 0; i < b; i++) {
    const len = Math.floor(t / 4 + r() * (t - t / 4));
    for (let j = 0; j < len; j++) v[i * t + j] = 1;
  }
  return tf.tensor2d(v, [b, t]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Case {
  name: string;
  /** One forward + backward; returns nothing, disposes everything it made. */
  step: () => void;
}

interface Timing {
  median: number;
  min: number;
}

/**
 * Median and minimum per-step time of each case; every sample times `inner` consecutive steps.
 * Each round starts one case later (rotation), so no case always runs first after the others.
 * `reps` is a count, or a time budget: as many rounds as fit in `ms` at the warm-up rounds' pace,
 * clamped to [min, max].
 */
function timeCases(cases: Case[], warmup: number, reps: number | { ms: number; min: number; max: number }, inner: number): { times: Map<string, Timing>; reps: number } {
  const t0 = performance.now();
  for (let i = 0; i < warmup; i++) for (const c of cases) for (let j = 0; j < inner; j++) c.step();
  const round = (performance.now() - t0) / Math.max(warmup, 1);
  const n = typeof reps === 'number' ? reps : Math.min(reps.max, Math.max(reps.min, Math.round(reps.ms / round)));
  const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(i + k) % cases.length];
      const t1 = performance.now();
      for (let j = 0; j < inner; j++) c.step();
      times.get(c.name)!.push((performance.now() - t1) / inner);
    }
  }
  // in the cases' order (the baseline first)
  return { times: new Map(cases.map((c) => [c.name, { median: median(times.get(c.name)!), min: Math.min(...times.get(c.name)!) }])), reps: n };
}

function policyCase(name: string, fn: PolicyLossFn, inputs: PolicyLossInputs, params: PolicyLossParams): Case {
  return {
    name,
    step: () =>
      tf.tidy(() => {
        const g = tf.grad((x: tf.Tensor) => fn({ ...inputs, logp: x as tf.Tensor2D }, params).loss)(inputs.logp);
        g.dataSync(); // force the backward pass to finish on any backend
      }),
  };
}

type SideName = 'chosen' | 'rejected';
type DiffField = 'logp' | 'kl' | 'sparseMaskReward';
/** What the policy (or a learned mask head) produces: gradients flow into these, as in training. */
const POLICY_FIELDS: Array<[SideName, DiffField]> = [
  ['chosen', 'logp'],
  ['rejected', 'logp'],
];

function preferenceCase(name: string, fn: PreferenceLossFn, inputs: PreferenceLossInputs, params: PreferenceLossParams, fields = POLICY_FIELDS): Case {
  const xs = fields.map(([side, field]) => inputs[side][field] as tf.Tensor2D);
  const withXs = (ts: tf.Tensor[]): PreferenceLossInputs => {
    const out: PreferenceLossInputs = { chosen: { ...inputs.chosen }, rejected: { ...inputs.rejected } };
    fields.forEach(([side, field], i) => {
      out[side][field] = ts[i] as tf.Tensor2D;
    });
    return out;
  };
  return {
    name,
    step: () =>
      tf.tidy(() => {
        const gs = tf.grads((...ts: tf.Tensor[]) => fn(withXs(ts), params).loss)(xs);
        gs.forEach((g) => g.dataSync()); // force the backward pass to finish on any backend
      }),
  };
}

export async function benchLosses(opts: BenchLossesOptions = {}): Promise<BenchRow[]> {
  const previous = tf.getBackend();
  const levels = opts.levels ?? ['loss', 'step'];
  const rows: BenchRow[] = [];
  try {
    for (const backend of opts.backends ?? ['wasm', 'tensorflow', 'cpu']) {
      const unavailable = await useBackend(backend).then(() => null, (err: Error) => err.message);
      if (unavailable !== null) {
        rows.push({ name: `losses/${backend}`, value: Number.NaN, unit: 'ms', note: `skipped: ${unavailable}` });
        continue;
      }
      if (levels.includes('loss')) rows.push(...benchOnBackend(backend, opts));
      if (levels.includes('step') && backend !== 'cpu') {
        for (const shape of opts.stepShapes ?? ['demo', 'long']) rows.push(...(await benchSteps(backend, shape, opts)));
      }
    }
  } finally {
    if (previous && previous !== tf.getBackend()) await tf.setBackend(previous);
  }
  return rows;
}

/**
 * Rows of one interleaved table: each case's median (ms) and its ratio to `baseline` (medians; the
 * minima's ratio in the note), and where `ownBase` names one, to a closer baseline.
 */
function tableRows(times: Map<string, Timing>, t: { prefix: string; suffix: string; baseline: string; level: string; about: string; reps: number; ownBase?: Record<string, string> }): BenchRow[] {
  const rows: BenchRow[] = [];
  const b = times.get(t.baseline)!;
  for (const [name, x] of times) {
    rows.push({ name: `${t.prefix}/${name}/${t.suffix}`, value: x.median, unit: 'ms', note: `${t.level}: median of ${t.reps} interleaved samples (min ${x.min.toFixed(2)} ms), ${t.about}` });
    if (name !== t.baseline) {
      rows.push({ name: `${t.prefix}/${name}/ratio`, value: x.median / b.median, unit: `× ${t.baseline}`, note: `${t.level}: ratio of medians; of minima ${(x.min / b.min).toFixed(3)}; target ≤ 1.15 for token-level variants` });
    }
    const own = t.ownBase?.[name] ? times.get(t.ownBase[name]) : undefined;
    if (own) rows.push({ name: `${t.prefix}/${name}/ratio-to-own-base`, value: x.median / own.median, unit: `× ${t.ownBase![name]}`, note: `${t.level}: same aggregation and clip range without the token-level part; of minima ${(x.min / own.min).toFixed(3)}` });
  }
  return rows;
}

const LOSS_LEVEL = 'loss only (precomputed per-token inputs)';

/** One interleaved run of every case on the active backend; the same seed gives the same batch on each. */
function benchOnBackend(backend: string, opts: BenchLossesOptions): BenchRow[] {
  const B = opts.policyBatch ?? 64;
  const P = opts.preferencePairs ?? 32;
  const T = opts.seqLen ?? 256;
  const warmup = opts.warmup ?? 5;
  const reps = opts.reps ?? 31;
  const families = opts.families ?? ['policy', 'preference'];
  const made: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    made.push(t);
    return t;
  };
  const rows: BenchRow[] = [];
  const emit = (times: Map<string, Timing>, baseline: string, family: string, shape: string, ownBase: Record<string, string> = {}) => {
    rows.push(...tableRows(times, { prefix: `losses/${backend}/${family}`, suffix: 'fwd+bwd', baseline, level: LOSS_LEVEL, about: `${shape}, ${backend} backend`, reps, ownBase }));
  };
  try {
    if (families.includes('policy')) benchPolicy();
    if (families.includes('preference')) benchPreference();
    return rows;
  } finally {
    made.forEach((t) => t.dispose());
  }

  function benchPolicy(): void {
    const r = lcg(2024);
    const oldLogp = keep(randTensor(r, B, T, -3, -0.01));
    const pol: PolicyLossInputs = {
      oldLogp,
      logp: keep(tf.add(oldLogp, randTensor(r, B, T, -0.3, 0.3)) as tf.Tensor2D),
      advantages: keep(randTensor(r, B, T, -1, 1)),
      mask: keep(raggedMask(r, B, T)),
      entropies: keep(randTensor(r, B, T, 0, 3)),
      refLogp: keep(randTensor(r, B, T, -3, -0.01)),
    };
    const grpo: PolicyLossParams = { clipLow: 0.2, clipHigh: 0.2, klCoef: 0, aggregation: 'seq-mean-token-mean' };
    const dapoP: PolicyLossParams = { clipLow: 0.2, clipHigh: 0.28, klCoef: 0, aggregation: 'token-mean' };
    const policyCases: Case[] = [
      policyCase('GRPO (ppo-clip, seq-mean)', ppoClip, pol, grpo),
      policyCase('DAPO (ppo-clip, token-mean, clip-higher)', ppoClip, pol, dapoP),
      policyCase('Dr.GRPO (ppo-clip, seq-mean-token-sum-norm)', ppoClip, pol, { ...grpo, aggregation: 'seq-mean-token-sum-norm' }),
      policyCase('GRPO + k3 KL (β 0.04)', ppoClip, pol, { ...grpo, klCoef: 0.04 }),
      policyCase('forking tokens (ρ 0.2, DAPO)', forkingTokenPpo, pol, { ...dapoP, forkingRho: 0.2 }),
      policyCase('PPO (token-mean, ε 0.2)', ppoClip, pol, { ...dapoP, clipHigh: 0.2 }),
      policyCase('SPO (prob mask 0.9, whitening)', spoPpo, pol, { ...dapoP, clipHigh: 0.2 }),
    ];
    const dapoName = 'DAPO (ppo-clip, token-mean, clip-higher)';
    const ownBase = { 'forking tokens (ρ 0.2, DAPO)': dapoName, 'SPO (prob mask 0.9, whitening)': 'PPO (token-mean, ε 0.2)' };
    emit(timeCases(policyCases, warmup, reps, 2).times, 'GRPO (ppo-clip, seq-mean)', 'policy', `[${B}, ${T}]`, ownBase);
  }

  function benchPreference(): void {
    const r = lcg(2025);
    const side = (extra: Record<string, tf.Tensor2D>) => ({
      logp: keep(randTensor(r, P, T, -3, -0.01)),
      refLogp: keep(randTensor(r, P, T, -3, -0.01)),
      mask: keep(raggedMask(r, P, T)),
      tokenWeights: undefined,
      ...extra,
    });
    const extras = () => ({
      criticalScores: keep(randTensor(r, P, T, 0, 1)),
      kl: keep(randTensor(r, P, T, 0, 0.1)),
      sparseMaskReward: keep(tf.relu(randTensor(r, P, T, -1, 1)) as tf.Tensor2D),
      tokenRewards: keep(randTensor(r, P, T, -0.5, 0.5)),
      weights: keep(randTensor(r, P, T, 0, 1)),
    });
    const ec = extras();
    const el = extras();
    const base: PreferenceLossInputs = { chosen: side({}), rejected: side({}) };
    const withAll: PreferenceLossInputs = {
      chosen: { ...base.chosen, criticalScores: ec.criticalScores, kl: ec.kl, sparseMaskReward: ec.sparseMaskReward, tokenRewards: ec.tokenRewards },
      rejected: { ...base.rejected, criticalScores: el.criticalScores, kl: el.kl, sparseMaskReward: el.sparseMaskReward, tokenRewards: el.tokenRewards },
    };
    // The activation mask is a stopGradient output (sparse-masks.ts), which the fused sums treat as a constant.
    const activation: PreferenceLossInputs = {
      chosen: { ...withAll.chosen, sparseMaskReward: keep(stopGradient(ec.sparseMaskReward)) },
      rejected: { ...withAll.rejected, sparseMaskReward: keep(stopGradient(el.sparseMaskReward)) },
    };
    const weighted: PreferenceLossInputs = { chosen: { ...base.chosen, tokenWeights: ec.weights }, rejected: { ...base.rejected, tokenWeights: el.weights } };
    const prefCases: Case[] = [
      preferenceCase('DPO', dpo, base, { beta: 0.1 }),
      preferenceCase('IPO', ipo, base, { beta: 0.1 }),
      preferenceCase('token-weighted DPO', tokenWeightedDpo, weighted, { beta: 0.1 }),
      preferenceCase('critical-token DPO', criticalTokenDpo, withAll, { beta: 0.1 }),
      // as the product runs it (lossParams: no L1), and with the L1 terms on the same constant mask
      preferenceCase('SparsePO (activation mask, KL grad)', sparsePo, activation, { beta: 0.1 }, [...POLICY_FIELDS, ['chosen', 'kl'], ['rejected', 'kl']]),
      preferenceCase('SparsePO (common mask, L1, KL grad)', sparsePo, activation, { beta: 0.1, sparseL1Reward: 0.001, sparseL1Kl: 0.001 }, [...POLICY_FIELDS, ['chosen', 'kl'], ['rejected', 'kl']]),
      preferenceCase('SparsePO (learned mask: grads to KL and mask)', sparsePo, withAll, { beta: 0.1, sparseL1Reward: 0.001, sparseL1Kl: 0.001 }, [
        ...POLICY_FIELDS,
        ['chosen', 'kl'],
        ['rejected', 'kl'],
        ['chosen', 'sparseMaskReward'],
        ['rejected', 'sparseMaskReward'],
      ]),
      preferenceCase('T-REG', tReg, withAll, { beta: 0.1, tregAlpha: 0.5 }),
    ];
    emit(timeCases(prefCases, warmup, reps, 20).times, 'DPO', 'preference', `${P} pairs × [${T}]`);
  }
}

// ------------------------------------------------------------------------------------------------
// Step level: the policy's forward pass, its per-token inputs, the loss and the backward pass
// ------------------------------------------------------------------------------------------------

const STEP_LEVEL = 'step (policy forward + per-token inputs + loss + backward into the weights; extra model passes precomputed)';

interface ShapeSpec {
  maxSeqLen: number;
  /** Pairs per preference step. */
  pairs: number;
  /** Prompts per policy step (× 8 rollouts each). */
  prompts: number;
  /** Response length range of the `long` shape (tokens, EOS included); none: the task's own. */
  responseLen?: [number, number];
  warmup: number;
}

const STEP_BUDGET = { ms: 20_000, min: 7, max: 41 };

const SHAPES: Record<StepShape, ShapeSpec> = {
  // The preference optimizer's default batch; 16 of the RL demo's 128 prompts per iteration.
  demo: { maxSeqLen: 16, pairs: 64, prompts: 16, warmup: 3 },
  long: { maxSeqLen: 160, pairs: 16, prompts: 4, responseLen: [32, 128], warmup: 2 },
};
const GROUP = 8;

/** The demo policy (schema defaults) with another `maxSeqLen` and seed, as a Transformer. */
async function demoModel(maxSeqLen: number, seed: number): Promise<Transformer> {
  const { model } = await createPolicy(ExperimentSchema.parse({ experiment: 'bench-losses', seed, data: { source: 'arithmetic' }, model: { maxSeqLen } }));
  if (!(model instanceof Transformer)) throw new Error('bench/losses: the demo policy is not the built-in transformer');
  return model;
}

/** A response of n tokens (n − 1 random characters, then EOS), as text. */
function randomText(tok: CharTokenizer, rng: Rng, [lo, hi]: [number, number]): string {
  const n = lo + rng.int(hi - lo + 1);
  return Array.from({ length: n - 1 }, () => tok.alphabet[rng.int(tok.alphabet.length)]).join('');
}

/** One step of gradients of `loss` w.r.t. `vars`, everything disposed (the kernels run synchronously on wasm and tensorflow). */
function gradStep(loss: () => tf.Scalar, vars: tf.Variable[]): void {
  const { value, grads } = tf.variableGrads(loss, vars);
  value.dataSync();
  value.dispose();
  tf.dispose(Object.values(grads));
}

async function benchSteps(backend: string, shapeName: StepShape, opts: BenchLossesOptions): Promise<BenchRow[]> {
  const shape = SHAPES[shapeName];
  const reps = opts.stepReps ?? STEP_BUDGET;
  const tok = new CharTokenizer();
  const policy = await demoModel(shape.maxSeqLen, 1);
  const reference = await demoModel(shape.maxSeqLen, 2);
  const owned: Array<{ dispose(): void }> = [policy, reference];
  const rows: BenchRow[] = [];
  const prefix = `losses/${backend}/step-${shapeName}`;
  const model = `d=${policy.config.dModel}, ${policy.config.nLayers} layers`;
  try {
    const families = opts.families ?? ['policy', 'preference'];
    if (families.includes('policy')) {
      const { cases, about } = policyStepCases();
      const t = timeCases(cases, shape.warmup, reps, 1);
      rows.push(...tableRows(t.times, { prefix: `${prefix}/policy`, suffix: 'step', baseline: 'GRPO (ppo-clip, seq-mean)', level: STEP_LEVEL, about: `${about}, ${model}, ${backend} backend`, reps: t.reps }));
    }
    if (families.includes('preference')) {
      const { cases, about } = await preferenceStepCases();
      const t = timeCases(cases, shape.warmup, reps, 1);
      rows.push(...tableRows(t.times, { prefix: `${prefix}/preference`, suffix: 'step', baseline: 'DPO', level: STEP_LEVEL, about: `${about}, ${model}, ${backend} backend`, reps: t.reps }));
    }
    return rows;
  } finally {
    owned.forEach((t) => t.dispose());
  }

  function policyStepCases(): { cases: Case[]; about: string } {
    const rng = deriveRng(2026, `bench-losses/${shapeName}`);
    const { data } = ExperimentSchema.parse({ experiment: 'bench-losses', data: { source: 'arithmetic' } });
    if (data.source !== 'arithmetic') throw new Error('unreachable');
    const prompts = generatedRows(data, 'train').slice(0, shape.prompts).map((e) => e.prompt as string);
    const items = shape.responseLen ? longRollouts(prompts, shape.responseLen, rng) : rollout(policy, prompts, { groupSize: GROUP, temperature: 1, maxNewTokens: 5, rng, tokenizer: tok }).items;
    const rewards = items.map(() => rng.int(2));
    const advantages = outcomeAdvantages({ groupSize: GROUP, temperature: 1, items }, rewards, 'grpo');
    const o = { temperature: 1, packed: true, padId: tok.pad };
    // the KL term's reference pass: once, untimed
    const refLogp = frozenLogProbs(reference, items, items.length, o);
    const maxLen = Math.max(...items.map((it) => it.tokens.length));
    const base: PolicyTermRows = { items, advantages };
    const grpo: PolicyLossParams = { clipLow: 0.2, clipHigh: 0.2, klCoef: 0, aggregation: 'seq-mean-token-mean', maxLen };
    const dapo: PolicyLossParams = { ...grpo, clipHigh: 0.28, aggregation: 'token-mean' };
    const vars = policy.variables();
    const term = (name: string, loss: PolicyLossName, rows: PolicyTermRows, params: PolicyLossParams): Case => {
      const fn = getPolicyLoss(loss);
      return { name, step: () => gradStep(() => policyLossTerm(policy, fn, rows, params, o).loss, vars) };
    };
    const cases = [
      term('GRPO (ppo-clip, seq-mean)', 'ppo-clip', base, grpo),
      term('DAPO (ppo-clip, token-mean, clip-higher)', 'ppo-clip', base, dapo),
      term('Dr.GRPO (ppo-clip, seq-mean-token-sum-norm)', 'ppo-clip', base, { ...grpo, aggregation: 'seq-mean-token-sum-norm' }),
      term('GRPO + k3 KL (β 0.04)', 'ppo-clip', { ...base, refLogp }, { ...grpo, klCoef: 0.04 }),
      // τ pooled over the batch inside the loss (policyUpdate pools it once per iteration: the same work at one step per iteration)
      term('forking tokens (ρ 0.2, DAPO)', 'forking-tokens', { ...base, entropies: true }, { ...dapo, forkingRho: 0.2 }),
      term('PPO (token-mean, ε 0.2)', 'ppo-clip', base, { ...dapo, clipHigh: 0.2 }),
      // policyUpdate whitens SPO's segment advantages once per iteration on the host and passes spoWhiten
      // false; here they are the outcome advantages as they are (their values do not change the cost)
      term('SPO (prob mask 0.9)', 'spo', base, { ...dapo, clipHigh: 0.2, spoProbThreshold: 0.9, spoWhiten: false }),
    ];
    const tokens = items.reduce((a, it) => a + it.tokens.length, 0);
    return { cases, about: `${items.length} sequences (${prompts.length} prompts × ${GROUP}), ${tokens} response tokens (max ${maxLen}), packed` };
  }

  /** `long` rollouts: random responses; the behaviour log-probs and entropies from one no-gradient pass of the policy. */
  function longRollouts(prompts: string[], len: [number, number], rng: Rng): RolloutItem[] {
    const items: RolloutItem[] = prompts.flatMap((prompt, i) =>
      Array.from({ length: GROUP }, () => {
        const completion = randomText(tok, rng, len);
        return { promptIndex: i, promptTokens: tok.encode(prompt), tokens: tok.encode(completion, { bos: false, eos: true }), logprobs: [], entropies: [], completion, finished: true };
      }),
    );
    const lp = sequenceLogProbs(policy, items.map((it) => [...it.promptTokens, ...it.tokens]), items.map((it) => it.promptTokens.length), { packed: true, padId: tok.pad });
    const [logp, ent] = [lp.logp.arraySync(), lp.entropies.arraySync()];
    tf.dispose([lp.logp, lp.mask, lp.entropies]);
    items.forEach((it, k) => {
      it.logprobs = logp[k].slice(0, it.tokens.length);
      it.entropies = ent[k].slice(0, it.tokens.length);
    });
    return items;
  }

  async function preferenceStepCases(): Promise<{ cases: Case[]; about: string }> {
    const config = PreferenceExperimentSchema.parse({ kind: 'preference', experiment: 'bench-losses', data: { source: 'arithmetic' }, model: { maxSeqLen: shape.maxSeqLen } });
    const train = preferenceDataSet(config, tok).train;
    let pairs: PreferencePair[] = batchIndices(train.length, config.seed, 1, shape.pairs).indices.map((i) => train[i]);
    if (shape.responseLen) {
      const rng = deriveRng(2027, 'bench-losses/long-pairs');
      pairs = pairs.map((p) => ({ ...p, chosen: randomText(tok, rng, shape.responseLen!), rejected: randomText(tok, rng, shape.responseLen!) }));
    }
    const batch = encodeBatch(tok, pairs);
    const B = pairs.length;
    const objectives: Array<[string, PreferenceObjective]> = [
      ['DPO', OBJECTIVES.dpo.parse({ name: 'dpo' })],
      ['IPO', OBJECTIVES.ipo.parse({ name: 'ipo' })],
      ['token-weighted DPO', OBJECTIVES['token-weighted-dpo'].parse({ name: 'token-weighted-dpo' })],
      ['critical-token DPO', OBJECTIVES['critical-token-dpo'].parse({ name: 'critical-token-dpo' })],
      ['SparsePO (activation mask, KL)', OBJECTIVES['sparse-po'].parse({ name: 'sparse-po' })],
      ['T-REG', OBJECTIVES['t-reg'].parse({ name: 't-reg' })],
    ];
    // The extra model passes, once, untimed: the reference (log-probs, logits, hidden states), cDPO's
    // positive and negative models, T-REG's evaluator (the reference) under the two prompts.
    const ref = responseForward(reference, batch.seqs, batch.starts, { logits: true, hidden: true, padId: tok.pad });
    owned.push({ dispose: () => tf.dispose(ref as unknown as tf.TensorContainer) });
    const [positive, negative] = [await demoModel(shape.maxSeqLen, 3), await demoModel(shape.maxSeqLen, 4)];
    const quiet = () => undefined;
    const cdpo = objectives[3][1] as Extract<PreferenceObjective, { name: 'critical-token-dpo' }>;
    const treg = objectives[5][1] as Extract<PreferenceObjective, { name: 't-reg' }>;
    const files = { criticalTokens: computeCriticalScores(positive, negative, tok, pairs, cdpo.betaCe, quiet), tokenRewards: computeTokenRewards(reference, tok, pairs, treg, quiet) };
    positive.dispose();
    negative.dispose();
    const vars = policy.variables();
    const cases: Case[] = objectives.map(([name, o]) => {
      const constants = sideConstants(o, batch, ref, files);
      owned.push({ dispose: () => tf.dispose(constants as unknown as tf.TensorContainer) });
      const needs = forwardNeeds(o);
      const loss = getPreferenceLoss(o.name);
      const params = lossParams(o);
      // PreferenceSessions.update's closure, as is
      return {
        name,
        step: () =>
          gradStep(() => {
            const pol = responseForward(policy, batch.seqs, batch.starts, { logits: needs.logits, padId: tok.pad });
            return loss(lossInputs(o, B, pol, ref, constants), params).loss;
          }, vars),
      };
    });
    // A learned mask head on the reference's hidden states (trained with the policy; not a product option).
    const sparse = objectives[4][1];
    const head = new SparseMaskHead({ numLayers: policy.config.nLayers, hiddenSize: policy.config.dModel, seed: 7 });
    const hidden = [0, B].map((from) => ref.hidden!.map((h) => rowsOf(h, from, B)));
    owned.push(head, { dispose: () => tf.dispose(hidden.flat()) });
    let headStep = 0;
    const learnedParams: PreferenceLossParams = { ...lossParams(sparse), sparseL1Reward: 0.001, sparseL1Kl: 0.001 };
    cases.push({
      name: 'SparsePO (learned mask head, KL)',
      step: () => {
        headStep++;
        gradStep(() => {
          const pol = responseForward(policy, batch.seqs, batch.starts, { logits: true, padId: tok.pad });
          const inputs = lossInputs(sparse, B, pol, ref, { chosen: {}, rejected: {} });
          inputs.chosen.sparseMaskReward = head.apply(hidden[0], { training: true, step: headStep });
          inputs.rejected.sparseMaskReward = head.apply(hidden[1], { training: true, step: headStep });
          return sparsePo(inputs, learnedParams).loss;
        }, [...vars, ...head.variables]);
      },
    });
    const lens = [...batch.chosen, ...batch.rejected].map((r) => r.length);
    return { cases, about: `${B} pairs, responses ${Math.min(...lens)}-${Math.max(...lens)} tokens, sequences up to ${Math.max(...batch.seqs.map((x) => x.length))}` };
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const pick = <T extends string>(values: readonly T[]) => args.filter((a): a is T => (values as readonly string[]).includes(a));
  const families = pick(['policy', 'preference'] as const);
  const levels = pick(['loss', 'step'] as const);
  const stepShapes = pick(['demo', 'long'] as const);
  const backends = args.filter((a) => ![...families, ...levels, ...stepShapes].includes(a as never));
  benchLosses({
    ...(backends.length ? { backends } : {}), ...(families.length ? { families } : {}),
    ...(levels.length ? { levels } : {}), ...(stepShapes.length ? { stepShapes } : {}),
  })
    .then((rows) => {
      const w = Math.max(...rows.map((r) => r.name.length));
      for (const r of rows) console.log(`${r.name.padEnd(w)}  ${r.value.toFixed(r.unit === 'ms' ? 2 : 3).padStart(9)} ${r.unit}${r.note ? `  (${r.note})` : ''}`);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
