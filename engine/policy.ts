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
import { checkpointFrame, loadCheckpoint } from '../models/load-checkpoint.js';
import type { LlamaModel } from '../models/llama/model.js';
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
  if (!loaded.tokenizer) refuse(loaded.model, checkpoint, 'no tokenizer.json');
  checkFits(config, checkpoint, loaded.model);
  return { model: loaded.model, tokenizer: loaded.tokenizer! };
}

/**
 * A model of the run's architecture for a saved weights version to be loaded into: the built-in
 * transformer at its seeded init, or `model.checkpoint`'s architecture with zero weights (its own
 * weights are not read: the version replaces every one of them).
 */
export async function policyFrame(config: ExperimentConfig): Promise<CausalLM> {
  const { checkpoint } = config.model;
  if (checkpoint === undefined) return (await createPolicy(config)).model;
  const model = await checkpointFrame(checkpoint);
  checkFits(config, checkpoint, model);
  return model;
}

function refuse(model: CausalLM, checkpoint: string, why: string): never {
  model.dispose();
  throw new PolicyConfigError(`model.checkpoint: ${checkpoint}: ${why}`);
}

/** The run's sequences must fit the checkpoint's context and, where it has one, its sliding attention window. */
function checkFits(config: ExperimentConfig, checkpoint: string, model: LlamaModel): void {
  if (config.model.maxSeqLen > model.config.maxSeqLen) {
    refuse(model, checkpoint, `model.maxSeqLen ${config.model.maxSeqLen} exceeds the checkpoint's max_position_embeddings (${model.config.maxSeqLen})`);
  }
  const window = model.config.slidingWindow;
  if (window !== undefined && config.model.maxSeqLen > window) {
    refuse(model, checkpoint, `model.maxSeqLen ${config.model.maxSeqLen} exceeds the checkpoint's sliding attention window (${window}), beyond which its attention is not implemented`);
  }
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
