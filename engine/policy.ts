/**
 * The policy a run trains, and its tokenizer: the built-in transformer (sizes from `model.*`, weights
 * from the seeded 'init' stream) or a local Llama/Qwen2/Mistral-style checkpoint (`model.checkpoint`:
 * an HF folder or a llama .gguf file, models/load-checkpoint.ts). Both are a CausalLM, so everything
 * downstream (sampling, packed training, the losses, weight versions) is the same code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentConfig } from '../configs/schema.js';
import { CharTokenizer, Transformer, type CausalLM, type TextTokenizer } from '../models/index.js';
import type { PromptInput } from '../models/tokenizer.js';
import { writeFileAtomic } from '../store/atomic-dir.js';
import { loadCheckpoint } from '../models/load-checkpoint.js';
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
  const loaded = await loadCheckpoint(checkpoint);
  const fail = (why: string) => {
    loaded.model.dispose();
    throw new PolicyConfigError(`model.checkpoint: ${checkpoint}: ${why}`);
  };
  if (!loaded.tokenizer) fail('no tokenizer.json');
  if (config.model.maxSeqLen > loaded.config.maxSeqLen) {
    fail(`model.maxSeqLen ${config.model.maxSeqLen} exceeds the checkpoint's max_position_embeddings (${loaded.config.maxSeqLen})`);
  }
  const window = loaded.config.slidingWindow;
  if (window !== undefined && config.model.maxSeqLen > window) {
    fail(`model.maxSeqLen ${config.model.maxSeqLen} exceeds the checkpoint's sliding attention window (${window}), beyond which its attention is not implemented`);
  }
  return { model: loaded.model, tokenizer: loaded.tokenizer! };
}

/** What the model is given for one training row, kept in the run folder so a user can see it (`creditflow status`). */
export interface PromptSample {
  /** The row's prompt: text, or chat messages. */
  prompt: PromptInput;
  /** The text the model gets: the prompt, or the messages through the chat template. */
  rendered: string;
  /** Token ids of the prompt as encoded (BOS only where the tokenizer adds one). */
  ids: number[];
}

const PROMPT_SAMPLE = 'prompt-sample.json';

/** Write `prompt` as the run's prompt sample (the caller passes the first training row's prompt). */
export function writePromptSample(runDir: string, tokenizer: TextTokenizer, prompt: PromptInput): void {
  const sample: PromptSample = { prompt, rendered: tokenizer.renderPrompt(prompt), ids: tokenizer.encodePrompt(prompt) };
  writeFileAtomic(join(runDir, PROMPT_SAMPLE), JSON.stringify(sample, null, 2) + '\n', { durable: false });
}

/** The run's prompt sample, if it has one. */
export function readPromptSample(runDir: string): PromptSample | undefined {
  try {
    return JSON.parse(readFileSync(join(runDir, PROMPT_SAMPLE), 'utf8')) as PromptSample;
  } catch {
    return undefined;
  }
}
