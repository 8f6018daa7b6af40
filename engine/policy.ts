/**
 * The policy a run trains, and its tokenizer: the built-in transformer (sizes from `model.*`, weights
 * from the seeded 'init' stream) or a local Llama/Qwen2/Mistral-style checkpoint (`model.checkpoint`,
 * models/llama). Both are a CausalLM, so everything downstream (sampling, packed training, the
 * losses, weight versions) is the same code.
 */
import type { ExperimentConfig } from '../configs/schema.js';
import { CharTokenizer, Transformer, type CausalLM, type TextTokenizer } from '../models/index.js';
import { loadHfCheckpoint } from '../models/llama/index.js';
import { deriveRng } from '../common/rng.js';

export class PolicyConfigError extends Error {
  override name = 'ConfigError';
}

export async function createPolicy(config: ExperimentConfig): Promise<{ model: CausalLM; tokenizer: TextTokenizer }> {
  const { checkpoint, ...sizes } = config.model;
  if (checkpoint === undefined) {
    const tokenizer = new CharTokenizer(config.model.alphabet);
    return { model: new Transformer({ vocabSize: tokenizer.vocabSize, ...sizes }, deriveRng(config.seed, 'init')), tokenizer };
  }
  const loaded = await loadHfCheckpoint(checkpoint);
  const fail = (why: string) => {
    loaded.model.dispose();
    throw new PolicyConfigError(`model.checkpoint: ${checkpoint}: ${why}`);
  };
  if (!loaded.tokenizer) fail('no tokenizer.json');
  if (config.model.maxSeqLen > loaded.config.maxSeqLen) {
    fail(`model.maxSeqLen ${config.model.maxSeqLen} exceeds the checkpoint's max_position_embeddings (${loaded.config.maxSeqLen})`);
  }
  return { model: loaded.model, tokenizer: loaded.tokenizer! };
}
