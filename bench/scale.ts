/**
 * The scale curve: training tokens/s of the built-in transformer on the TensorFlow.js engine against
 * the same model, batch and step in PyTorch (bench/pytorch/train_step.py's GPT), from d=64 to d=512
 * and sequence 32 to 512, thread for thread, interleaved A/B in one run.
 *
 * Each side is a long-lived child process (bench/scale-worker.ts, bench/pytorch/scale_server.py)
 * with a fixed intra-op thread count. For every point, after one warm-up step on each side, PAIRS
 * pairs of repetitions alternate ours-then-PyTorch and PyTorch-then-ours, so that a change in the
 * machine's load falls on both sides alike; a repetition's figure is its median step. Each row
 * gives the median ratio with min-max over the pairs, both sides' tokens/s, the 1-minute load before
 * and after the point, and the CPU model. The kernel count of one training step (tf.profile) is
 * recorded per point: at small widths it, not FLOPs, bounds the step.
 *
 * Model at each point: 2 layers, head size 32 (nHeads = d/32), MLP 4d, vocabulary 256, tied head;
 * 2048 tokens a step (2048/seq sequences, the first token of each is the prompt, the rest the
 * response). Environment: CREDITFLOW_BENCH_POINTS ("64x32,512x512": d x seq), CREDITFLOW_BENCH_PAIRS
 * (default 3), CREDITFLOW_BENCH_THREADS ("1,2"), CREDITFLOW_BENCH_BACKEND (default tensorflow),
 * CREDITFLOW_BENCH_GEN (widths of the generation points, "64,512"; 64 rows, 16-token prompts,
 * CREDITFLOW_BENCH_GEN_TOKENS new tokens, default 32),
 * CREDITFLOW_TORCH_PYTHON (else the reference venv, else .venv-bench).
 *
 *   npm run bench -- scale
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { deriveRng } from '../common/rng.js';
import type { ModelConfig } from '../models/transformer.js';
import { LineProcess } from './line-process.js';
import type { BenchRow } from './row.js';
import { cpuModel, formatSpread, load1, spread } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TOKENS_PER_STEP = 2048;
const VOCAB = 256;
/** d x seq: the width sweep at seq 128, and both sequence extremes at the smallest and largest width. */
const DEFAULT_POINTS = '64x32,64x128,64x512,128x128,256x128,512x32,512x128,512x512';

export function torchPython(): string | null {
  const candidates = [
    process.env.CREDITFLOW_TORCH_PYTHON,
    `${ROOT}.creditflow/cache/reference-venv/bin/python`,
    `${ROOT}.venv-bench/bin/python`,
  ].filter(Boolean) as string[];
  return candidates.find((p) => existsSync(p)) ?? null;
}

export function scaleModel(d: number, seq: number): ModelConfig {
  return { vocabSize: VOCAB, dModel: d, nLayers: 2, nHeads: d / 32, dFf: 4 * d, maxSeqLen: seq };
}

/** TOKENS_PER_STEP tokens as sequences of length `seq`: BOS, then random tokens (the response). */
export function scaleBatch(seq: number, seed = 1): { seqs: number[][]; starts: number[] } {
  const rng = deriveRng(seed, 'scale-batch');
  const n = Math.max(1, Math.round(TOKENS_PER_STEP / seq));
  const seqs = Array.from({ length: n }, () => [1, ...Array.from({ length: seq - 1 }, () => 3 + rng.int(VOCAB - 3))]);
  return { seqs, starts: seqs.map(() => 1) };
}

interface TrainReply {
  ms: number[];
  tokens: number;
}

const median = (xs: number[]) => spread(xs).median;

/**
 * `pairs` A/B repetitions, alternating which side goes first (so a load change during a pair does not
 * always favour the same side); each side's tokens/s and the ratio of every pair.
 */
async function interleavedPairs(pairs: number, oursTokensPerSecond: () => Promise<number>, torchTokensPerSecond: () => Promise<number>) {
  const oursTps: number[] = [];
  const torchTps: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    let a: number, b: number;
    if (i % 2 === 0) {
      a = await oursTokensPerSecond();
      b = await torchTokensPerSecond();
    } else {
      b = await torchTokensPerSecond();
      a = await oursTokensPerSecond();
    }
    oursTps.push(a);
    torchTps.push(b);
    ratios.push(a / b);
  }
  return { oursTps, torchTps, ratios };
}

async function onePoint(ours: LineProcess, torch: LineProcess, d: number, seq: number, pairs: number, threads: number, backend: string): Promise<BenchRow[]> {
  const loadBefore = load1();
  const req = { op: 'train', model: scaleModel(d, seq), ...scaleBatch(seq) };
  // Calibration (also each side's warm-up): aim at ~0.5 s of steps per repetition.
  const first = await ours.request<TrainReply>({ ...req, steps: 1 });
  await torch.request<TrainReply>({ ...req, steps: 1 });
  const steps = Math.max(1, Math.min(10, Math.round(500 / first.ms[0])));
  const run = async (side: LineProcess) => {
    const r = await side.request<TrainReply>({ ...req, steps });
    return r.tokens / (median(r.ms) / 1000);
  };
  const { oursTps, torchTps, ratios } = await interleavedPairs(pairs, () => run(ours), () => run(torch));
  const kernels = await ours.request<{ kernels: number }>({ ...req, op: 'kernels', steps: 1 });
  const where = `load ${loadBefore}-${load1()}, ${cpuModel()}`;
  const label = `d=${d} seq=${seq}, ${threads} thread${threads > 1 ? 's' : ''} each`;
  const r = spread(ratios);
  return [
    {
      name: `${label}: ${backend} / PyTorch training tokens/s`,
      value: r.median,
      unit: 'x',
      note: `ratio ${formatSpread(r)}; ${backend} ${formatSpread(spread(oursTps))} tokens/s, PyTorch ${formatSpread(spread(torchTps))} tokens/s; ${steps} steps a repetition, ${req.seqs.length}x${seq} tokens; ${where}`,
    },
    { name: `${label}: ${backend} kernels per training step`, value: kernels.kernels, unit: 'kernels', note: 'tf.profile of one step (forward, backward, AdamW)' },
  ];
}

