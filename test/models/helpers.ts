/** Shared fixtures for the model tests: a tiny transformer on the wasm backend. */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../engine/backend.js';
import { deriveRng } from '../../common/rng.js';
import type { AdamW } from '../../models/optimizer.js';
import { CharTokenizer } from '../../models/tokenizer.js';
import { Transformer, type ModelConfig } from '../../models/transformer.js';

export const tok = new CharTokenizer();

export const TINY: ModelConfig = { vocabSize: tok.vocabSize, dModel: 16, nLayers: 2, nHeads: 2, dFf: 32, maxSeqLen: 16 };

/**
 * The backend every model test runs on: wasm, so that a missing wasm gradient kernel fails here,
 * unless CREDITFLOW_BACKEND forces another (CI runs these tests a second time on the native backend).
 */
export async function useWasm(): Promise<void> {
  await initBackend('wasm');
  if (!process.env.CREDITFLOW_BACKEND) expectBackend('wasm');
}

function expectBackend(name: string): void {
  if (tf.getBackend() !== name) throw new Error(`expected backend ${name}, got ${tf.getBackend()}`);
}

export function tinyModel(seed = 1, cfg: Partial<ModelConfig> = {}): Transformer {
  return new Transformer({ ...TINY, ...cfg }, deriveRng(seed, 'init'));
}

/**
 * An optimizer stand-in that records the gradients it is given and leaves the weights alone; it
 * reports their global norm, as AdamW does.
 */
export function spyOptimizer(): { opt: AdamW; steps: Record<string, Float32Array>[] } {
  const steps: Record<string, Float32Array>[] = [];
  const opt = {
    applyGradients(grads: Record<string, tf.Tensor>) {
      steps.push(Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, Float32Array.from(g.dataSync())])));
      return Math.sqrt(Object.values(grads).reduce((a, g) => a + tf.tidy(() => tf.sum(tf.square(g)).dataSync()[0]), 0));
    },
  } as unknown as AdamW;
  return { opt, steps };
}

/** Largest absolute difference between two sets of named arrays (gradients). */
export function maxAbsDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let d = 0;
  for (const k of Object.keys(a)) for (let i = 0; i < a[k].length; i++) d = Math.max(d, Math.abs(a[k][i] - b[k][i]));
  return d;
}
