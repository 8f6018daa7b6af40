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

type CaseVerdict = Pick<RewardRecord, 'status' | 'score' | 'reason'>;

/**
 * Verdicts of cases seen in earlier rollouts, by case (built-in verifier names only, so a key's spec
 * never changes). About 70% of a demo iteration's distinct cases were seen in the ten before. On
 * wasm, scoring an iteration took 5.8-7.2 ms without this, 3.3-4.2 ms with it; on native 2.7-3.3 ms
 * and 2.3-2.6 ms (the wasm runs spend ~5x native's time in GC, some of it inside scoring). Cleared
 * when it reaches MAX_REMEMBERED entries (a few MB).
 */
const remembered = new Map<string, CaseVerdict>();
const MAX_REMEMBERED = 20_000;

/**
 * The verdicts of every case, checked on this thread; null when some case needs the verifier pool.
 * Inline verifiers are pure, so a case seen before reuses its verdict: in the batch (a group's
 * completions often agree; the demo's 1024 completions hold ~440 distinct cases) or in an earlier
 * rollout.
 */
export function scoreInline(cases: ScoreCase[]): DistinctVerdicts | null {
  const verdicts: DistinctVerdicts = { status: [], score: [], reason: [], of: new Int32Array(cases.length) };
  const seen = new Map<string, number>();
  for (const [k, c] of cases.entries()) {
    const key = `${c.verifier}\u0000${c.answer}\u0000${c.completion}`;
    let at = seen.get(key);
    if (at === undefined) {
      let checked: CaseVerdict | null | undefined = remembered.get(key);
      if (!checked) {
        try {
          checked = verifyInline(resolveSpec(c.verifier), c.completion, c.answer);
        } catch {
          return null; // an unknown verifier: the score activity reports it
        }
        if (!checked) return null;
        if (remembered.size >= MAX_REMEMBERED) remembered.clear();
        remembered.set(key, { status: checked.status, score: checked.score, reason: checked.reason });
      }
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
