/**
 * Native (libtensorflow via @tensorflow/tfjs-node) vs WebAssembly vs plain-JS CPU, in one process.
 *
 *   node --import tsx bench/native.ts          # table; add --json for the raw rows
 *
 * Rows: 512x512 float32 matmul GFLOP/s on wasm / native / cpu, and training-step throughput (tokens/s)
 * of a small self-contained transformer block stack (batch 64 x seq 32, d=128, 4 heads, 2 layers,
 * MLP 4d, vocab-256 softmax head, Adam) forward+backward on wasm / native, plus the native:wasm ratios.
 * Then the demo's own SFT step (the engine's model, packed loss and AdamW at configs/demo.yaml's sizes:
 * d=64, 2 layers, 64 demonstrations of ~10 tokens): ms per step on each backend. That step is ~950
 * tiny kernels, and a kernel costs ~13 us of dispatch on either backend, so there native gains ~2x,
 * not the ~20x of the larger block above; it is what bounds the demo's speed-up (docs/native-backend.md).
 * When tfjs-node is not installed (`npm run native`), its rows carry NaN and a note saying why.
 * All backends share one tfjs engine; each section switches with tf.setBackend and builds its own tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { setNativeEnvDefaults } from '../engine/native-env.js';
import { createPolicy } from '../engine/policy.js';
import { deriveRng } from '../common/rng.js';
import { AdamW } from '../models/optimizer.js';
import { sampleArithmetic } from '../tasks/arithmetic.js';
import { sftSteps } from '../tasks/recipe.js';
import { demoConfig } from './local-stack.js';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

// The environment the compute host gives libtensorflow (one intra-op thread, no INFO notices).
setNativeEnvDefaults();

const dynImport = (spec: string): Promise<unknown> => import(spec);

async function useBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend '${name}' did not initialise`);
  await tf.ready();
}

/** Time `fn` (which must block until its result is computed) for at least minMs after warm-up. */
async function timeIt(fn: () => void, opts: { warmup: number; minMs: number; minReps: number }): Promise<{ reps: number; ms: number }> {
  for (let i = 0; i < opts.warmup; i++) fn();
  let reps = 0;
  const start = performance.now();
  while (reps < opts.minReps || performance.now() - start < opts.minMs) {
    fn();
    reps++;
  }
  return { reps, ms: performance.now() - start };
}

export async function matmulGflops(backend: string, n = 512): Promise<number> {
  await useBackend(backend);
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const slow = backend === 'cpu';
  // Not tf.tidy(() => ....dataSync()): tidy walks a returned TypedArray key by key, which costs more than the matmul.
  const once = () => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  };
  const { reps, ms } = await timeIt(once, {
    warmup: slow ? 1 : 3,
    minMs: slow ? 1500 : 1000,
    minReps: slow ? 2 : 5,
  });
  tf.dispose([a, b]);
  return (2 * n ** 3 * reps) / (ms / 1000) / 1e9;
}

export interface BlockConfig {
  batch: number;
  seq: number;
  d: number;
  heads: number;
  layers: number;
  vocab: number;
}
export const BLOCK: BlockConfig = { batch: 64, seq: 32, d: 128, heads: 4, layers: 2, vocab: 256 };

interface Layer {
  ln1g: tf.Variable; ln1b: tf.Variable; wq: tf.Variable; wk: tf.Variable; wv: tf.Variable; wo: tf.Variable;
  ln2g: tf.Variable; ln2b: tf.Variable; w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable;
}

function layerNorm(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).mul(g).add(b) as tf.Tensor2D;
}

/**
 * tanh-approximation GELU from primitive ops. x*x*x rather than pow(x, 3): tfjs's pow gradient also
 * differentiates w.r.t. the exponent (log, where, a full reduction), which made pow the costliest op.
 */
function gelu(x: tf.Tensor): tf.Tensor {
  const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
  return x.mul(0.5).mul(tf.tanh(inner).add(1));
}

