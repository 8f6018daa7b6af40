/**
 * The CUDA backend (`npm run gpu`) beside PyTorch CUDA on the same GPU, models and batch shapes:
 *
 *   - the device (name, memory, compute capability, driver);
 *   - train tokens/s: forward + backward + AdamW + clip, token-mean NLL after an 8-token prompt,
 *     through models/train-step.ts and models/logprobs.ts as the product runs them;
 *   - generation tokens/s: greedy, KV cache, every row generating exactly `new_tokens`;
 *   on SmolLM2-135M (the HF folder issue 17's `npm run reference-models` writes to
 *   .creditflow/cache/models/smollm2-135m-instruct; CREDITFLOW_SMOLLM2_DIR points elsewhere) and on a
 *   random-init Llama of ~1.1B parameters whose float32 training state (weights, gradients, AdamW
 *   moments: ~18 GB) plus activations fill most of an 80 GB card;
 *   - ours / PyTorch ratios.
 * float32 on both sides with TF32 off (engine/native-env.ts; PyTorch's default for matmul).
 * PyTorch runs first, in its own process (bench/pytorch/gpu_llama.py; CREDITFLOW_TORCH_PYTHON, else
 * .venv-bench/bin/python, else python3), so that its memory is free before TensorFlow's allocator,
 * which never gives memory back, starts. The orchestration share of an RL iteration on the GPU is the
 * orchestration suite run with CREDITFLOW_BACKEND=node-gpu (scripts/gpu/on-gpu.sh does both).
 * Without a usable GPU every row is NaN with the reason, in well under a second.
 *
 *   node --import tsx bench/gpu.ts    (or: npm run bench -- gpu)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../engine/backend.js';
import { readGpuFacts } from '../engine/gpu-devices.js';
import { GPU_ENV_DEFAULTS } from '../engine/native-env.js';
import { assessGpu } from '../scripts/gpu/preflight.js';
import { generate } from '../models/generate.js';
import { loadHfCheckpoint, LlamaModel, llamaParamShapes, parseLlamaConfig } from '../models/llama/index.js';
import { sequenceLogProbs } from '../models/logprobs.js';
import { AdamW } from '../models/optimizer.js';
import { trainStep } from '../models/train-step.js';
import type { BenchRow } from './row.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SMOLLM2_DIR = process.env.CREDITFLOW_SMOLLM2_DIR ?? join(ROOT, '.creditflow', 'cache', 'models', 'smollm2-135m-instruct');

export interface GpuJob {
  name: string;
  folder?: string;
  /** An HF config.json, for a random-init model. */
  config?: Record<string, unknown>;
  train: { batch: number; seq_len: number; start: number; steps: number };
  generate: { batch: number; prompt_len: number; new_tokens: number };
}

/** 16 layers of d=2048 (16 heads of 128, 8 KV heads), MLP 8192, vocab 32000, untied: 1.14B parameters. */
const LARGE_CONFIG = {
  model_type: 'llama', vocab_size: 32000, hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16,
  num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, max_position_embeddings: 2048, rms_norm_eps: 1e-5,
  rope_theta: 10000, tie_word_embeddings: false, bos_token_id: 1, eos_token_id: 2,
};

export const GPU_JOBS: GpuJob[] = [
  {
    name: 'SmolLM2-135M', folder: SMOLLM2_DIR,
    train: { batch: 16, seq_len: 512, start: 8, steps: 3 }, generate: { batch: 32, prompt_len: 64, new_tokens: 128 },
  },
  {
    name: 'Llama 1.1B (random init)', config: LARGE_CONFIG,
    train: { batch: 4, seq_len: 1024, start: 8, steps: 3 }, generate: { batch: 32, prompt_len: 64, new_tokens: 128 },
  },
];

interface Measured { trainTps?: number; trainMs?: number; genTps?: number; genMs?: number; params?: number; error?: string }

