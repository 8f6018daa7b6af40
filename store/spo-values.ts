/**
 * SPO values files: `rollouts/<iteration>.spo.json` beside the rollout, the Monte Carlo values of
 * every completion's kept cutpoints (the SPO method step's output, the update's input). Written
 * once, atomically; a file that exists is the step's recorded result. Like the rollout and rewards
 * files it is per-iteration state, recomputable bit for bit, so it is not fsync'd: a file torn by a
 * machine crash reads as absent and the step runs again.
 */
import { readRecordedJson, writeFileAtomic } from './atomic-dir.js';

/** The values of one completion (a rollout record, by id). */
export interface SpoValueRecord {
  id: string;
  /** Kept cutpoints, ascending: the response index after which the state is valued; −1 = the prompt state. */
  cutpoints: number[];
  /** V(s_c) at each cutpoint: the mean reward of its continuations (at −1: `v0`). */
  values: number[];
  /** V(s_0), the prompt state's value: the mean reward of the completion's group. */
  v0: number;
}

export interface SpoValuesFile {
  iteration: number;
  /** The settings the values were computed with. */
  probThreshold: number;
  cutpointInterval: number;
  samples: number;
  /** Continuations sampled in all. */
  continuations: number;
  records: SpoValueRecord[];
}

export const spoValuesFileFor = (rolloutPath: string) => rolloutPath.replace(/\.jsonl$/, '.spo.json');

export function writeSpoValues(path: string, values: SpoValuesFile): void {
  writeFileAtomic(path, JSON.stringify(values), { durable: false });
}

/** The recorded values, or null when there are none yet (or the file was torn). */
export function readSpoValues(path: string): SpoValuesFile | null {
  return readRecordedJson<SpoValuesFile>(path);
}
