/**
 * Math verifier beside math-verify (PyPI), on the same cases in one run:
 * - Math-Verify's own test tables (270 cases; test/fixtures/rewards/math-verify-cases.json),
 * - their near misses (each correct case with one number of its gold changed: must not be rewarded),
 * - realistic completions (test/rewards/math-completions.ts: GSM8K / MATH / AIME / R1 formats).
 * For each set: agreement with the expected verdict and false positives, ours and math-verify's;
 * then cases/s on all of them, ours on the worker pool (two workers) and on one thread, math-verify
 * in one process. math-verify runs with its defaults (LaTeX + plain expressions), so ours runs with
 * `lastNumber` where the test extracts plain expressions too.
 */
import { readFileSync } from 'node:fs';
import { verifyBatch, verifyMath, VerifierPool, type VerifyCase } from '../rewards/index.js';
import { COMPLETION_TABLE } from '../test/rewards/math-completions.js';
import type { BenchRow } from './row.js';
import { referencePython, runReference } from './rewards-reference.js';

interface Item { set: 'cases' | 'near-misses' | 'completions'; gold: string; prediction: string; expected: boolean; lastNumber: boolean; truncated?: boolean; inDefaultSubset: boolean }

function items(): Item[] {
  const fixture = JSON.parse(readFileSync(new URL('../test/fixtures/rewards/math-verify-cases.json', import.meta.url), 'utf8')) as {
    cases: Array<{ gold: string; prediction: string; expected: boolean; call: { match_types: string[] } | null; mathVerifyDefault: boolean }>;
    nearMisses: Array<{ gold: string; prediction: string; call: { match_types: string[] } | null }>;
  };
  const ln = (call: { match_types: string[] } | null) => !call || call.match_types.includes('expr');
  return [
    ...fixture.cases.map((c): Item => ({ set: 'cases', gold: c.gold, prediction: c.prediction, expected: c.expected, lastNumber: ln(c.call), inDefaultSubset: c.mathVerifyDefault === c.expected })),
    ...fixture.nearMisses.map((m): Item => ({ set: 'near-misses', gold: m.gold, prediction: m.prediction, expected: false, lastNumber: ln(m.call), inDefaultSubset: true })),
    ...COMPLETION_TABLE.filter((r) => r[2] === 'correct' || r[2] === 'incorrect').map(([prediction, gold, expected, , flags]): Item => ({
      set: 'completions', gold, prediction, expected: expected === 'correct', lastNumber: flags?.lastNumber ?? false, truncated: flags?.truncated, inDefaultSubset: true,
    })),
  ];
}

function toCase(it: Item, k: number): VerifyCase {
  return { id: `m${k}`, verifier: it.lastNumber ? 'math-last-number' : 'math', completion: it.prediction, gold: it.gold, truncated: it.truncated };
}

function counts(all: Item[], correct: boolean[], set: Item['set']) {
  let n = 0, agree = 0, fp = 0, subset = 0, subsetAgree = 0;
  all.forEach((it, k) => {
    if (it.set !== set) return;
    n++;
    if (correct[k] === it.expected) agree++;
    if (correct[k] && !it.expected) fp++;
    if (it.inDefaultSubset) { subset++; if (correct[k] === it.expected) subsetAgree++; }
  });
  return { n, agree, fp, subset, subsetAgree };
}

export async function benchMathReference(): Promise<BenchRow[]> {
  const all = items();
  const cases = all.map(toCase);
  const specs = { 'math-last-number': { kind: 'math', lastNumber: true } } as const;
  const rows: BenchRow[] = [];

  // Ours on the pool: two workers ("two cores"), warmed, then the whole set five times.
  const pool = new VerifierPool({ size: 2 });
  const ours = await verifyBatch(cases, { pool, specs, concurrency: 2 });
  const REPEAT = 5;
  const t0 = performance.now();
  for (let r = 0; r < REPEAT; r++) await verifyBatch(cases, { pool, specs, concurrency: 2 });
  const poolRate = (REPEAT * cases.length) / ((performance.now() - t0) / 1000);
  await pool.close();
  const t1 = performance.now();
  for (const it of all) verifyMath(it.prediction, it.gold, { lastNumber: it.lastNumber }, { truncated: it.truncated });
  const inlineRate = all.length / ((performance.now() - t1) / 1000);
  const oursCorrect = ours.map((v) => v.status === 'correct');

  const ref = referencePython();
  let mv: { correct: boolean[]; rate: number } | null = null;
  if ('python' in ref) {
    const run = await runReference<{ correct: boolean }>(ref.python, './math_verify_ref.py', 'run', all.map((it) => ({ gold: it.gold, prediction: it.prediction })));
    mv = { correct: run.results.map((r) => r.correct), rate: all.length / run.seconds };
  }
  const skipNote = 'python' in ref ? '' : ` (math-verify skipped: ${ref.skipped})`;

  for (const set of ['cases', 'near-misses', 'completions'] as const) {
    const o = counts(all, oursCorrect, set);
    const m = mv ? counts(all, mv.correct, set) : null;
    const label = set === 'cases' ? "Math-Verify's test cases" : set === 'near-misses' ? 'near misses (must all be incorrect)' : 'realistic completions';
    rows.push({ name: `rewards.math.${set}.agree.ours`, value: o.agree, unit: `of ${o.n}`, note: label + skipNote });
    if (m) rows.push({ name: `rewards.math.${set}.agree.math-verify`, value: m.agree, unit: `of ${m.n}`, note: `${label}, math-verify defaults` });
    if (set === 'cases') {
      rows.push({ name: 'rewards.math.cases.default-subset.agree.ours', value: o.subsetAgree, unit: `of ${o.subset}`, note: 'the cases math-verify passes with default settings' });
    }
    rows.push({ name: `rewards.math.${set}.false-positives.ours`, value: o.fp, unit: 'cases', note: 'rewarded where the expected verdict is incorrect' });
    if (m) rows.push({ name: `rewards.math.${set}.false-positives.math-verify`, value: m.fp, unit: 'cases' });
  }
  rows.push({ name: 'rewards.math.reference.throughput.ours', value: poolRate, unit: 'cases/s', note: `all ${all.length} cases ×${REPEAT}, verifyBatch on 2 worker threads` });
  rows.push({ name: 'rewards.math.reference.throughput.ours-inline', value: inlineRate, unit: 'cases/s', note: 'verifyMath on one thread' });
  if (mv) {
    rows.push({ name: 'rewards.math.reference.throughput.math-verify', value: mv.rate, unit: 'cases/s', note: 'parse + verify, one process, same cases' });
    rows.push({ name: 'rewards.math.reference.speedup', value: poolRate / mv.rate, unit: '×', note: 'ours (2 workers) / math-verify' });
  }
  return rows;
}
