/**
 * A small seeded set of Python functions with unit tests, for the `code` reward: each row asks for
 * `f(x)` described in words, one or two steps, and carries assertion tests computed here with
 * Python's own semantics (floor division and remainder round toward −∞):
 *
 *   prompt      "# f(x): add 3, then multiply by 2\n"
 *   completion  "def f(x):\n    return (x + 3) * 2"
 *   tests       [{"assert": "assert f(-3) == 0"}, {"assert": "assert f(0) == 6"}, ...]
 *
 * `scripts/example-data.ts` writes it to configs/data/python-functions.jsonl, which
 * configs/python-functions.yaml trains on (a data file like any user's).
 */
import { deriveRng } from '../common/rng.js';
import type { Row } from './rows.js';

interface Step {
  words: (k: number) => string;
  /** The Python expression of this step applied to the expression `inner`. */
  code: (inner: string, k: number) => string;
  apply: (x: number, k: number) => number;
}

const floorDiv = (x: number, k: number) => Math.floor(x / k);
const pyMod = (x: number, k: number) => x - k * Math.floor(x / k);
/** An operand of a binary operator: `x` as is, an expression in parentheses. */
const operand = (e: string) => (e === 'x' ? e : `(${e})`);

const STEPS: Step[] = [
  { words: (k) => `add ${k}`, code: (e, k) => `${operand(e)} + ${k}`, apply: (x, k) => x + k },
  { words: (k) => `subtract ${k}`, code: (e, k) => `${operand(e)} - ${k}`, apply: (x, k) => x - k },
  { words: (k) => `multiply by ${k}`, code: (e, k) => `${operand(e)} * ${k}`, apply: (x, k) => x * k },
  { words: (k) => `floor divide by ${k}`, code: (e, k) => `${operand(e)} // ${k}`, apply: floorDiv },
  { words: (k) => `remainder by ${k}`, code: (e, k) => `${operand(e)} % ${k}`, apply: pyMod },
  { words: (k) => `max with ${k}`, code: (e, k) => `max(${e}, ${k})`, apply: Math.max },
  { words: (k) => `min with ${k}`, code: (e, k) => `min(${e}, ${k})`, apply: Math.min },
];

/** Inputs every function is tested on. */
const TEST_INPUTS = [-3, 0, 4, 7];

/** One function: one or two steps with constants 2-9. */
function functionRow(steps: [number, number][]): Row & { completion: string } {
  const described = steps.map(([s, k]) => STEPS[s].words(k)).join(', then ');
  const body = steps.reduce((inner, [s, k]) => STEPS[s].code(inner, k), 'x');
  const f = (x: number) => steps.reduce((v, [s, k]) => STEPS[s].apply(v, k), x);
  return {
    id: `f-${steps.map(([s, k]) => `${s}.${k}`).join('-')}`,
    prompt: `# f(x): ${described}\n`,
    completion: `def f(x):\n    return ${body}`,
    tests: TEST_INPUTS.map((x) => ({ assert: `assert f(${x}) == ${f(x)}` })),
    language: 'python',
  };
}

/** `count` distinct functions drawn from the seed: every one-step function, then two-step ones. */
export function pythonFunctionRows(count: number, seed: number): Row[] {
  const rng = deriveRng(seed, 'python-functions');
  const rows = new Map<string, Row>();
  for (let s = 0; s < STEPS.length; s++) for (let k = 2; k <= 9; k++) rows.set(`${s}.${k}`, functionRow([[s, k]]));
  for (let tries = 0; rows.size < count; tries++) {
    if (tries > count * 100) throw new Error(`python-functions: could not draw ${count} distinct functions`);
    const steps: [number, number][] = [[rng.int(STEPS.length), 2 + rng.int(8)], [rng.int(STEPS.length), 2 + rng.int(8)]];
    const row = functionRow(steps);
    if (!rows.has(row.id)) rows.set(row.id, row);
  }
  return rng.shuffle([...rows.values()]).slice(0, count);
}
