/** Shared fixtures for the model tests: a tiny transformer on the wasm backend. */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../engine/backend.js';
import { deriveRng } from '../../engine/rng.js';
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
