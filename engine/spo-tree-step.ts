/**
 * What a run does differently under SPO-tree (objective.spo.mode: tree; tasks/spo-tree.ts): the
 * rollout samples a tree per prompt and records where each completion sits; the values step reads
 * the node values off the leaves' rewards instead of sampling continuations; the update trains each
 * edge once. Kept beside run-sessions.ts so that the session code only branches on the mode.
 */
import type { ExperimentConfig } from '../configs/schema.js';
import type { CausalLM } from '../models/causal-lm.js';
import type { PromptInput, TextTokenizer } from '../models/tokenizer.js';
import type { Rng } from '../common/rng.js';
import type { RolloutRecord } from '../store/rollout-files.js';
import { readSpoTree, spoTreeFileFor, writeSpoTree } from '../store/spo-trees.js';
import type { SpoValueRecord, SpoValuesFile } from '../store/spo-values.js';
import type { RolloutBatch } from '../tasks/recipe.js';
import { spoTreeRollout, spoTreeValues, type SpoTreeLeaf, type SpoTreeValueRecord } from '../tasks/spo-tree.js';

/** Bad run state; its name makes the workflows treat it as non-retryable (as run-sessions.ts's own). */
class DataError extends Error {
  override name = 'DataError';
}

export function isSpoTree(config: ExperimentConfig): boolean {
  return config.objective.name === 'spo' && config.objective.spo.mode === 'tree';
}

/** The iteration's tree rollout (Π branching completions per prompt, consecutive per prompt). */
export function treeRollout(model: CausalLM, prompts: PromptInput[], config: ExperimentConfig, rng: Rng, tokenizer: TextTokenizer): { batch: RolloutBatch; leaves: SpoTreeLeaf[] } {
  const { rollout } = config;
  return spoTreeRollout(model, prompts, {
    branching: config.objective.spo.tree.branching, segmentTokens: config.objective.spo.tree.segmentTokens,
    temperature: rollout.temperature, maxNewTokens: rollout.maxNewTokens, topK: rollout.topK, topP: rollout.topP, stop: [...rollout.stop], rng, tokenizer,
  });
}

/** Writes where each record sits in its tree, beside the rollout file (before it, so a rollout on disk has its tree). */
export function writeTreeOf(rolloutPath: string, config: ExperimentConfig, leaves: SpoTreeLeaf[], records: RolloutRecord[]): void {
  writeSpoTree(spoTreeFileFor(rolloutPath), {
    branching: [...config.objective.spo.tree.branching], segmentTokens: config.objective.spo.tree.segmentTokens,
    leaves: leaves.map((l, k) => ({ ...l, id: records[k].id })),
  });
}

/** The values file of a tree iteration: node values from the kept completions' rewards, no continuations. */
export function treeValues(rolloutPath: string, iteration: number, config: ExperimentConfig, kept: RolloutRecord[], rewards: number[]): SpoValuesFile {
  const tree = readSpoTree(spoTreeFileFor(rolloutPath));
  if (!tree) throw new DataError(`objective spo (tree) but ${spoTreeFileFor(rolloutPath)} is missing or torn: remove ${rolloutPath} to sample the iteration again`);
  const byId = new Map(tree.leaves.map((l) => [l.id, l]));
  const leaves = kept.map((r) => {
    const leaf = byId.get(r.id);
    if (!leaf) throw new DataError(`${spoTreeFileFor(rolloutPath)} has no leaf for completion ${r.id}`);
    return { ...leaf, id: r.id, group: r.group, length: r.tokens.length };
  });
  const { probThreshold, cutpointInterval } = config.objective.spo;
  return { iteration, probThreshold, cutpointInterval, samples: 0, continuations: 0, records: spoTreeValues(leaves, rewards) };
}

/**
 * Tokens each completion trains under SPO-tree: from its `trainFrom` on (a shared segment trains in
 * one leaf) and only where the segment advantage is not 0 (the code drops zero-advantage edges).
 */
export function treeTokenKeep(ids: string[], advantages: number[][], values: ReadonlyMap<string, SpoValueRecord>): boolean[][] {
  return ids.map((id, k) => {
    const from = (values.get(id) as SpoTreeValueRecord | undefined)?.trainFrom;
    if (from === undefined) throw new DataError(`SPO-tree values of completion ${id} have no trainFrom (a chain values file?)`);
    return advantages[k].map((a, t) => t >= from && a !== 0);
  });
}
