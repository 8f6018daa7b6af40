/**
 * A `model.checkpoint` path, loaded as transformers loads it: a Hugging Face folder
 * (models/llama/checkpoint.ts) or a llama-architecture `.gguf` file (models/gguf/, dequantized to
 * float32 as `from_pretrained(..., gguf_file=...)` does).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadHfCheckpoint, type HfCheckpoint } from './llama/checkpoint.js';
import { parseLlamaConfig, type LlamaConfig } from './llama/config.js';
import { LlamaModel } from './llama/model.js';
import { loadGgufCheckpoint, loadGgufConfig } from './gguf/gguf-checkpoint.js';

export function loadCheckpoint(path: string): Promise<HfCheckpoint> {
  return path.toLowerCase().endsWith('.gguf') ? loadGgufCheckpoint(path) : loadHfCheckpoint(path);
}

/**
 * A model of the checkpoint's architecture with every weight zero, for a saved weights version to be
 * loaded into: from an HF folder's config.json or a .gguf file's metadata, no weight read or dequantized.
 */
export async function checkpointFrame(path: string): Promise<LlamaModel> {
  return new LlamaModel(checkpointConfig(path), null);
}

/** The checkpoint's model config, as transformers reads it: an HF folder's config.json, or a .gguf file's metadata (its header only). */
export function checkpointConfig(path: string): LlamaConfig {
  if (path.toLowerCase().endsWith('.gguf')) return loadGgufConfig(path);
  const file = join(path, 'config.json');
  return parseLlamaConfig(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>, file);
}