function torchPython(): string {
  if (process.env.CREDITFLOW_TORCH_PYTHON) return process.env.CREDITFLOW_TORCH_PYTHON;
  const venv = join(ROOT, '.venv-bench', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

/** All jobs in one PyTorch process (one import of torch + transformers). */
function runTorch(jobs: GpuJob[]): Map<string, Measured & { torch?: string }> {
  const out = new Map<string, Measured & { torch?: string }>();
  const dir = mkdtempSync(join(tmpdir(), 'creditflow-torch-gpu-'));
  try {
    writeFileSync(join(dir, 'jobs.json'), JSON.stringify(jobs));
    const r = spawnSync(torchPython(), [fileURLToPath(new URL('./pytorch/gpu_llama.py', import.meta.url)), join(dir, 'jobs.json')], {
      encoding: 'utf8', timeout: 600_000, env: { ...GPU_ENV_DEFAULTS, ...process.env },
    });
    const lines = (r.stdout ?? '').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const failed = r.status !== 0 ? `gpu_llama.py: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` : lines.find((l) => l.error)?.error;
    for (const job of jobs) {
      const l = lines.find((x) => x.name === job.name);
      if (!l) out.set(job.name, { error: failed ?? 'no result' });
      else out.set(job.name, { trainTps: l.train_tokens_per_s, trainMs: l.train_ms, genTps: l.generate_tokens_per_s, genMs: l.generate_ms, params: l.params, torch: l.torch, error: l.train_error ?? l.generate_error });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/** Random weights without a per-element JS Gaussian (1.1B of them): xorshift uniform in ±0.02·√3 (std 0.02). */
function randomLlama(raw: Record<string, unknown>, seed = 7): LlamaModel {
  const config = parseLlamaConfig(raw, 'bench large model');
  let s = seed >>> 0 || 1;
  const a = 0.02 * Math.sqrt(3);
  const weights = new Map<string, Float32Array>();
  for (const [name, shape] of llamaParamShapes(config)) {
    const data = new Float32Array(shape.reduce((x, y) => x * y, 1));
    if (name.endsWith('norm.weight')) data.fill(1);
    else if (!name.endsWith('.bias')) {
      for (let i = 0; i < data.length; i++) {
        s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
        data[i] = ((s >>> 0) / 4294967296 * 2 - 1) * a;
      }
    }
    weights.set(name, data);
  }
  return new LlamaModel(config, weights);
}

const randomIds = (rows: number, len: number, vocab: number, seed: number) => {
  let s = seed;
  return Array.from({ length: rows }, () => Array.from({ length: len }, () => 3 + ((s = (s * 1103515245 + 12345) >>> 0) % (vocab - 3))));
};

export async function runOurs(job: GpuJob): Promise<Measured> {
  let model: LlamaModel | undefined;
  try {
    model = job.folder ? (await loadHfCheckpoint(job.folder)).model : randomLlama(job.config!);
    const V = model.config.vocabSize;
    const { batch, seq_len, start, steps } = job.train;
    const seqs = randomIds(batch, seq_len, V, 1);
    const starts = seqs.map(() => start);
    const respTokens = batch * (seq_len - start);
    const opt = new AdamW(model.params, { lr: 1e-4 });
    const m = model;
    const step = () => trainStep(m, opt, () => {
      const o = sequenceLogProbs(m, seqs, starts, { packed: false });
      return tf.div(tf.neg(tf.sum(tf.mul(o.logp, o.mask))), respTokens) as tf.Scalar;
    }, { lr: 1e-4, maxGradNorm: 1 });
    step();
    let t0 = performance.now();
    for (let i = 0; i < steps; i++) step();
    const trainMs = (performance.now() - t0) / steps;
    opt.dispose();
    const g = job.generate;
    const prompts = randomIds(g.batch, g.prompt_len, V, 2);
    generate(m, prompts, { maxNewTokens: 4, temperature: 0, eosId: -1 });
    t0 = performance.now();
    const out = generate(m, prompts, { maxNewTokens: g.new_tokens, temperature: 0, eosId: -1, useCache: true });
    const genMs = performance.now() - t0;
    if (out.some((o) => o.tokens.length !== g.new_tokens)) throw new Error('generation stopped early');
    return { trainTps: (batch * seq_len) / (trainMs / 1000), trainMs, genTps: (g.batch * g.new_tokens) / (genMs / 1000), genMs, params: m.numParams() };
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0].slice(0, 300) };
  } finally {
    model?.dispose();
  }
}

export async function benchGpu(): Promise<BenchRow[]> {
  const verdict = assessGpu(readGpuFacts());
  const device = verdict.device ? `${verdict.device.name}, ${verdict.device.memoryMiB} MiB, compute capability ${verdict.device.computeCapability}, driver ${verdict.driver}` : verdict.reason;
  const rows: BenchRow[] = [{ name: 'GPU device', value: (verdict.device?.memoryMiB ?? NaN) / 1024, unit: 'GiB', note: device }];
  const skip = (why: string) => GPU_JOBS.flatMap((j) => ['train', 'generate'].map((k) => ({ name: `${j.name}: ${k} tokens/s, ours (CUDA)`, value: NaN, unit: 'tokens/s', note: `skipped: ${why}` })));
  if (!verdict.ok) return [...rows, ...skip(verdict.reason)];
  const torch = runTorch(GPU_JOBS);
  const before = tf.getBackend();
  const backendError = await useBackend('node-gpu').then(() => null, (e: Error) => e.message);
  for (const job of GPU_JOBS) {
    const ours: Measured = backendError ? { error: backendError } : await runOurs(job);
    const pt = torch.get(job.name) ?? { error: 'not run' };
    const shape = { train: `batch ${job.train.batch} x ${job.train.seq_len} tokens, fp32, AdamW`, generate: `${job.generate.batch} prompts of ${job.generate.prompt_len}, ${job.generate.new_tokens} new tokens, greedy, KV cache` };
    for (const [kind, o, p] of [['train', ours.trainTps, pt.trainTps], ['generate', ours.genTps, pt.genTps]] as const) {
      const oursNote = ours.error ? `failed: ${ours.error}` : `${shape[kind]}; ${(ours.params! / 1e6).toFixed(0)}M params; ${(kind === 'train' ? ours.trainMs! : ours.genMs!).toFixed(0)} ms`;
      const ptNote = pt.error && p === undefined ? `failed: ${pt.error}` : `${(pt as { torch?: string }).torch ?? 'torch'}; ${(kind === 'train' ? pt.trainMs! : pt.genMs!).toFixed(0)} ms`;
      rows.push({ name: `${job.name}: ${kind} tokens/s, ours (CUDA)`, value: o ?? NaN, unit: 'tokens/s', note: oursNote });
      rows.push({ name: `${job.name}: ${kind} tokens/s, PyTorch CUDA`, value: p ?? NaN, unit: 'tokens/s', note: ptNote });
      rows.push({ name: `${job.name}: ${kind}, ours / PyTorch`, value: (o ?? NaN) / (p ?? NaN), unit: 'x', note: 'same GPU, model and shapes' });
    }
  }
  if (before) await tf.setBackend(before).catch(() => undefined);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await benchGpu()) console.log(`${r.name.padEnd(52)} ${Number.isFinite(r.value) ? r.value.toFixed(2).padStart(12) : 'n/a'.padStart(12)} ${r.unit}  ${r.note ?? ''}`);
}
