/**
 * Compute-core throughput, side by side in one process:
 *   1. the demo policy (configs/demo.yaml size) on wasm and plain-JS cpu: one SFT step (batch 64),
 *      greedy generation of 256 rows x 5 tokens with and without the KV cache;
 *   2. generation at 128 new tokens (the demo model with maxSeqLen 160, 32 rows, greedy, no EOS
 *      stop): tokens/s with the KV cache vs full recomputation of the prefix every step;
 *   2b. prompt prefill tokens/s on 64 prompts of 15..150 tokens: left-padded vs packed (Prepacking);
 *   3. training tokens/s (forward + backward + AdamW, token-mean NLL of the responses) on a batch of
 *      64 sequences whose lengths range 16..160 (10x): packed (padding-free) vs right-padded;
 *      on wasm, and on the native backend (tfjs-node) when it is installed;
 *   4. the same model, batch and step in PyTorch on CPU (bench/pytorch/train_step.py), when
 *      `.venv-bench/bin/python` exists (python3 -m venv .venv-bench && .venv-bench/bin/pip install torch);
 *      otherwise those rows are NaN with the reason.
 * Tokens/s counts real tokens (padding excluded) for both layouts.
 *
 *   node --import tsx bench/engine.ts      (or: npm run bench -- engine)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend, useBackend } from '../engine/backend.js';
import { deriveRng } from '../common/rng.js';
import { generate } from '../models/generate.js';
import { sequenceLogProbs } from '../models/logprobs.js';
import { AdamW } from '../models/optimizer.js';
import { CharTokenizer } from '../models/tokenizer.js';
import { trainStep } from '../models/train-step.js';
import { Transformer, type ModelConfig } from '../models/transformer.js';
import { sampleArithmetic } from '../tasks/arithmetic.js';
import { demoConfig } from './local-stack.js';
import { sftSteps } from '../tasks/recipe.js';
import type { BenchRow } from './row.js';

/** The demo policy's size, from configs/demo.yaml (the schema defaults). */
const DEMO_MODEL = demoConfig().model;

const VENV_PYTHON = fileURLToPath(new URL('../.venv-bench/bin/python', import.meta.url));
const TORCH_SCRIPT = fileURLToPath(new URL('./pytorch/train_step.py', import.meta.url));

function time(reps: number, f: () => void): number {
  f(); // warm-up (kernel compilation, allocations)
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t0) / reps;
}

/** 1. The demo policy on wasm and cpu (the measurements initBackend's preference rests on). */
async function demoModelRows(tok: CharTokenizer): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const train = sampleArithmetic('train', 512, { splitSeed: 0, sampleSeed: 1 });
  const prompts = train.slice(0, 256).map((e) => tok.encode(e.prompt));
  for (const backend of ['wasm', 'cpu']) {
    await useBackend(backend);
    const model = new Transformer({ vocabSize: tok.vocabSize, ...DEMO_MODEL }, deriveRng(1, 'init'));
    const opt = new AdamW(model.params, { lr: 1e-3 });
    const rng = deriveRng(1, 'sft');
    const reps = backend === 'cpu' ? 2 : 10;
    for (const packed of backend === 'wasm' ? [false, true] : [true]) {
      const sft = time(reps, () => sftSteps(model, opt, train, { steps: 1, batchSize: 64, lr: 1e-3, rng, tokenizer: tok, packed }));
      rows.push({ name: `${backend}: SFT step, batch 64${packed ? ', packed' : ', padded'}`, value: sft, unit: 'ms', note: `d=${DEMO_MODEL.dModel}, ${DEMO_MODEL.nLayers} layers, ${model.numParams()} params` });
    }
    for (const useCache of [true, false]) {
      const ms = time(backend === 'cpu' ? 1 : 3, () => generate(model, prompts, { maxNewTokens: 5, temperature: 0, useCache }));
      rows.push({ name: `${backend}: generate 256 rows x 5 tokens, ${useCache ? 'KV cache' : 'full recompute'}`, value: ms, unit: 'ms' });
    }
    model.dispose();
    opt.dispose();
  }
  const step = (name: string) => rows.find((r) => r.name.startsWith(name))!.value;
  rows.push({ name: 'cpu / wasm SFT step time (packed)', value: step('cpu: SFT step') / step('wasm: SFT step, batch 64, packed'), unit: 'x', note: 'why initBackend prefers wasm over cpu' });
  return rows;
}

