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
 * Verdicts of cases seen in earlier rollouts: by verifier and gold answer (built-in verifier names
 * only, so a key's spec never changes), then by completion. About 70% of a demo iteration's
 * distinct cases were seen in the ten before. On wasm, scoring an iteration took 5.8-7.2 ms without
 * this, 3.3-4.2 ms with it; on native 2.7-3.3 ms and 2.3-2.6 ms (the wasm runs spend ~5x native's
 * time in GC, some of it inside scoring). Cleared before a rollout once it holds MAX_REMEMBERED
 * cases (a few MB).
 */
const remembered = new Map<string, Map<string, CaseVerdict>>();
let rememberedCases = 0;
const MAX_REMEMBERED = 20_000;

/**
 * One object per distinct verdict value, shared by every case that has it: a rollout's verdicts are
 * then stored once per value, not once per case. The demo's exact-integer verdicts take three values
 * (wrong format, wrong number, right), so its rewards go to the writer thread as 3 verdicts instead
 * of ~440. Cleared with `remembered`.
 */
const interned = new Map<string, CaseVerdict>();

function intern(status: CaseVerdict['status'], score: number, reason: string): CaseVerdict {
  const key = `${status}\u0000${score}\u0000${reason}`;
  let verdict = interned.get(key);
  if (!verdict) interned.set(key, (verdict = { status, score, reason }));
  return verdict;
}

/**
 * The verdicts of every case, checked on this thread; null when some case needs the verifier pool.
 * Inline verifiers are pure, so a case seen before reuses its verdict: in the batch (a group's
 * completions often agree; the demo's 1024 completions hold ~440 distinct cases) or in an earlier
 * rollout. A group's records come one after another with the same verifier and gold answer, so
 * their completions are looked up in one map found once, not under a key joined for each record:
 * scoring a demo iteration on native took 2.2 ms with the joined keys, 1.6-1.9 ms with this.
 */
export function scoreInline(cases: ScoreCase[]): DistinctVerdicts | null {
  if (rememberedCases >= MAX_REMEMBERED) {
    remembered.clear();
    interned.clear();
    rememberedCases = 0;
  }
  const verdicts: DistinctVerdicts = { status: [], score: [], reason: [], of: new Int32Array(cases.length) };
  const placeOf = new Map<CaseVerdict, number>(); // one verdict object per value, so one place per value
  let byCompletion = new Map<string, CaseVerdict>();
  for (const [k, c] of cases.entries()) {
    const previous = cases[k - 1];
    if (k === 0 || c.verifier !== previous.verifier || c.answer !== previous.answer) {
      const key = `${c.verifier}\u0000${c.answer}`;
      let found = remembered.get(key);
      if (!found) remembered.set(key, (found = new Map()));
      byCompletion = found;
    }
    let verdict = byCompletion.get(c.completion);
    if (!verdict) {
      let checked;
      try {
        checked = verifyInline(resolveSpec(c.verifier), c.completion, c.answer);
      } catch {
        return null; // an unknown verifier: the score activity reports it
      }
      if (!checked) return null;
      verdict = intern(checked.status, checked.score, checked.reason);
      byCompletion.set(c.completion, verdict);
      rememberedCases++;
    }
    let at = placeOf.get(verdict);
    if (at === undefined) {
      at = verdicts.status.push(verdict.status) - 1;
      verdicts.score.push(verdict.score);
      verdicts.reason.push(verdict.reason);
      placeOf.set(verdict, at);
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
