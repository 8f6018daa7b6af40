/**
 * SPO-tree files: `rollouts/<iteration>.spo-tree.json` beside the rollout, where each completion
 * sits in its prompt's tree (path and segment ends; tasks/spo-tree.ts). Written with the rollout
 * by the same step and, like it, recomputable bit for bit, so not fsync'd: a torn file reads as
 * absent, and the values step then fails clearly rather than valuing a chain.
 */
import { readRecordedJson, writeFileAtomic } from './atomic-dir.js';
import type { SpoTreeLeaf } from '../tasks/spo-tree.js';

export interface SpoTreeFile {
  branching: number[];
  segmentTokens: number;
  /** One per rollout record, by id. */
  leaves: (SpoTreeLeaf & { id: string })[];
}

export const spoTreeFileFor = (rolloutPath: string) => rolloutPath.replace(/\.jsonl$/, '.spo-tree.json');

export function writeSpoTree(path: string, tree: SpoTreeFile): void {
  writeFileAtomic(path, JSON.stringify(tree), { durable: false });
}

export function readSpoTree(path: string): SpoTreeFile | null {
  return readRecordedJson<SpoTreeFile>(path);
}