/** 2. Long generation: KV cache vs full recomputation. */
function generationRows(model: Transformer, tok: CharTokenizer): BenchRow[] {
  const B = 32;
  const NEW = 128;
  const prompts = sampleArithmetic('train', B, { splitSeed: 0, sampleSeed: 2 }).map((e) => tok.encode(e.prompt));
  // eosId -1: never stops early, so every row generates exactly NEW tokens.
  const run = (useCache: boolean) => time(1, () => generate(model, prompts, { maxNewTokens: NEW, temperature: 0, eosId: -1, useCache }));
  const kv = run(true);
  const full = run(false);
  const tps = (ms: number) => (B * NEW) / (ms / 1000);
  const note = `${B} rows, prompts ${Math.min(...prompts.map((p) => p.length))}-${Math.max(...prompts.map((p) => p.length))} tokens, maxSeqLen ${model.config.maxSeqLen}`;
  return [
    { name: `wasm: generate ${NEW} new tokens, KV cache`, value: tps(kv), unit: 'tokens/s', note },
    { name: `wasm: generate ${NEW} new tokens, full recompute`, value: tps(full), unit: 'tokens/s', note },
    { name: 'KV cache speed-up at 128 new tokens', value: full / kv, unit: 'x', note: 'target >= 10x' },
  ];
}

/** 2b. Prompt prefill, left-padded vs packed (Prepacking), on 64 prompts whose lengths range 15..150. */
function prefillRows(model: Transformer): BenchRow[] {
  const rng = deriveRng(3, 'bench-prompts');
  const prompts = Array.from({ length: 64 }, (_, i) => [1, ...Array.from({ length: (i === 0 ? 15 : i === 1 ? 150 : 15 + rng.int(136)) - 1 }, () => 3 + rng.int(17))]);
  const tokens = prompts.reduce((a, p) => a + p.length, 0);
  // maxNewTokens 1: the prefill and one sampled token.
  const run = (packedPrefill: boolean) => time(2, () => generate(model, prompts, { maxNewTokens: 1, temperature: 0, packedPrefill }));
  const padded = run(false);
  const packed = run(true);
  const tps = (ms: number) => tokens / (ms / 1000);
  return [
    { name: 'wasm: prompt prefill, left-padded', value: tps(padded), unit: 'tokens/s', note: `64 prompts, lengths 15-150, ${tokens} tokens, ${padded.toFixed(0)} ms` },
    { name: 'wasm: prompt prefill, packed', value: tps(packed), unit: 'tokens/s', note: `${packed.toFixed(0)} ms` },
    { name: 'packed / padded prefill throughput', value: padded / packed, unit: 'x' },
  ];
}

/** 64 sequences, lengths uniform in 16..160, 8-token prompts (BOS + 7). */
export function mixedLengthBatch(vocabSize: number, seed = 1): { seqs: number[][]; starts: number[] } {
  const rng = deriveRng(seed, 'bench-batch');
  const seqs: number[][] = [];
  for (let i = 0; i < 64; i++) {
    const len = i === 0 ? 16 : i === 1 ? 160 : 16 + rng.int(145);
    seqs.push([1, ...Array.from({ length: len - 1 }, () => 3 + rng.int(vocabSize - 3))]);
  }
  return { seqs, starts: seqs.map(() => 8) };
}

/** 3. Training tokens/s, packed vs padded. */
function trainingRows(backend: string, model: Transformer, batch: { seqs: number[][]; starts: number[] }): { rows: BenchRow[]; packedTps: number; paddedTps: number } {
  const opt = new AdamW(model.params, { lr: 1e-4 });
  const tokens = batch.seqs.reduce((a, s) => a + s.length, 0);
  const respTokens = batch.seqs.reduce((a, s, b) => a + s.length - batch.starts[b], 0);
  const step = (packed: boolean) =>
    trainStep(
      model,
      opt,
      () => {
        const o = sequenceLogProbs(model, batch.seqs, batch.starts, { packed });
        return tf.div(tf.neg(tf.sum(tf.mul(o.logp, o.mask))), respTokens) as tf.Scalar;
      },
      { lr: 1e-4, maxGradNorm: 1 },
    );
  const padded = time(3, () => step(false));
  const packed = time(3, () => step(true));
  opt.dispose();
  const tps = (ms: number) => tokens / (ms / 1000);
  const note = `64 sequences, lengths 16-160, ${tokens} tokens`;
  return {
    packedTps: tps(packed),
    paddedTps: tps(padded),
    rows: [
      { name: `${backend}: training step, padded`, value: tps(padded), unit: 'tokens/s', note: `${padded.toFixed(0)} ms/step; ${note}` },
      { name: `${backend}: training step, packed`, value: tps(packed), unit: 'tokens/s', note: `${packed.toFixed(0)} ms/step` },
      { name: `${backend}: packed / padded training throughput`, value: padded / packed, unit: 'x', note: 'target >= 1.5x' },
    ],
  };
}

