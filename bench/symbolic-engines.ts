/**
 * Which symbolic engine compares answers: mathjs (ours, through rewards/math/latex.ts) against
 * @cortex-js/compute-engine (parses LaTeX itself), on the answers of the same cases the reward
 * bench uses (Math-Verify's tests, their near misses, realistic completions).
 *
 * Both engines get the same pairs: the answer and the gold after our extraction and normalisation,
 * wherever both read as one scalar (sets, tuples, relations, matrices… are our structure code either
 * way). Counted: agreement with the expected verdict, false positives (equal where the case says
 * not), undecided pairs (compute-engine's isEqual returns undefined), and microseconds per pair.
 *
 * Not part of `npm run bench`: compute-engine is not a dependency. Run:
 *   npm i --no-save @cortex-js/compute-engine && node --import tsx bench/symbolic-engines.ts
 */
import { readFileSync } from 'node:fs';
import { extractAnswer, LAST_NUMBER_EXTRACT, DEFAULT_EXTRACT } from '../rewards/math/extract.js';
import { normalize } from '../rewards/math/normalize.js';
import { parseStructure } from '../rewards/math/answer.js';
import { exprEqual } from '../rewards/math/equal.js';
import { COMPLETION_TABLE } from '../test/rewards/math-completions.js';

type Call = { match_types: string[] } | null;
interface Pair { gold: string; answer: string; goldExpr: string; answerExpr: string; expected: boolean }

function pairs(): Pair[] {
  const f = JSON.parse(readFileSync(new URL('../test/fixtures/rewards/math-verify-cases.json', import.meta.url), 'utf8')) as {
    cases: Array<{ gold: string; prediction: string; expected: boolean; call: Call }>; nearMisses: Array<{ gold: string; prediction: string; call: Call }>;
  };
  // Each case's own extraction settings (see test/rewards/math-verify-cases.test.ts).
  const ln = (call: Call) => !call || call.match_types.includes('expr');
  const raw = [
    ...f.cases.map((c) => ({ gold: c.gold, prediction: c.prediction, expected: c.expected, lastNumber: ln(c.call) })),
    ...f.nearMisses.map((m) => ({ gold: m.gold, prediction: m.prediction, expected: false, lastNumber: ln(m.call) })),
    ...COMPLETION_TABLE.filter((r) => !r[4]?.truncated).map((r) => ({ gold: r[1], prediction: r[0], expected: r[2] === 'correct', lastNumber: r[4]?.lastNumber ?? false })),
  ];
  const out: Pair[] = [];
  for (const r of raw) {
    const a = extractAnswer(r.prediction, r.lastNumber ? LAST_NUMBER_EXTRACT : DEFAULT_EXTRACT);
    const g = extractAnswer(r.gold, [DEFAULT_EXTRACT[0], 'latex', 'whole'], true);
    if (!a || !g) continue;
    const answer = normalize(a.answer);
    const gold = normalize(g.answer);
    try {
      const pa = parseStructure(answer);
      const pg = parseStructure(gold);
      if (pa.kind === 'expr' && pg.kind === 'expr' && !pa.percent && !pg.percent && !pa.label && !pg.label) {
        out.push({ gold, answer, goldExpr: pg.expr, answerExpr: pa.expr, expected: r.expected });
      }
    } catch { /* not a scalar pair */ }
  }
  return out;
}

function tally(name: string, ps: Pair[], decide: (p: Pair) => boolean | undefined): void {
  let agree = 0, fp = 0, undecided = 0;
  const t0 = performance.now();
  for (const p of ps) {
    let v: boolean | undefined;
    try { v = decide(p); } catch { v = false; }
    if (v === undefined) undecided++;
    const eq = v === true;
    if (eq === p.expected) agree++;
    if (eq && !p.expected) { fp++; if (process.env.SHOW) console.log(`  false positive: ${p.answer} vs ${p.gold}`); }
  }
  const us = ((performance.now() - t0) * 1000) / ps.length;
  console.log(`${name.padEnd(34)} agree ${agree}/${ps.length}  false positives ${fp}  undecided ${undecided}  ${us.toFixed(0)} µs/pair`);
}

const ps = pairs();
console.log(`${ps.length} scalar pairs (${ps.filter((p) => p.expected).length} equal by the case)`);
exprEqual('1', '1', 1e-6); // load mathjs before timing
tally('mathjs (rewards/math/equal.ts)', ps, (p) => exprEqual(p.answerExpr, p.goldExpr, 1e-6).equal);
const moduleName = '@cortex-js/compute-engine';
const { ComputeEngine } = (await import(moduleName)) as { ComputeEngine: new () => { parse(s: string): { isEqual(o: unknown): boolean | undefined; isValid: boolean } } };
const ce = new ComputeEngine();
ce.parse('1').isEqual(ce.parse('1'));
tally('compute-engine isEqual', ps, (p) => {
  const a = ce.parse(p.answer);
  const b = ce.parse(p.gold);
  return a.isValid && b.isValid ? a.isEqual(b) : false;
});
