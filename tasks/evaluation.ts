/**
 * Held-out evaluation: the model answers rows it never trained on, and the run's own reward mix
 * judges the answers (the same verifiers, weights and composition as training).
 *
 *  - greedy: one completion per row at temperature 0. `eval/accuracy` is the share of rows whose
 *    verdict is correct, `eval/<name>/accuracy` the same for each reward of the mix (over the rows
 *    it scored), plus `eval/meanLength` (completion tokens, EOS included) and `eval/truncated` (share
 *    cut off by the length limit).
 *  - sampled (`samples` n > 1): n completions per row at the rollout's temperature and filters.
 *    `eval/pass@k` for k = 1, 2, 4, ... up to n (and n) with the unbiased estimator of Chen et al.
 *    (2021, "Evaluating Large Language Models Trained on Code"): 1 − C(n−c, k) / C(n, k) per row, c of
 *    its n samples correct, averaged over rows; `eval/mean@n` the mean reward of the samples; per
 *    reward `eval/<name>/pass@k`.
 */
import { evalMetric, type Metrics } from '../common/metrics.js';
import type { Rng } from '../common/rng.js';
import type { CausalLM } from '../models/causal-lm.js';
import { generate, type Generation } from '../models/generate.js';
import type { TextTokenizer } from '../models/tokenizer.js';
import { scoreCases, type MixVerdict, type RewardMix } from '../rewards/mix.js';
import type { Row } from './rows.js';

export interface EvaluationOptions {
  tokenizer: TextTokenizer;
  mix: RewardMix;
  maxNewTokens: number;
  /** Sampled completions per row beside the greedy one (1 = greedy only). */
  samples?: number;
  /** For the samples: the rollout's temperature, filters and stop strings, and the stream they draw from. */
  sampling?: { temperature: number; topK?: number; topP?: number; stop?: string[]; rng: Rng };
  /** Rows generated per batch (default 256). */
  batchSize?: number;
}

/** Unbiased pass@k of one problem with `c` of `n` samples correct (Chen et al. 2021, numerically stable form). */
export function passAtK(n: number, c: number, k: number): number {
  if (k > n) throw new Error(`passAtK: k (${k}) > n (${n})`);
  if (n - c < k) return 1;
  let allWrong = 1;
  for (let i = n - c + 1; i <= n; i++) allWrong *= 1 - k / i;
  return 1 - allWrong;
}

/** The k reported for n samples: powers of two below n, and n. */
export const passKs = (n: number): number[] => [...new Set([...Array.from({ length: Math.floor(Math.log2(n)) + 1 }, (_, i) => 2 ** i).filter((k) => k < n), n])];

interface Answered {
  row: number;
  generation: Generation;
  completion: string;
}

/** Completions of `rows`, `perRow` each (consecutive per row). */
function answer(model: CausalLM, rows: Row[], perRow: number, o: EvaluationOptions, sampled: boolean): Answered[] {
  const tok = o.tokenizer;
  const jobs = rows.flatMap((r, i) => {
    const prompt = tok.encodePrompt(r.prompt);
    return Array.from({ length: perRow }, (_, j) => ({ row: i, prompt, rng: sampled ? o.sampling!.rng.fork(`eval/${i}/${j}`) : undefined }));
  });
  const bs = o.batchSize ?? 256;
  const out: Answered[] = [];
  for (let s = 0; s < jobs.length; s += bs) {
    const chunk = jobs.slice(s, s + bs);
    const gens = generate(model, chunk.map((j) => j.prompt), sampled
      ? {
        maxNewTokens: o.maxNewTokens, temperature: o.sampling!.temperature, rng: chunk.map((j) => j.rng!), eosId: tok.stopIds, padId: tok.pad,
        topK: o.sampling!.topK, topP: o.sampling!.topP, ...(o.sampling!.stop?.length ? { stop: o.sampling!.stop, decode: (ids: number[]) => tok.decode(ids) } : {}),
      }
      : { maxNewTokens: o.maxNewTokens, temperature: 0, eosId: tok.stopIds, padId: tok.pad });
    gens.forEach((g, k) => out.push({ row: chunk[k].row, generation: g, completion: tok.decode(g.tokens) }));
  }
  return out;
}

