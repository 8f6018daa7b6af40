/**
 * A run's rows as the compute host and the cpu worker use them: the run's own copy (store/run-rows.ts)
 * when it has one, else loaded from the config (tasks/data-set.ts: generated or read from files,
 * every row checked) and copied into the run folder first. The copy is made once, before any
 * compute (the workflow's prepareData step); a resumed run reads it back and checks its hashes.
 */
import type { ExperimentConfig } from '../configs/schema.js';
import type { TextTokenizer } from '../models/tokenizer.js';
import type { RewardMix } from '../rewards/mix.js';
import { readRunRows, writeRunRows, type RunRows } from '../store/run-rows.js';
import { loadRunData, runRewardMix } from '../tasks/data-set.js';

/** One mix object per config object, so that score-ahead's verdict cache finds it again. */
const mixes = new WeakMap<object, RewardMix>();

export function mixOf(config: Pick<ExperimentConfig, 'rewards'>): RewardMix {
  let mix = mixes.get(config.rewards);
  if (!mix) mixes.set(config.rewards, (mix = runRewardMix(config)));
  return mix;
}

/**
 * The run's rows: its copy, made now if there is none.
 * @throws DataError (tasks/data-error.ts) naming every bad line or row, when the copy has to be made
 */
export function prepareRunRows(config: ExperimentConfig, runDir: string, tokenizer: TextTokenizer): { rows: RunRows; sha256: Record<string, string> } {
  const existing = readRunRows(runDir);
  if (existing) return { rows: existing.rows, sha256: shas(existing.manifest.files) };
  const rows = loadRunData(config, tokenizer);
  const manifest = writeRunRows(runDir, rows, { source: config.data.source });
  return { rows, sha256: shas(manifest.files) };
}

const shas = (files: Record<string, { sha256: string }>) => Object.fromEntries(Object.entries(files).map(([f, e]) => [f, e.sha256]));

/** What a compute session holds of its data: the rows and the reward mix. */
export function runRows(config: ExperimentConfig, runDir: string, tokenizer: TextTokenizer): RunRows & { mix: RewardMix } {
  return { ...prepareRunRows(config, runDir, tokenizer).rows, mix: mixOf(config) };
}
