/**
 * A `model.checkpoint` path, loaded as transformers loads it: a Hugging Face folder
 * (models/llama/checkpoint.ts) or a llama-architecture `.gguf` file (models/gguf/, dequantized to
 * float32 as `from_pretrained(..., gguf_file=...)` does).
 */
import { loadHfCheckpoint, type HfCheckpoint } from './llama/checkpoint.js';
import { loadGgufCheckpoint } from './gguf/gguf-checkpoint.js';

export function loadCheckpoint(path: string): Promise<HfCheckpoint> {
  return path.toLowerCase().endsWith('.gguf') ? loadGgufCheckpoint(path) : loadHfCheckpoint(path);
}
