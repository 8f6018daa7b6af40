/**
 * SPO-chain's method step on the built-in policy (Guo et al., arXiv 2505.23564 §4.1; the math and
 * its sources are in losses/policy/spo.ts): Monte Carlo values at each completion's kept cutpoints,
 * and the per-token chain advantages the update trains on.
 *
 *  - Cutpoints: `spoCutpoints` of the rollout's old-policy token probabilities: a token with
 *    p < probThreshold puts a cutpoint just before it, and every k-th cutpoint is kept.
 *  - V(s_c), c ≥ 0: the mean reward of N continuations sampled with the current policy from
 *    prompt ⊕ y_≤c, with the rollout's temperature and sampling filters, scored by the caller.
 *    All prefixes are generated together, batched by remaining token budget (so a long prefix never
 *    shortens another row's budget); every row has its own random stream, forked in a fixed order,
 *    so the values do not depend on how rows are batched.
 *  - V(s_0): the mean reward of the completion's group. The G completions are samples from the
 *    prompt state under the same policy, so their mean is a Monte Carlo estimate of V(s_0) with G
 *    samples that costs no generation (it includes the completion's own reward). A cutpoint at −1
 *    (a risky first token) is valued the same way. This is the paper's formulation; the official
 *    code gives the first segment 0 instead when V(s_0) is not estimated.
 *  - A continuation is scored like a rollout completion: a truncated one gets what the verifier
 *    gives it (the SPO code's `unfinished_response_penalty` is not reproduced). Stop strings are
 *    checked on the continuation's own text, so one that would span the prefix boundary is missed.
 */
import { spoChainAdvantages, spoCutpoints } from '../losses/index.js';
import type { Rng } from '../common/rng.js';
import type { CausalLM } from '../models/causal-lm.js';
import { generate } from '../models/generate.js';
import type { TextTokenizer } from '../models/tokenizer.js';
import type { SpoValueRecord } from '../store/spo-values.js';

/** One rollout completion, as the SPO step needs it. */
export interface SpoInput {
  id: string;
  /** Completions of one prompt share a group, and with it V(s_0). */
  group: number;
  promptTokens: number[];
  tokens: number[];
  /** Old-policy (sampling) log-prob of each token. */
  logprobs: number[];
  reward: number;
}

/** How SPO samples beyond a prefix, chain or tree: the rollout's own sampling settings. */
export interface SpoSamplingOptions {
  temperature: number;
  /** The rollout's completion budget: no completion, prefix included, runs past it. */
  maxNewTokens: number;
  topK?: number;
  topP?: number;
  stop?: string[];
  rng: Rng;
  tokenizer: TextTokenizer;
}

export interface SpoValueOptions extends SpoSamplingOptions {
  probThreshold: number;
  cutpointInterval: number;
  /** Continuations per kept cutpoint (N). */
  samples: number;
  /** Rows generated per batch (default: every row of one budget at once). */
  batchSize?: number;
}

/**
 * Rewards of continuations: `completion` is the whole response text (prefix and continuation) of
 * input `index`; `truncated` when it was cut off by the length limit.
 */
export type ContinuationScorer = (cases: { index: number; completion: string; truncated: boolean }[]) => Promise<number[]> | number[];

export interface SpoValues {
  records: SpoValueRecord[];
  /** Continuations sampled in all. */
  continuations: number;
}

interface Row {
  input: number;
  /** Index into the input's cutpoints. */
  cut: number;
  prefix: number[];
  budget: number;
  rng: Rng;
}

