/**
 * Benchmark of the objectives in losses/: forward + backward time of each objective on the same
 * batch, as a ratio to its family's baseline (plain GRPO for the policy family, plain DPO for the
 * preference family), measured side by side in one run: warm-up, then repetitions interleaved
 * round-robin across variants (so drift hits all alike), median per variant.
 *
 * Only the loss is timed: its per-token inputs (log-probs, entropies, KL, masks, scores, token
 * rewards) are precomputed, because producing them is the extra model passes the issue excludes.
 * The gradient is taken w.r.t. every input the policy produces, as in training: the policy
 * log-probs (both responses of a pair), and SparsePO's per-token KL on both responses; a second
 * SparsePO row also differentiates the masks (the learned mask head is trained through the loss;
 * the first row's constant mask is the activation-based one). Every metric is computed and read,
 * as in training (no `skipMetrics`).
 *
 * Backends, each a separate interleaved run on its own copy of the batch (the previous backend is
 * restored): `wasm` first, because it is what users get (engine/backend.ts picks it whenever no
 * native package is installed), then the pure-JS `cpu` fallback the tests run on. The two cost
 * profiles differ, so a ratio good on one is not evidence for the other: on `cpu` an elementwise
 * op on a [32, 256] tensor costs ~100 µs (its binary kernels do per-element index arithmetic)
 * while a batched matMul row-dot costs ~20 µs; on `wasm` the elementwise op costs ~5-10 µs, the
 * matMul ~11 µs, and uploading a host-built tensor ~15 µs.
 *
 * Reading the ratios: at these sizes a step costs roughly a fixed time per tfjs kernel (~4-5 µs on
 * wasm, taped or not), so a ratio is close to the ratio of kernel counts; at 16× the tokens the
 * per-token passes dominate instead. The medians move with load on a shared machine; the minima
 * (in each note) are the steadier figure there.
 *
 * Alone: `node --import tsx bench/losses.ts [backend…] [policy|preference]` prints a table
 * (default: wasm and cpu, both families).
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { criticalTokenDpo, dpo, forkingTokenPpo, ipo, ppoClip, sparsePo, spoPpo, tokenWeightedDpo, tReg } from '../losses/index.js';
import type { PolicyLossFn, PolicyLossInputs, PolicyLossParams, PreferenceLossFn, PreferenceLossInputs, PreferenceLossParams } from '../losses/index.js';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export interface BenchLossesOptions {
  /** Sequences (policy) and pairs (preference) per batch. Default 64 and 32. */
  policyBatch?: number;
  preferencePairs?: number;
  /** Padded response length. Default 256. */
  seqLen?: number;
  warmup?: number;
  reps?: number;
  /** tfjs backends to measure, each in its own run. Default ['wasm', 'cpu']. */
  backends?: string[];
  /** Families to measure. Default both. */
  families?: Array<'policy' | 'preference'>;
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

/** Median and minimum per-step time of each case; every sample times `inner` consecutive steps. */
function timeCases(cases: Case[], warmup: number, reps: number, inner: number): Map<string, Timing> {
  for (let i = 0; i < warmup; i++) for (const c of cases) for (let j = 0; j < inner; j++) c.step();
  const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let i = 0; i < reps; i++) {
    for (const c of cases) {
      const t0 = performance.now();
      for (let j = 0; j < inner; j++) c.step();
      times.get(c.name)!.push((performance.now() - t0) / inner);
    }
  }
  return new Map([...times].map(([k, v]) => [k, { median: median(v), min: Math.min(...v) }]));
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
  const rows: BenchRow[] = [];
  try {
    for (const backend of opts.backends ?? ['wasm', 'cpu']) {
      if (!(await tf.setBackend(backend))) throw new Error(`backend '${backend}' did not initialise`);
      await tf.ready();
      rows.push(...benchOnBackend(backend, opts));
    }
  } finally {
    if (previous && previous !== tf.getBackend()) await tf.setBackend(previous);
  }
  return rows;
}

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
    const b = times.get(baseline)!;
    for (const [name, t] of times) {
      rows.push({ name: `losses/${backend}/${family}/${name}/fwd+bwd`, value: t.median, unit: 'ms', note: `median of ${reps} interleaved samples (min ${t.min.toFixed(2)} ms), ${shape}, ${backend} backend` });
      if (name !== baseline) {
        rows.push({ name: `losses/${backend}/${family}/${name}/ratio`, value: t.median / b.median, unit: `× ${baseline}`, note: `ratio of medians; of minima ${(t.min / b.min).toFixed(3)}; target ≤ 1.15 for token-level variants` });
      }
      const own = ownBase[name] ? times.get(ownBase[name]) : undefined;
      if (own) rows.push({ name: `losses/${backend}/${family}/${name}/ratio-to-own-base`, value: t.median / own.median, unit: `× ${ownBase[name]}`, note: `same aggregation and clip range without the token-level part; of minima ${(t.min / own.min).toFixed(3)}` });
    }
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
    emit(timeCases(policyCases, warmup, reps, 2), 'GRPO (ppo-clip, seq-mean)', 'policy', `[${B}, ${T}]`, ownBase);
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
    const weighted: PreferenceLossInputs = { chosen: { ...base.chosen, tokenWeights: ec.weights }, rejected: { ...base.rejected, tokenWeights: el.weights } };
    const prefCases: Case[] = [
      preferenceCase('DPO', dpo, base, { beta: 0.1 }),
      preferenceCase('IPO', ipo, base, { beta: 0.1 }),
      preferenceCase('token-weighted DPO', tokenWeightedDpo, weighted, { beta: 0.1 }),
      preferenceCase('critical-token DPO', criticalTokenDpo, withAll, { beta: 0.1 }),
      preferenceCase('SparsePO (common mask, L1, KL grad)', sparsePo, withAll, { beta: 0.1, sparseL1Reward: 0.001, sparseL1Kl: 0.001 }, [...POLICY_FIELDS, ['chosen', 'kl'], ['rejected', 'kl']]),
      preferenceCase('SparsePO (learned mask: grads to KL and mask)', sparsePo, withAll, { beta: 0.1, sparseL1Reward: 0.001, sparseL1Kl: 0.001 }, [
        ...POLICY_FIELDS,
        ['chosen', 'kl'],
        ['rejected', 'kl'],
        ['chosen', 'sparseMaskReward'],
        ['rejected', 'sparseMaskReward'],
      ]),
      preferenceCase('T-REG', tReg, withAll, { beta: 0.1, tregAlpha: 0.5 }),
    ];
    emit(timeCases(prefCases, warmup, reps, 20), 'DPO', 'preference', `${P} pairs × [${T}]`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const families = args.filter((a): a is 'policy' | 'preference' => a === 'policy' || a === 'preference');
  const backends = args.filter((a) => a !== 'policy' && a !== 'preference');
  benchLosses({ ...(backends.length ? { backends } : {}), ...(families.length ? { families } : {}) })
    .then((rows) => {
      const w = Math.max(...rows.map((r) => r.name.length));
      for (const r of rows) console.log(`${r.name.padEnd(w)}  ${r.value.toFixed(r.unit === 'ms' ? 2 : 3).padStart(9)} ${r.unit}${r.note ? `  (${r.note})` : ''}`);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