/** A transformer-like stack: pre-LN causal multi-head self-attention + GELU MLP, residuals, softmax head. */
export function makeBlockModel(cfg: BlockConfig = BLOCK, seed = 7) {
  const { d, heads, seq, layers, vocab } = cfg;
  let s = seed;
  const w = (shape: number[], std = 0.02) => tf.variable(tf.randomNormal(shape, 0, std, 'float32', s++));
  const c = (shape: number[], v: number) => tf.variable(tf.fill(shape, v));
  const params: Layer[] = Array.from({ length: layers }, () => ({
    ln1g: c([d], 1), ln1b: c([d], 0), wq: w([d, d]), wk: w([d, d]), wv: w([d, d]), wo: w([d, d]),
    ln2g: c([d], 1), ln2b: c([d], 0), w1: w([d, 4 * d]), b1: c([4 * d], 0), w2: w([4 * d, d]), b2: c([d], 0),
  }));
  const head = w([d, vocab]);
  // Causal mask: 0 on/below the diagonal, -1e9 above.
  const mask = tf.tidy(() => tf.sub(1, tf.linalg.bandPart(tf.ones([seq, seq]), -1, 0)).mul(-1e9));
  const dh = d / heads;

  /** x: [batch*seq, d] (already-embedded tokens) -> logits [batch*seq, vocab]. */
  function forward(x: tf.Tensor2D, batch: number): tf.Tensor2D {
    const split = (t: tf.Tensor2D) => t.reshape([batch, seq, heads, dh]).transpose([0, 2, 1, 3]);
    let h = x;
    for (const L of params) {
      const a = layerNorm(h, L.ln1g, L.ln1b);
      const q = split(tf.matMul(a, L.wq)), k = split(tf.matMul(a, L.wk)), v = split(tf.matMul(a, L.wv));
      const att = tf.softmax(tf.matMul(q, k, false, true).mul(1 / Math.sqrt(dh)).add(mask));
      const ctx = tf.matMul(att, v).transpose([0, 2, 1, 3]).reshape([batch * seq, d]) as tf.Tensor2D;
      h = h.add(tf.matMul(ctx, L.wo));
      const m = layerNorm(h, L.ln2g, L.ln2b);
      h = h.add(tf.matMul(gelu(tf.matMul(m, L.w1).add(L.b1)) as tf.Tensor2D, L.w2).add(L.b2));
    }
    return tf.matMul(h, head);
  }
  const variables = [...params.flatMap((L) => Object.values(L)), head];
  return { forward, variables, dispose: () => tf.dispose([...variables, mask]) };
}

/** Forward+backward+Adam steps on the active backend; returns tokens/s and the final loss. */
export async function trainTokensPerSec(backend: string, cfg: BlockConfig = BLOCK): Promise<{ tokensPerSec: number; loss: number; steps: number }> {
  await useBackend(backend);
  const model = makeBlockModel(cfg);
  const tokens = cfg.batch * cfg.seq;
  const x = tf.randomNormal([tokens, cfg.d], 0, 1, 'float32', 11) as tf.Tensor2D;
  const labels = tf.tidy(() => tf.oneHot(tf.randomUniform([tokens], 0, cfg.vocab, 'int32', 12), cfg.vocab));
  const opt = tf.train.adam(1e-3);
  let loss = NaN;
  const step = () => {
    const l = opt.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.forward(x, cfg.batch)) as tf.Scalar, true, model.variables)!;
    loss = l.dataSync()[0];
    l.dispose();
  };
  const slow = backend !== 'tensorflow';
  const { reps, ms } = await timeIt(step, { warmup: slow ? 1 : 2, minMs: slow ? 4000 : 2000, minReps: slow ? 2 : 5 });
  opt.dispose();
  model.dispose();
  tf.dispose([x, labels]);
  return { tokensPerSec: (tokens * reps) / (ms / 1000), loss, steps: reps };
}

/** The demo warm start's SFT step (model, loss, optimizer and batch as the product runs them): ms per step. */
export async function demoSftStepMs(backend: string): Promise<{ ms: number; steps: number; loss: number }> {
  await useBackend(backend);
  const config = demoConfig();
  const { model, tokenizer } = await createPolicy(config);
  if (config.data.source !== 'arithmetic') throw new Error('bench/native: the demo config generates arithmetic rows');
  const { splitSeed, trainSize } = config.data;
  const demos = sampleArithmetic('train', trainSize, { splitSeed, sampleSeed: splitSeed }).map((e) => ({ prompt: e.prompt, completion: e.completion }));
  const optimizer = new AdamW(model.params, { lr: config.warmStart.lr, weightDecay: config.optimizer.weightDecay });
  const rng = deriveRng(config.seed, 'sft');
  let loss = NaN;
  const step = () => {
    const r = sftSteps(model, optimizer, demos, { steps: 1, batchSize: config.warmStart.batchSize, rng, tokenizer, lr: config.warmStart.lr, maxGradNorm: config.optimizer.maxGradNorm });
    loss = r.losses[0];
  };
  const { reps, ms } = await timeIt(step, { warmup: 5, minMs: 2000, minReps: 20 });
  optimizer.dispose();
  model.dispose();
  return { ms: ms / reps, steps: reps, loss };
}

