/**
 * Rollout files: `rollouts/<iteration>.jsonl`, one sampled completion a line, and beside it
 * `<iteration>.rewards.json` with the verifier's verdict for each. Written once, atomically.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface RolloutRecord {
  /** `<iteration>-<prompt index>-<sample index>`; unique within the run. */
  id: string;
  promptId: string;
  /** Completions of one prompt share a group (GRPO's baseline is taken within it). */
  group: number;
  prompt: string;
  answer: string;
  verifier: string;
  completion: string;
  promptTokens: number[];
  tokens: number[];
  logprobs: number[];
  entropies: number[];
  finished: boolean;
}

export interface RewardRecord {
  id: string;
  status: 'correct' | 'incorrect' | 'error' | 'timeout' | 'skipped';
  score: number;
  reason: string;
}

export const rolloutFile = (runDir: string, iteration: number) => join(runDir, 'rollouts', `${iteration}.jsonl`);
export const rewardsFileFor = (rolloutPath: string) => rolloutPath.replace(/\.jsonl$/, '.rewards.json');

/** Write text to `path` atomically (temporary file, fsync, rename). */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function writeRollouts(path: string, records: RolloutRecord[]): void {
  writeFileAtomic(path, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

export function readRollouts(path: string): RolloutRecord[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as RolloutRecord);
}

export function readRewards(rolloutPath: string): RewardRecord[] | null {
  const path = rewardsFileFor(rolloutPath);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as RewardRecord[]) : null;
}
