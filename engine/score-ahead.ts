/**
 * Scoring on the compute host, ahead of the workflow's score activity (see run-ahead.ts): only when
 * every completion of the rollout can be verified inline (`verifyInline`: plain integers, linear
 * format checks), so nothing here can hang the host. The file written is the one the cpu worker's
 * score activity writes for the same rollout, which then finds it and returns its summary.
 */
import { resolveSpec } from '../rewards/index.js';
import { verifyInline } from '../rewards/inline.js';
import { readRewards, readRollouts, writeRewards, type RewardRecord, type RolloutRecord } from '../store/rollout-files.js';

/**
 * True when the rollout's rewards file exists (now); false when some case needs the verifier pool.
 * `rollouts`: the file's records when the caller has them in memory.
 */
export function scoreAhead(rolloutPath: string, rollouts?: RolloutRecord[]): boolean {
  if (readRewards(rolloutPath)) return true;
  const records: RewardRecord[] = [];
  for (const r of rollouts ?? readRollouts(rolloutPath)) {
    let verdict;
    try {
      verdict = verifyInline(resolveSpec(r.verifier), r.completion, r.answer);
    } catch {
      return false; // an unknown verifier: the score activity reports it
    }
    if (!verdict) return false;
    records.push({ id: r.id, status: verdict.status, score: verdict.score, reason: verdict.reason });
  }
  writeRewards(rolloutPath, records);
  return true;
}