const score = (rows: Row[], answered: Answered[], mix: RewardMix) => scoreCases(mix, answered.map((a) => {
  const r = rows[a.row];
  return { completion: a.completion, answer: r.answer ?? '', tests: r.tests, language: r.language, verifier: r.verifier, truncated: !a.generation.finished };
}));

/** Share of `verdicts` correct, overall and per reward name (over the verdicts it appears in). */
function accuracies(verdicts: MixVerdict[]): { overall: number; byName: Map<string, number> } {
  const byName = new Map<string, { n: number; correct: number }>();
  let correct = 0;
  for (const v of verdicts) {
    if (v.status === 'correct') correct++;
    for (const p of v.parts) {
      const t = byName.get(p.name) ?? { n: 0, correct: 0 };
      t.n++;
      if (p.status === 'correct') t.correct++;
      byName.set(p.name, t);
    }
  }
  return { overall: verdicts.length ? correct / verdicts.length : 0, byName: new Map([...byName].map(([k, t]) => [k, t.correct / t.n])) };
}

/** pass@k per row group of n consecutive verdicts, for `correct(v)`; averaged over the rows that have any. */
function passRates(verdicts: (MixVerdict | undefined)[][], n: number, correct: (v: MixVerdict) => boolean | undefined): Map<number, number> {
  const rates = new Map<number, number>();
  const counted = verdicts.map((vs) => vs.map((v) => (v ? correct(v) : undefined)).filter((x) => x !== undefined) as boolean[]).filter((xs) => xs.length === n);
  if (counted.length === 0) return rates;
  for (const k of passKs(n)) rates.set(k, counted.reduce((a, xs) => a + passAtK(n, xs.filter(Boolean).length, k), 0) / counted.length);
  return rates;
}

/** The evaluation metrics of `rows` (see the module comment). */
export async function evaluateRows(model: CausalLM, rows: Row[], o: EvaluationOptions): Promise<Metrics> {
  const greedy = answer(model, rows, 1, o, false);
  const verdicts = await score(rows, greedy, o.mix);
  const { overall, byName } = accuracies(verdicts);
  const metrics: Metrics = {
    'eval/accuracy': overall,
    'eval/correct': verdicts.filter((v) => v.status === 'correct').length,
    'eval/total': rows.length,
    'eval/meanLength': greedy.length ? greedy.reduce((a, g) => a + g.generation.tokens.length, 0) / greedy.length : 0,
    'eval/truncated': greedy.length ? greedy.filter((g) => !g.generation.finished).length / greedy.length : 0,
    'eval/error': verdicts.length ? verdicts.filter((v) => v.status === 'error' || v.status === 'timeout').length / verdicts.length : 0,
  };
  for (const [name, acc] of byName) metrics[evalMetric(name, 'accuracy')] = acc;

  const n = o.samples ?? 1;
  if (n > 1 && rows.length > 0) {
    if (!o.sampling) throw new Error('evaluateRows: samples > 1 needs sampling options');
    const sampled = answer(model, rows, n, o, true);
    const sv = await score(rows, sampled, o.mix);
    const perRow: MixVerdict[][] = rows.map((_, i) => sv.slice(i * n, (i + 1) * n));
    for (const [k, rate] of passRates(perRow, n, (v) => v.status === 'correct')) metrics[`eval/pass@${k}`] = rate;
    metrics[`eval/mean@${n}`] = sv.reduce((a, v) => a + v.score, 0) / sv.length;
    for (const name of new Set(sv.flatMap((v) => v.parts.map((p) => p.name)))) {
      const rates = passRates(perRow, n, (v) => {
        const part = v.parts.find((p) => p.name === name);
        return part ? part.status === 'correct' : undefined;
      });
      for (const [k, rate] of rates) metrics[evalMetric(name, `pass@${k}`)] = rate;
    }
  }
  return metrics;
}
