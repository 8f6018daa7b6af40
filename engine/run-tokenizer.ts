/**
 * A run's tokenizer without its model: what data validation needs before any compute (the cpu
 * worker's prepareData activity, `creditflow submit`). The built-in model's is a CharTokenizer over
 * `model.alphabet`; a checkpoint's is its tokenizer.json, with the BOS/EOS ids its config.json
 * names, as engine/policy.ts gets it with the weights.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentConfig } from '../configs/schema.js';
import { CharTokenizer, type TextTokenizer } from '../models/index.js';
import { HfTokenizer, parseLlamaConfig } from '../models/llama/index.js';

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

export function runTokenizer(config: Pick<ExperimentConfig, 'model'>): TextTokenizer {
  const { checkpoint, alphabet } = config.model;
  if (checkpoint === undefined) return new CharTokenizer(alphabet);
  const llama = parseLlamaConfig(readJson(join(checkpoint, 'config.json')), join(checkpoint, 'config.json'));
  const tokenizerConfig = existsSync(join(checkpoint, 'tokenizer_config.json')) ? readJson(join(checkpoint, 'tokenizer_config.json')) : {};
  return new HfTokenizer(readJson(join(checkpoint, 'tokenizer.json')), tokenizerConfig, { bosTokenId: llama.bosTokenId, eosTokenId: llama.eosTokenId });
}
