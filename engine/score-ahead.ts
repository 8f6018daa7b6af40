/**
 * Scoring on the compute host, ahead of the workflow's score activity (see run-ahead.ts): only when
 * every completion of the rollout can be verified inline (`verifyInline`: plain integers, linear
 * format checks), so nothing here can hang the host. RunSessions.scoreRollout writes the verdicts
 * to the file the cpu worker's score activity writes for the same rollout, which then finds it and
 * returns its summary.
 */
import { scoreInline as scoreCaseInline, type RewardMix } from '../rewards/mix.js';
import { rewardRecords, type DistinctVerdicts, type RewardRecord, type RolloutRecord } from '../store/rollout-files.js';

/** What scoring needs of a rollout record. */
export type ScoreCase = Pick<RolloutRecord, 'verifier' | 'answer' | 'completion' | 'finished' | 'tests' | 'language'>;

type CaseVerdict = Required<Pick<RewardRecord, 'status' | 'score' | 'reason' | 'parts'>>;

/** One key per distinct reward mix (its JSON), so that verdicts of different mixes never mix. */
const mixKeys = new WeakMap<RewardMix, string>();
const mixKey = (mix: RewardMix) => {
  let key = mixKeys.get(mix);
  if (key === undefined) mixKeys.set(mix, (key = JSON.stringify(mix)));
  return key;
};

/**
 * Verdicts of cases seen in earlier rollouts: by reward mix, row verifier and gold answer, then by
 * completion and whether it was truncated. About 70% of a demo iteration's
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

function intern(v: CaseVerdict): CaseVerdict {
  const key = `${v.status}\u0000${v.score}\u0000${v.reason}\u0000${JSON.stringify(v.parts)}`;
  let verdict = interned.get(key);
  if (!verdict) interned.set(key, (verdict = { status: v.status, score: v.score, reason: v.reason, parts: v.parts }));
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
export function scoreInline(mix: RewardMix, cases: ScoreCase[]): DistinctVerdicts | null {
  if (rememberedCases >= MAX_REMEMBERED) {
    remembered.clear();
    interned.clear();
    rememberedCases = 0;
  }
  const verdicts: DistinctVerdicts = { status: [], score: [], reason: [], parts: [], of: new Int32Array(cases.length) };
  const placeOf = new Map<CaseVerdict, number>(); // one verdict object per value, so one place per value
  let byCompletion = new Map<string, CaseVerdict>();
  const mixPrefix = mixKey(mix);
  for (let k = 0; k < cases.length; k++) {
    const c = cases[k];
    const previous = cases[k - 1];
    if (k === 0 || c.verifier !== previous.verifier || c.answer !== previous.answer) {
      const key = `${mixPrefix}\u0000${c.verifier}\u0000${c.answer}`;
      let found = remembered.get(key);
      if (!found) remembered.set(key, (found = new Map()));
      byCompletion = found;
    }
    // A truncated completion may be judged differently (VerifyCase.truncated), so it is its own case.
    const caseKey = c.finished ? c.completion : `${c.completion}\u0000truncated`;
    let verdict = byCompletion.get(caseKey);
    if (!verdict) {
      if (c.tests) return null; // code runs in sandboxes, never here
      const checked = scoreCaseInline(mix, { completion: c.completion, answer: c.answer, verifier: c.verifier, truncated: !c.finished });
      if (!checked) return null;
      verdict = intern(checked);
      byCompletion.set(caseKey, verdict);
      rememberedCases++;
    }
    let at = placeOf.get(verdict);
    if (at === undefined) {
      at = verdicts.status.push(verdict.status) - 1;
      verdicts.score.push(verdict.score);
      verdicts.reason.push(verdict.reason);
      verdicts.parts.push(verdict.parts);
      placeOf.set(verdict, at);
    }
    verdicts.of[k] = at;
  }
  return verdicts;
}

/** The reward records of a rollout, checked on this thread; null when some case needs the verifier pool. */
export function verdictsInline(mix: RewardMix, rollouts: (ScoreCase & Pick<RolloutRecord, 'id'>)[]): RewardRecord[] | null {
  const scored = scoreInline(mix, rollouts);
  return scored && rewardRecords(rollouts.map((r) => r.id), scored);
}