async function loadNative(): Promise<string | null> {
  try {
    await dynImport('@tensorflow/tfjs-node');
    return null;
  } catch (e) {
    const msg = ((e as Error).message ?? String(e)).split('\n')[0];
    return /Cannot find (package|module)/.test(msg) ? '@tensorflow/tfjs-node not installed (npm run native)' : `tfjs-node failed to load: ${msg}`;
  }
}

export async function benchNative(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const before = tf.getBackend();
  await dynImport('@tensorflow/tfjs-backend-wasm');
  const nativeMissing = await loadNative();
  const nativeNote = nativeMissing ?? `libtensorflow ${(tf.findBackend('tensorflow') as unknown as { binding?: { TF_Version?: string } })?.binding?.TF_Version ?? '?'}, ${tf.env().platformName ?? ''}`.trim();

  const mmWasm = await matmulGflops('wasm');
  const mmNative = nativeMissing ? NaN : await matmulGflops('tensorflow');
  const mmCpu = await matmulGflops('cpu');
  rows.push({ name: 'matmul 512x512 f32 wasm', value: mmWasm, unit: 'GFLOP/s' });
  rows.push({ name: 'matmul 512x512 f32 native', value: mmNative, unit: 'GFLOP/s', note: nativeNote });
  rows.push({ name: 'matmul 512x512 f32 cpu (plain JS)', value: mmCpu, unit: 'GFLOP/s' });
  rows.push({ name: 'matmul native / wasm', value: mmNative / mmWasm, unit: 'x' });

  const shape = `batch ${BLOCK.batch} x seq ${BLOCK.seq}, d=${BLOCK.d}, ${BLOCK.heads} heads, ${BLOCK.layers} layers, fwd+bwd+Adam`;
  const trWasm = await trainTokensPerSec('wasm');
  const trNative = nativeMissing ? null : await trainTokensPerSec('tensorflow');
  rows.push({ name: 'train step wasm', value: trWasm.tokensPerSec, unit: 'tokens/s', note: `${shape}; ${trWasm.steps} steps, loss ${trWasm.loss.toFixed(3)}` });
  rows.push({
    name: 'train step native', value: trNative?.tokensPerSec ?? NaN, unit: 'tokens/s',
    note: trNative ? `${trNative.steps} steps, loss ${trNative.loss.toFixed(3)}` : nativeNote,
  });
  const ratio = (trNative?.tokensPerSec ?? NaN) / trWasm.tokensPerSec;
  rows.push({ name: 'train step native / wasm', value: ratio, unit: 'x', note: 'target >= 20x' });

  const sftWasm = await demoSftStepMs('wasm');
  const sftNative = nativeMissing ? null : await demoSftStepMs('tensorflow');
  rows.push({ name: 'demo SFT step wasm', value: sftWasm.ms, unit: 'ms', note: `engine model d=64, 2 layers, 64 demonstrations; ${sftWasm.steps} steps, loss ${sftWasm.loss.toFixed(3)}` });
  rows.push({ name: 'demo SFT step native', value: sftNative?.ms ?? NaN, unit: 'ms', note: sftNative ? `${sftNative.steps} steps, loss ${sftNative.loss.toFixed(3)}` : nativeNote });
  rows.push({ name: 'demo SFT step wasm / native', value: sftWasm.ms / (sftNative?.ms ?? NaN), unit: 'x', note: 'dispatch-bound: bounds the demo speed-up' });
  if (before) await tf.setBackend(before).catch(() => undefined);
  return rows;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows = await benchNative();
  if (process.argv.includes('--json')) console.log(JSON.stringify(rows, null, 2));
  else for (const r of rows) console.log(`${r.name.padEnd(36)} ${fmt(r.value).padStart(9)} ${r.unit.padEnd(8)} ${r.note ?? ''}`);
}