/**
 * Greedy generation with the KV cache: 64 rows, 16-token prompts, GEN_TOKENS new tokens, the same
 * model on both sides (PyTorch: a cache concatenated per step, as transformers' DynamicCache).
 */
async function oneGenerationPoint(ours: LineProcess, torch: LineProcess, d: number, pairs: number, threads: number, backend: string): Promise<BenchRow> {
  const loadBefore = load1();
  const NEW = Number(process.env.CREDITFLOW_BENCH_GEN_TOKENS ?? 32);
  const rng = deriveRng(2, 'scale-prompts');
  const prompts = Array.from({ length: 64 }, () => [1, ...Array.from({ length: 15 }, () => 3 + rng.int(VOCAB - 3))]);
  const req = { op: 'generate', model: scaleModel(d, 16 + NEW), prompts, new: NEW };
  const run = async (side: LineProcess) => {
    const r = await side.request<{ ms: number; tokens: number }>(req);
    return r.tokens / (r.ms / 1000);
  };
  const { oursTps, torchTps, ratios } = await interleavedPairs(pairs, () => run(ours), () => run(torch));
  const r = spread(ratios);
  return {
    name: `d=${d} generation, 64 rows x ${NEW} new tokens, ${threads} thread${threads > 1 ? 's' : ''} each: ${backend} / PyTorch tokens/s`,
    value: r.median,
    unit: 'x',
    note: `ratio ${formatSpread(r)}; ${backend} ${formatSpread(spread(oursTps))} tokens/s, PyTorch ${formatSpread(spread(torchTps))} tokens/s; greedy, KV cache, 16-token prompts; load ${loadBefore}-${load1()}, ${cpuModel()}`,
  };
}

export async function benchScale(): Promise<BenchRow[]> {
  const python = torchPython();
  if (!python) return [{ name: 'scale curve', value: NaN, unit: 'x', note: 'skipped: no Python with torch (CREDITFLOW_TORCH_PYTHON, the reference venv or .venv-bench)' }];
  const backend = process.env.CREDITFLOW_BENCH_BACKEND ?? 'tensorflow';
  const pairs = Number(process.env.CREDITFLOW_BENCH_PAIRS ?? 3);
  const points = (process.env.CREDITFLOW_BENCH_POINTS ?? DEFAULT_POINTS).split(',').filter(Boolean).map((p) => p.split('x').map(Number) as [number, number]);
  const threadCounts = (process.env.CREDITFLOW_BENCH_THREADS ?? '1,2').split(',').map(Number).filter((t) => t <= availableParallelism());
  const rows: BenchRow[] = [];
  for (const threads of threadCounts) {
    const env = { ...process.env, CREDITFLOW_BACKEND: backend, TF_NUM_INTRAOP_THREADS: String(threads), TF_NUM_INTEROP_THREADS: '1', TF_CPP_MIN_LOG_LEVEL: '2' };
    const ours = new LineProcess(`scale-worker (${backend}, ${threads}T)`, process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./scale-worker.ts', import.meta.url))], env);
    const torch = new LineProcess(`PyTorch (${threads}T)`, python, [fileURLToPath(new URL('./pytorch/scale_server.py', import.meta.url)), '--threads', String(threads)], {
      ...process.env, OMP_NUM_THREADS: String(threads),
    });
    try {
      const oi = await ours.request<{ backend: string; threads: string | null }>({ op: 'info' });
      const ti = await torch.request<{ torch: string; threads: number }>({ op: 'info' });
      rows.push({ name: `${threads}T sides`, value: threads, unit: 'threads', note: `ours: ${oi.backend}, TF_NUM_INTRAOP_THREADS=${oi.threads}; PyTorch ${ti.torch}, ${ti.threads} threads` });
      for (const [d, seq] of points) {
        rows.push(...(await onePoint(ours, torch, d, seq, pairs, threads, oi.backend)));
        const last = rows[rows.length - 2];
        console.log(`  ${last.name}: ${last.value.toPrecision(3)}  (${last.note})`);
      }
      for (const d of (process.env.CREDITFLOW_BENCH_GEN ?? '64,512').split(',').filter(Boolean).map(Number)) {
        rows.push(await oneGenerationPoint(ours, torch, d, pairs, threads, oi.backend));
        console.log(`  ${rows[rows.length - 1].name}: ${rows[rows.length - 1].value.toPrecision(3)}  (${rows[rows.length - 1].note})`);
      }
    } finally {
      ours.close();
      torch.close();
    }
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await benchScale()) console.log(`${r.name}: ${r.value.toPrecision(4)} ${r.unit}  (${r.note ?? ''})`);
}
