/**
 * Rollout files: `rollouts/<iteration>.jsonl`, one sampled completion a line, and beside it
 * `<iteration>.rewards.json` with the verifier's verdict for each, and `<iteration>.metrics.json` with
 * the rollout step's metrics. Each written once, atomically but not durably (see atomic-dir.ts):
 * all of them are recomputed, identically, if a machine crash loses or tears them.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
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
 * Write the rollout file and, before it, the rollout step's recorded metrics (timings included) with
 * the file's length, so that asking again for an existing rollout returns what the step measured, and
 * a file torn by a machine crash (these writes are atomic, not fsync'd) is recognised and redone.
 */
export function writeRollouts(path: string, records: RolloutRecord[], metrics: Record<string, number> = {}): void {
  const text = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
  writeFileAtomic(metricsFileFor(path), JSON.stringify({ bytes: Buffer.byteLength(text), metrics }), { durable: false });
  writeFileAtomic(path, text, { durable: false });
}

/** The recorded metrics of a complete rollout file; null when it is missing, torn, or unrecorded. */
export function readRolloutMetrics(path: string): Record<string, number> | null {
  try {
    const recorded = JSON.parse(readFileSync(metricsFileFor(path), 'utf8')) as { bytes: number; metrics: Record<string, number> };
    return statSync(path).size === recorded.bytes ? recorded.metrics : null;
  } catch {
    return null;
  }
}

export function readRollouts(path: string): RolloutRecord[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as RolloutRecord);
}

/** The verdicts of a rollout file's records, in its order; atomic, so a reader sees all or nothing. */
export function writeRewards(rolloutPath: string, records: RewardRecord[]): void {
  writeFileAtomic(rewardsFileFor(rolloutPath), JSON.stringify(records), { durable: false });
}

/** The verdicts, or null when the file is missing or torn (then scoring runs again). */
export function readRewards(rolloutPath: string): RewardRecord[] | null {
  const path = rewardsFileFor(rolloutPath);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RewardRecord[];
  } catch {
    return null;
  }
}
