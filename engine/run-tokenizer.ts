/**
 * A run's tokenizer without its model: what data validation needs before any compute (the cpu
 * worker's prepareData activity, `creditflow submit`). The built-in model's is a CharTokenizer over
 * `model.alphabet`; a checkpoint's is the one engine/policy.ts gets with the weights (tokenizer.json
 * and its companions in a folder, or a .gguf file's metadata).
 */
import type { ExperimentConfig } from '../configs/schema.js';
import { CharTokenizer, type TextTokenizer } from '../models/index.js';
import { loadGgufTokenizer } from '../models/gguf/index.js';
import { loadHfTokenizer } from '../models/llama/index.js';
import { checkpointConfig } from '../models/load-checkpoint.js';

export function runTokenizer(config: Pick<ExperimentConfig, 'model'>): TextTokenizer {
  const { checkpoint, alphabet } = config.model;
  if (checkpoint === undefined) return new CharTokenizer(alphabet);
  if (checkpoint.toLowerCase().endsWith('.gguf')) return loadGgufTokenizer(checkpoint);
  const tokenizer = loadHfTokenizer(checkpoint, checkpointConfig(checkpoint));
  if (!tokenizer) throw new Error(`model.checkpoint: ${checkpoint}: no tokenizer.json`);
  return tokenizer;
}
