/**
 * Export a run's weights as a Hugging Face-style checkpoint folder (config.json, model.safetensors,
 * tokenizer files): for runs that fine-tune a local Llama/Qwen2/Mistral-style checkpoint
 * (`model.checkpoint`). The weights come from a verified state of the run: a durable checkpoint by
 * default (the newest), or the weights version the caller names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunConfigYaml } from '../configs/load.js';
import { saveHfCheckpoint, type HfCheckpoint, type SafeDtype } from '../models/llama/index.js';
import { loadCheckpoint } from '../models/load-checkpoint.js';
import { loadWeights, WEIGHTS_BIN } from '../models/weights-io.js';
import { listCheckpoints, verifiedStateDir } from '../store/weight-versions.js';

export class ExportError extends Error {
  override name = 'ExportError';
}

export interface ExportOptions {
  /** Weights version to export (default: the newest checkpoint). */
  version?: number;
  /** Stored dtype of every tensor (default F32: the trained values exactly). */
  dtype?: SafeDtype;
}

/** Writes the folder and returns the version exported and the files written. */
export async function exportRunCheckpoint(runDir: string, out: string, opts: ExportOptions = {}): Promise<{ version: number; files: string[] }> {
  let configText: string;
  try {
    configText = readFileSync(join(runDir, 'config.yaml'), 'utf8');
  } catch {
    throw new ExportError(`${runDir} is not a run folder (no config.yaml)`);
  }
  // RL or preference: both fine-tune model.checkpoint the same way.
  const { config } = parseRunConfigYaml(configText, join(runDir, 'config.yaml'), runDir);
  if (config.model.checkpoint === undefined) {
    throw new ExportError(`this run trained the built-in transformer; export writes Llama-style checkpoints only (its weights are in ${join(runDir, 'checkpoints')})`);
  }
  // A version written without weights (run.weightsEvery; a run stopped between weight writes
  // checkpoints one) cannot be exported: by default the newest checkpoint that has them.
  const hasWeights = (v: number) => WEIGHTS_BIN in (verifiedStateDir(runDir, v)?.manifest.files ?? {});
  const version = opts.version ?? listCheckpoints(runDir).find(hasWeights);
  if (version === undefined) {
    const why = listCheckpoints(runDir).length ? 'no checkpoint with weights yet (run.weightsEvery)' : 'no checkpoint yet';
    throw new ExportError(`${runDir} has ${why}; name a weights version with --version`);
  }
  const state = verifiedStateDir(runDir, version);
  if (!state) throw new ExportError(`weights version ${version} of ${runDir} is missing or fails its sha256 check`);
  if (!hasWeights(version)) throw new ExportError(`weights version ${version} of ${runDir} recorded its result without weights (run.weightsEvery); export a checkpoint iteration or the last one`);
  const base = await loadCheckpoint(config.model.checkpoint);
  try {
    await loadWeights(state.dir, base.model);
    const files = await writeExportFolder(out, base, opts.dtype ?? 'F32');
    return { version, files };
  } finally {
    base.model.dispose();
  }
}

/**
 * Write `ck` (its model holding the trained weights) as a checkpoint folder: weights in `dtype`, the
 * source's config.json with its rope settings rewritten in one spelling (models/llama/config.ts), its
 * tokenizer files, chat template and generation_config.json. Returns the paths written.
 */
export function writeExportFolder(out: string, ck: HfCheckpoint, dtype: SafeDtype): Promise<string[]> {
  return saveHfCheckpoint(out, ck.model, { dtype, rawConfig: ck.rawConfig, tokenizer: ck.tokenizer, generationConfig: ck.generationConfig });
}
