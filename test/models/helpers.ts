/** Shared fixtures for the model tests: a tiny transformer on the default backend. */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../engine/backend.js';
import { deriveRng } from '../../common/rng.js';
import type { AdamW } from '../../models/optimizer.js';
import { CharTokenizer } from '../../models/tokenizer.js';
import { Transformer, type ModelConfig } from '../../models/transformer.js';

export const tok = new CharTokenizer();

export const TINY: ModelConfig = { vocabSize: tok.vocabSize, dModel: 16, nLayers: 2, nHeads: 2, dFf: 32, maxSeqLen: 16 };

/**
 * The backend every model test runs on: the one a fresh install gets (initBackend's choice: native
 * where `npm install` could provision it, else wasm), unless CREDITFLOW_BACKEND forces another. CI
 * runs these tests a second time with CREDITFLOW_BACKEND=wasm, so a missing wasm gradient kernel
 * still fails there.
 */
export async function useTestBackend(): Promise<void> {
  await initBackend();
}

/** The former name of useTestBackend, kept while other branches' test files still call it. */
export const useWasm = useTestBackend;

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
