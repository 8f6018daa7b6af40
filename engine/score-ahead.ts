/**
 * Scoring on the compute host, ahead of the workflow's score activity (see run-ahead.ts): only when
 * every completion of the rollout can be verified inline (`verifyInline`: plain integers, linear
 * format checks), so nothing here can hang the host. RunSessions.scoreRollout writes the verdicts
 * to the file the cpu worker's score activity writes for the same rollout, which then finds it and
 * returns its summary.
 */
import { resolveSpec } from '../rewards/index.js';
import { verifyInline } from '../rewards/inline.js';
import type { RewardRecord, RolloutRecord } from '../store/rollout-files.js';

/**
 * The verdicts of every record, checked on this thread; null when some case needs the verifier pool.
 * Inline verifiers are pure, so a case seen before in the batch reuses its verdict: a group's
 * completions often agree (the demo's 1024 completions hold ~440 distinct cases).
 */
export function verdictsInline(rollouts: RolloutRecord[]): RewardRecord[] | null {
  const records: RewardRecord[] = [];
  const seen = new Map<string, Omit<RewardRecord, 'id'>>();
  for (const r of rollouts) {
    const key = `${r.verifier}\u0000${r.answer}\u0000${r.completion}`;
    let verdict = seen.get(key);
    if (!verdict) {
      let checked;
      try {
        checked = verifyInline(resolveSpec(r.verifier), r.completion, r.answer);
      } catch {
        return null; // an unknown verifier: the score activity reports it
      }
      if (!checked) return null;
      verdict = { status: checked.status, score: checked.score, reason: checked.reason };
      seen.set(key, verdict);
    }
    records.push({ id: r.id, ...verdict });
  }
  return records;
}
