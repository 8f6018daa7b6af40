/**
 * Kernels per step, counted with tf.profile on the active backend: one training step (the trainer's
 * packed step at a scale-curve point: forward, backward, AdamW) and one cached decode step of the
 * built-in transformer (one new token per row on a 32-position KV cache, 64 rows), each with its
 * most frequent kernels. At small widths a step's time is mostly per-kernel dispatch, so this count
 * is what the kernel work on the hot path moves.
 *
 *   npm run bench -- kernels        (CREDITFLOW_BACKEND picks the backend; default: the best present)
 */
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../engine/backend.js';
import { deriveRng } from '../common/rng.js';
import { sequenceLogProbs } from '../models/logprobs.js';
import { AdamW } from '../models/optimizer.js';
import { trainStep } from '../models/train-step.js';
import { disposeCache, Transformer } from '../models/transformer.js';
import type { BenchRow } from './row.js';
import { scaleBatch, scaleModel } from './scale.js';

function topKernels(names: string[], n = 8): string {
  const counts = new Map<string, number>();
  for (const k of names) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, c]) => `${k} ${c}`).join(', ');
}

/**
 * How many of the profiled entries reach the backend: tf.profile also lists Identity (tfjs's copy of
 * every tensor the gradient tape saves, a reference count on tensorflow) and each customGrad op's
 * own scope ("unnamed scope"), neither of which runs anything.
 */
function dispatched(names: string[]): string {
  return `${names.filter((k) => k !== 'Identity' && k !== 'unnamed scope').length} dispatched`;
}

async function trainKernels(d: number, seq: number): Promise<string[]> {
  const model = new Transformer(scaleModel(d, seq), deriveRng(1, 'init'));
  const opt = new AdamW(model.params, { lr: 1e-4 });
  const { seqs, starts } = scaleBatch(seq);
  const resp = seqs.reduce((a, s, b) => a + s.length - starts[b], 0);
  const step = () =>
    trainStep(model, opt, () => {
      const o = sequenceLogProbs(model, seqs, starts, { packed: true });
      return tf.div(tf.neg(tf.sum(tf.mul(o.logp, o.mask))), resp) as tf.Scalar;
    }, { lr: 1e-4, maxGradNorm: 1 });
  step(); // warm-up: the first step creates the optimizer state
  const prof = await tf.profile(() => {
    step();
  });
  model.dispose();
  opt.dispose();
  return prof.kernels.map((k) => k.name);
}

async function decodeKernels(d: number): Promise<string[]> {
  const B = 64;
  const past = 32;
  const model = new Transformer(scaleModel(d, past + 8), deriveRng(1, 'init'));
  const ids = (T: number) => tf.tensor2d(Int32Array.from({ length: B * T }, (_, i) => 3 + (i % 200)), [B, T], 'int32');
  const positions = (from: number, T: number) => tf.tensor2d(Int32Array.from({ length: B * T }, (_, i) => from + (i % T)), [B, T], 'int32');
  const prefill = model.forwardCached(ids(past), positions(0, past), tf.zeros([B, past]) as tf.Tensor2D);
  prefill.logits.dispose();
  const tok = ids(1);
  const pos = positions(past, 1);
  const kb = tf.zeros([B, past + 1]) as tf.Tensor2D;
  let out: { logits: tf.Tensor; cache: ReturnType<Transformer['forwardCached']>['cache'] } | undefined;
  const prof = await tf.profile(() => {
    out = model.forwardCached(tok, pos, kb, prefill.cache);
  });
  out!.logits.dispose();
  disposeCache(out!.cache);
  disposeCache(prefill.cache);
  tf.dispose([tok, pos, kb]);
  model.dispose();
  return prof.kernels.map((k) => k.name);
}

export async function benchKernels(): Promise<BenchRow[]> {
  const info = await initBackend();
  const rows: BenchRow[] = [];
  for (const [d, seq] of [[64, 32], [512, 128]]) {
    const k = await trainKernels(d, seq);
    rows.push({ name: `${info.name}: kernels per training step, d=${d} seq=${seq}`, value: k.length, unit: 'kernels', note: `${dispatched(k)}; ${topKernels(k)}` });
  }
  for (const d of [64, 512]) {
    const k = await decodeKernels(d);
    rows.push({ name: `${info.name}: kernels per cached decode step, d=${d}`, value: k.length, unit: 'kernels', note: `${dispatched(k)}; ${topKernels(k)}` });
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await benchKernels()) console.log(`${r.name}: ${r.value} ${r.unit}  (${r.note ?? ''})`);
}
