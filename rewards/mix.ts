/**
 * A run's reward: the verifiers its config names, each with a weight, combined as `sum`, `gate` or
 * `min` (TRL's `reward_funcs` + `reward_weights`). A case that names its own `verifier` is scored by
 * that one alone, as verl dispatches its scorer on a row's `data_source`: the name of a term of the
 * mix, or a built-in verifier.
 *
 * Every term is verified on its own and its verdict is kept (`parts`), so that each reward's mean,
 * correct, error and timeout rates can be reported; {@link combineTerms} then combines them. Under
 * `gate` the terms behind a failed gate are not run (and not counted in their rates).
 */
import { capText } from './reason-cap.js';
import { verifyBatch } from './batch.js';
import { verifyInline } from './inline.js';
import { resolveSpec, UnknownVerifierError } from './registry.js';
import type { BatchOptions, CodeLanguage, CodeTest, Verdict, VerifierSpec, VerifyCase, VerifyStatus } from './types.js';
import type { VerifierPool } from './pool/pool.js';

export type MixMode = 'sum' | 'gate' | 'min';

/** One reward of the mix: its name (in metrics and in rows' `verifier`), weight and spec. */
export interface RewardTerm {
  name: string;
  weight: number;
  spec: VerifierSpec;
}

export interface RewardMix {
  mode: MixMode;
  terms: RewardTerm[];
}

/** What scoring needs of a completion and the row it answers. */
export interface RewardCase {
  completion: string;
  /** The row's gold answer ('' when it has none, e.g. a code row). */
  answer: string;
  tests?: CodeTest[];
  language?: CodeLanguage;
  /** The row's own verifier, replacing the mix for it. */
  verifier?: string;
  /** Cut off by the length limit (no EOS). */
  truncated?: boolean;
}

/** One term's verdict on a case. */
export interface PartVerdict {
  name: string;
  status: VerifyStatus;
  score: number;
}

/** The combined verdict of a case, with the verdict of every term that ran. */
export interface MixVerdict {
  status: VerifyStatus;
  score: number;
  reason: string;
  parts: PartVerdict[];
}

/** One reward of a config's `rewards.mix`: a verifier name, its weight, an optional name and the verifier's options. */
export interface RewardEntry {
  verifier: string;
  weight: number;
  name?: string;
  [option: string]: unknown;
}

/** The spec of an entry: `math`, `code`, `format` and `length` take their options; other names are built-ins. */
function specOf(entry: RewardEntry): VerifierSpec {
  const { verifier, weight: _w, name: _n, ...options } = entry;
  if (verifier === 'math' || verifier === 'code' || verifier === 'format' || verifier === 'length') {
    return { kind: verifier, ...options } as VerifierSpec;
  }
  return resolveSpec(verifier);
}

/** The mix of a config's `rewards` section. */
export function mixFromEntries(mode: MixMode, entries: readonly RewardEntry[]): RewardMix {
  return { mode, terms: entries.map((e) => ({ name: e.name ?? e.verifier, weight: e.weight, spec: specOf(e) })) };
}

/**
 * The terms that score a case: the mix's, or the one its row names (a term's name first, then a
 * built-in verifier, weight 1).
 * @throws UnknownVerifierError when the row names neither
 */
export function termsFor(mix: RewardMix, verifier: string | undefined): RewardTerm[] {
  if (verifier === undefined || verifier === '') return mix.terms;
  const term = mix.terms.find((t) => t.name === verifier);
  if (term) return [{ ...term, weight: 1 }];
  try {
    return [{ name: verifier, weight: 1, spec: resolveSpec(verifier) }];
  } catch (err) {
    if (err instanceof UnknownVerifierError) throw new UnknownVerifierError(verifier, [...mix.terms.map((t) => t.name), ...err.known.filter((k) => !mix.terms.some((t) => t.name === k))]);
    throw err;
  }
}

/** Whether a case needs its row's tests (some term that scores it runs code). */
export function needsTests(terms: RewardTerm[]): boolean {
  const runsCode = (s: VerifierSpec): boolean => s.kind === 'code' || (s.kind === 'compose' && s.parts.some((p) => runsCode(p.spec)));
  return terms.some((t) => runsCode(t.spec));
}

const decided = (status: VerifyStatus) => status === 'correct' || status === 'incorrect';

/**
 * The combined verdict of the verdicts of `terms` (in order; under `gate` only as many as ran).
 *
 *  - `sum`: Σ weight·score; `min`: the smallest score; `gate`: the first reward must be correct,
 *    then Σ weight·score of the others.
 *  - A reward that errored or timed out scores 0 and the others still count, as TRL sums its reward
 *    functions; the combined verdict carries that status (and the reward's reason), so it is counted
 *    as an error or timeout overall and in that reward's own rates, never hidden in a low mean.
 *    Under `gate`, an undecided gate decides nothing: the verdict scores 0.
 *  - A `skipped` reward (the row itself is unusable, e.g. a gold answer that cannot be parsed) makes
 *    the whole verdict skipped: the update leaves the row's group out.
 *
 * A single term keeps its own verdict and reason, its score times its weight.
 */