/** 4. The same step in PyTorch on CPU. */
function torchRows(cfg: ModelConfig, batch: { seqs: number[][]; starts: number[] }, ours: Record<string, number>): BenchRow[] {
  const skipped = (why: string): BenchRow[] => [{ name: 'PyTorch CPU: training step', value: NaN, unit: 'tokens/s', note: `skipped: ${why}` }];
  if (!existsSync(VENV_PYTHON)) return skipped(`no ${VENV_PYTHON} (python3 -m venv .venv-bench && .venv-bench/bin/pip install torch)`);
  const dir = mkdtempSync(join(tmpdir(), 'creditflow-torch-'));
  try {
    const file = join(dir, 'batch.json');
    writeFileSync(file, JSON.stringify({ model: cfg, ...batch }));
    const rows: BenchRow[] = [];
    const torchPacked: Record<number, number> = {};
    for (const threads of [1, 2]) {
      const r = spawnSync(VENV_PYTHON, [TORCH_SCRIPT, file, '--threads', String(threads), '--steps', '5'], { encoding: 'utf8', timeout: 600_000 });
      if (r.status !== 0) return skipped(`train_step.py failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { torch: string; threads: number; padded_ms: number; packed_ms: number; tokens: number };
      const tps = (ms: number) => out.tokens / (ms / 1000);
      torchPacked[out.threads] = tps(out.packed_ms);
      const note = `torch ${out.torch}, ${out.threads} thread${out.threads > 1 ? 's' : ''}`;
      rows.push({ name: `PyTorch CPU ${out.threads}T: training step, padded`, value: tps(out.padded_ms), unit: 'tokens/s', note: `${out.padded_ms.toFixed(0)} ms/step; ${note}` });
      rows.push({ name: `PyTorch CPU ${out.threads}T: training step, packed`, value: tps(out.packed_ms), unit: 'tokens/s', note: `${out.packed_ms.toFixed(0)} ms/step; ${note}` });
    }
    // Thread for thread: wasm runs on one thread; libtensorflow on TF_NUM_INTRAOP_THREADS (1 for this width).
    const oursThreads = (backend: string) => (backend === 'wasm' ? 1 : Number(process.env.TF_NUM_INTRAOP_THREADS ?? 1));
    for (const [backend, tps] of Object.entries(ours)) {
      const t = oursThreads(backend);
      if (!torchPacked[t]) continue;
      rows.push({ name: `ours (${backend}, packed, ${t}T) / PyTorch CPU ${t}T, training tokens/s`, value: tps / torchPacked[t], unit: 'x', note: 'same architecture, batch and step; one timing each, not interleaved: `npm run bench -- scale` for A/B pairs' });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchEngine(): Promise<BenchRow[]> {
  const tok = new CharTokenizer();
  const rows = await demoModelRows(tok);
  await useBackend('wasm');
  const cfg: ModelConfig = { vocabSize: tok.vocabSize, ...DEMO_MODEL, maxSeqLen: 160 };
  const batch = mixedLengthBatch(tok.vocabSize);
  const ours: Record<string, number> = {};
  const model = new Transformer(cfg, deriveRng(1, 'init'));
  try {
    rows.push(...generationRows(model, tok));
    rows.push(...prefillRows(model));
    const train = trainingRows('wasm', model, batch);
    rows.push(...train.rows);
    ours.wasm = train.packedTps;
  } finally {
    model.dispose();
  }
  // The native backend, when tfjs-node is installed (npm run native).
  const native = await useBackend('tensorflow').then(
    () => null,
    (err: Error) => err.message,
  );
  if (native === null) {
    const m = new Transformer(cfg, deriveRng(1, 'init'));
    try {
      const train = trainingRows('tensorflow', m, batch);
      rows.push(...train.rows);
      ours.tensorflow = train.packedTps;
    } finally {
      m.dispose();
    }
  } else rows.push({ name: 'tensorflow: training step, packed', value: NaN, unit: 'tokens/s', note: `skipped: ${native}` });
  rows.push(...torchRows(cfg, batch, ours));
  await initBackend();
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await benchEngine()) console.log(`${r.name.padEnd(60)} ${r.value.toFixed(2).padStart(10)} ${r.unit}${r.note ? `  (${r.note})` : ''}`);
}