export async function spoMonteCarloValues(model: CausalLM, inputs: SpoInput[], score: ContinuationScorer, o: SpoValueOptions): Promise<SpoValues> {
  const groups = new Map<number, { sum: number; n: number }>();
  for (const x of inputs) {
    const g = groups.get(x.group) ?? { sum: 0, n: 0 };
    g.sum += x.reward;
    g.n++;
    groups.set(x.group, g);
  }
  const v0Of = (group: number) => groups.get(group)!.sum / groups.get(group)!.n;
  const cuts = inputs.map((x) => spoCutpoints(x.logprobs.map(Math.exp), { threshold: o.probThreshold, interval: o.cutpointInterval }));

  // 1) every continuation row, its random stream forked in (input, cutpoint, sample) order
  const rows: Row[] = [];
  inputs.forEach((x, i) => cuts[i].forEach((c, k) => {
    if (c < 0) return; // the prompt state: valued by the group mean
    const prefix = x.tokens.slice(0, c + 1);
    for (let j = 0; j < o.samples; j++) rows.push({ input: i, cut: k, prefix, budget: o.maxNewTokens - prefix.length, rng: o.rng.fork(`cut/${i}/${c}/${j}`) });
  }));

  // 2) generate, batched by remaining budget
  const texts = new Array<string>(rows.length);
  const truncated = new Array<boolean>(rows.length).fill(true);
  const byBudget = new Map<number, number[]>();
  rows.forEach((r, n) => {
    const ids = byBudget.get(r.budget);
    if (ids) ids.push(n);
    else byBudget.set(r.budget, [n]);
  });
  const stop = o.stop?.length ? { stop: o.stop, decode: (ids: number[]) => o.tokenizer.decode(ids) } : {};
  for (const [budget, ids] of [...byBudget].sort((a, b) => a[0] - b[0])) {
    if (budget <= 0) {
      for (const n of ids) {
        texts[n] = o.tokenizer.decode(rows[n].prefix);
        truncated[n] = rows[n].prefix[rows[n].prefix.length - 1] !== o.tokenizer.eos;
      }
      continue;
    }
    const bs = o.batchSize ?? ids.length;
    for (let s = 0; s < ids.length; s += bs) {
      const chunk = ids.slice(s, s + bs);
      const gens = generate(model, chunk.map((n) => [...inputs[rows[n].input].promptTokens, ...rows[n].prefix]), {
        maxNewTokens: budget, temperature: o.temperature, rng: chunk.map((n) => rows[n].rng),
        eosId: o.tokenizer.stopIds, padId: o.tokenizer.pad, topK: o.topK, topP: o.topP, ...stop,
      });
      gens.forEach((g, k) => {
        texts[chunk[k]] = o.tokenizer.decode([...rows[chunk[k]].prefix, ...g.tokens]);
        truncated[chunk[k]] = !g.finished;
      });
    }
  }

  // 3) score, and average per cutpoint
  const rewards = await score(rows.map((r, n) => ({ index: r.input, completion: texts[n], truncated: truncated[n] })));
  if (rewards.length !== rows.length) throw new Error(`spoMonteCarloValues: ${rewards.length} scores for ${rows.length} continuations`);
  const sums = cuts.map((cs) => cs.map(() => 0));
  rows.forEach((r, n) => { sums[r.input][r.cut] += rewards[n]; });
  const records = inputs.map((x, i): SpoValueRecord => {
    const v0 = v0Of(x.group);
    return { id: x.id, cutpoints: cuts[i], values: cuts[i].map((c, k) => (c < 0 ? v0 : sums[i][k] / o.samples)), v0 };
  });
  return { records, continuations: rows.length };
}

/** Per-token chain advantages of each completion (`spoChainAdvantages`), from its values record and its reward. */
export function spoTokenAdvantages(items: { id: string; tokens: number[] }[], rewards: number[], values: ReadonlyMap<string, SpoValueRecord>): number[][] {
  if (rewards.length !== items.length) throw new Error(`spoTokenAdvantages: ${rewards.length} rewards for ${items.length} completions`);
  return items.map((it, i) => {
    const v = values.get(it.id);
    if (!v) throw new Error(`spoTokenAdvantages: no SPO values for completion ${it.id}`);
    return spoChainAdvantages({ length: it.tokens.length, cutpoints: v.cutpoints, values: v.values, v0: v.v0, reward: rewards[i] });
  });
}