export function combineTerms(mode: MixMode, terms: RewardTerm[], verdicts: Verdict[]): MixVerdict {
  const parts = verdicts.map((v, k): PartVerdict => ({ name: terms[k].name, status: v.status, score: v.score }));
  if (terms.length === 1) {
    const v = verdicts[0];
    return { status: v.status, score: decided(v.status) ? terms[0].weight * v.score : 0, reason: capText(v.reason), parts };
  }
  const skipped = verdicts.findIndex((v) => v.status === 'skipped');
  if (skipped >= 0) return { status: 'skipped', score: 0, reason: capText(`${terms[skipped].name}: ${verdicts[skipped].reason}`), parts };
  const bad = verdicts.findIndex((v) => !decided(v.status));
  const reason = bad >= 0 ? `${terms[bad].name}: ${verdicts[bad].reason}` : `${mode}(${verdicts.map((v, k) => `${terms[k].name}:${v.status}`).join(' ')})`;
  const scoreOf = (k: number) => (decided(verdicts[k].status) ? verdicts[k].score : 0);
  let score: number;
  let correct: boolean;
  if (mode === 'gate') {
    const gate = verdicts[0];
    correct = verdicts.every((v) => v.status === 'correct');
    score = gate.status === 'correct' ? verdicts.slice(1).reduce((a, _, k) => a + terms[k + 1].weight * scoreOf(k + 1), 0) : 0;
  } else {
    correct = verdicts.every((v) => v.status === 'correct');
    score = mode === 'min' ? Math.min(...verdicts.map((_, k) => scoreOf(k))) : verdicts.reduce((a, _, k) => a + terms[k].weight * scoreOf(k), 0);
  }
  return { status: bad >= 0 ? verdicts[bad].status : correct ? 'correct' : 'incorrect', score, reason: capText(reason), parts };
}

/** An unknown verifier on a row: an error verdict naming it, not a 0. */
const unknownVerdict = (err: Error): MixVerdict => ({ status: 'error', score: 0, reason: capText(err.message), parts: [] });

/**
 * The verdict of one case on this thread, or null when some term needs the verifier pool or a
 * sandbox (`verifyInline`: only checks certain to finish quickly run here).
 */
export function scoreInline(mix: RewardMix, c: RewardCase): MixVerdict | null {
  let terms: RewardTerm[];
  try {
    terms = termsFor(mix, c.verifier);
  } catch (err) {
    if (err instanceof UnknownVerifierError) return unknownVerdict(err);
    throw err;
  }
  const verdicts: Verdict[] = [];
  for (let k = 0; k < terms.length; k++) {
    const v = verifyInline(terms[k].spec, c.completion, c.answer, c.truncated ?? false);
    if (!v) return null;
    verdicts.push(v);
    if (k === 0 && mix.mode === 'gate' && terms.length > 1 && v.status !== 'correct') break;
  }
  return combineTerms(mix.mode, terms, verdicts);
}

/**
 * The verdicts of every case, in order: each term of each case through `verifyBatch` (bounded
 * concurrency, hard timeouts, code in sandboxes), each distinct check once. Under `gate`, gates
 * first, then the other terms of the cases whose gate passed.
 */
export async function scoreCases(mix: RewardMix, cases: RewardCase[], opts: BatchOptions & { pool?: VerifierPool } = {}): Promise<MixVerdict[]> {
  const termsOf: (RewardTerm[] | Error)[] = cases.map((c) => {
    try {
      return termsFor(mix, c.verifier);
    } catch (err) {
      if (err instanceof UnknownVerifierError) return err;
      throw err;
    }
  });
  // Each distinct spec under a key of its own: a term may share a built-in's name with other options.
  const specs: Record<string, VerifierSpec> = {};
  const keyOf = new Map<VerifierSpec, string>();
  const key = (spec: VerifierSpec) => {
    let k = keyOf.get(spec);
    if (k === undefined) keyOf.set(spec, (k = `term#${keyOf.size}`));
    specs[k] = spec;
    return k;
  };
  const verdicts: Verdict[][] = cases.map(() => []);
  const run = async (which: (terms: RewardTerm[], k: number) => number[]) => {
    // Each distinct check once: a group's completions often agree, and a code check is a process per test.
    const unique: VerifyCase[] = [];
    const placeOf = new Map<string, number>();
    const flat: { k: number; t: number; at: number }[] = [];
    cases.forEach((c, k) => {
      const terms = termsOf[k];
      if (terms instanceof Error) return;
      for (const t of which(terms, k)) {
        const verifier = key(terms[t].spec);
        const id = JSON.stringify([verifier, c.completion, c.answer, c.truncated ?? false, c.tests ?? null, c.language ?? null]);
        let at = placeOf.get(id);
        if (at === undefined) {
          placeOf.set(id, (at = unique.length));
          unique.push({ id, verifier, completion: c.completion, gold: c.answer, tests: c.tests, language: c.language, truncated: c.truncated });
        }
        flat.push({ k, t, at });
      }
    });
    const results = await verifyBatch(unique, { ...opts, specs: { ...opts.specs, ...specs } });
    for (const f of flat) verdicts[f.k][f.t] = results[f.at];
  };
  const gated = mix.mode === 'gate';
  await run((terms) => (gated && terms.length > 1 ? [0] : terms.map((_, t) => t)));
  if (gated) {
    await run((terms, k) => (terms.length > 1 && verdicts[k][0]?.status === 'correct' ? terms.slice(1).map((_, t) => t + 1) : []));
  }
  return cases.map((_, k) => {
    const terms = termsOf[k];
    return terms instanceof Error ? unknownVerdict(terms) : combineTerms(mix.mode, terms, verdicts[k]);
  });
}
