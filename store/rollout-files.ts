/**
 * Rollout files: `rollouts/<iteration>.jsonl`, one sampled completion a line, and beside it
 * `<iteration>.rewards.json` with the verifier's verdict for each, and `<iteration>.metrics.json` with
 * the rollout step's metrics. Each written once, atomically.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VerifyStatus } from '../rewards/index.js';
import { writeFileAtomic } from './atomic-dir.js';

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
  status: VerifyStatus;
  score: number;
  reason: string;
}

export const rolloutFile = (runDir: string, iteration: number) => join(runDir, 'rollouts', `${iteration}.jsonl`);
export const rewardsFileFor = (rolloutPath: string) => rolloutPath.replace(/\.jsonl$/, '.rewards.json');
const metricsFileFor = (rolloutPath: string) => rolloutPath.replace(/\.jsonl$/, '.metrics.json');

/**
 * The rollout step's recorded metrics (timings included), so that asking again for an existing
 * rollout returns what the step measured. Written before the rollout file, which marks it done.
 */
export function writeRolloutMetrics(rolloutPath: string, metrics: Record<string, number>): void {
  writeFileAtomic(metricsFileFor(rolloutPath), JSON.stringify(metrics));
}

export function readRolloutMetrics(rolloutPath: string): Record<string, number> | null {
  const path = metricsFileFor(rolloutPath);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>) : null;
}

export function writeRollouts(path: string, records: RolloutRecord[]): void {
  writeFileAtomic(path, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

export function readRollouts(path: string): RolloutRecord[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as RolloutRecord);
}

/** The verdicts of a rollout file's records, in its order; atomic, so a reader sees all or nothing. */
export function writeRewards(rolloutPath: string, records: RewardRecord[]): void {
  writeFileAtomic(rewardsFileFor(rolloutPath), JSON.stringify(records));
}

export function readRewards(rolloutPath: string): RewardRecord[] | null {
  const path = rewardsFileFor(rolloutPath);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as RewardRecord[]) : null;
}
