/**
 * Scoring on the compute host, ahead of the workflow's score activity (see run-ahead.ts): only when
 * every completion of the rollout can be verified inline (`verifyInline`: plain integers, linear
 * format checks), so nothing here can hang the host. The file written is the one the cpu worker's
 * score activity writes for the same rollout, which then finds it and returns its summary.
 */
import { resolveSpec } from '../rewards/index.js';
import { verifyInline } from '../rewards/inline.js';
import { readRewards, readRollouts, writeRewards, type RewardRecord, type RolloutRecord } from '../store/rollout-files.js';

/** The verdicts of every record, checked on this thread; null when some case needs the verifier pool. */
export function verdictsInline(rollouts: RolloutRecord[]): RewardRecord[] | null {
  const records: RewardRecord[] = [];
  for (const r of rollouts) {
    let verdict;
    try {
      verdict = verifyInline(resolveSpec(r.verifier), r.completion, r.answer);
    } catch {
      return null; // an unknown verifier: the score activity reports it
    }
    if (!verdict) return null;
    records.push({ id: r.id, status: verdict.status, score: verdict.score, reason: verdict.reason });
  }
  return records;
}

/**
 * The rollout's verdicts once its rewards file exists (now, written here if need be); null when
 * some case needs the verifier pool. `rollouts`: the file's records when the caller has them in memory.
 */
export function scoreAhead(rolloutPath: string, rollouts?: RolloutRecord[]): RewardRecord[] | null {
  const recorded = readRewards(rolloutPath);
  if (recorded) return recorded;
  const records = verdictsInline(rollouts ?? readRollouts(rolloutPath));
  if (records) writeRewards(rolloutPath, records);
  return records;
}
