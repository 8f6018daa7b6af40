/**
 * Scoring on the compute host, ahead of the workflow's score activity (see run-ahead.ts): only when
 * every completion of the rollout can be verified inline (`verifyInline`: plain integers, linear
 * format checks), so nothing here can hang the host. RunSessions.scoreRollout writes the verdicts
 * to the file the cpu worker's score activity writes for the same rollout, which then finds it and
 * returns its summary.
 */
import { resolveSpec } from '../rewards/index.js';
import { verifyInline } from '../rewards/inline.js';
import { rewardRecords, type DistinctVerdicts, type RewardRecord, type RolloutRecord } from '../store/rollout-files.js';

/** What scoring needs of a rollout record. */
export type ScoreCase = Pick<RolloutRecord, 'verifier' | 'answer' | 'completion'>;

/**
 * The verdicts of every case, checked on this thread; null when some case needs the verifier pool.
 * Inline verifiers are pure, so a case seen before in the batch reuses its verdict: a group's
 * completions often agree (the demo's 1024 completions hold ~440 distinct cases).
 */
export function scoreInline(cases: ScoreCase[]): DistinctVerdicts | null {
  const verdicts: DistinctVerdicts = { status: [], score: [], reason: [], of: new Int32Array(cases.length) };
  const seen = new Map<string, number>();
  for (const [k, c] of cases.entries()) {
    const key = `${c.verifier}\u0000${c.answer}\u0000${c.completion}`;
    let at = seen.get(key);
    if (at === undefined) {
      let checked;
      try {
        checked = verifyInline(resolveSpec(c.verifier), c.completion, c.answer);
      } catch {
        return null; // an unknown verifier: the score activity reports it
      }
      if (!checked) return null;
      at = verdicts.status.push(checked.status) - 1;
      verdicts.score.push(checked.score);
      verdicts.reason.push(checked.reason);
      seen.set(key, at);
    }
    verdicts.of[k] = at;
  }
  return verdicts;
}

/** The reward records of a rollout, checked on this thread; null when some case needs the verifier pool. */
export function verdictsInline(rollouts: (ScoreCase & Pick<RolloutRecord, 'id'>)[]): RewardRecord[] | null {
  const scored = scoreInline(rollouts);
  return scored && rewardRecords(rollouts.map((r) => r.id), scored);
}
