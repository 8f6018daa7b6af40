/**
 * Built-in grade-school word problems, generated from a seed (no download), in GSM8K's shape: a
 * short story with a question, a worked solution of one equation per line, and the final answer
 * after `####`:
 *
 *   prompt      "mia has 12 figs, gets 7 more. how many now?\n"
 *   completion  "12+7=19\n#### 19"
 *   answer      "19"
 *
 * Four kinds: one step (`add`, `sub`, `mul`) and two steps (`add-sub`: gets some, gives some away).
 * The text is lower case with a small alphabet ({@link WORD_PROBLEM_ALPHABET}) so that the built-in
 * character-level model can learn it on a CPU in minutes; the answers are checked by the `math`
 * verifier, which reads the `####` line.
 *
 * Splits are deterministic and disjoint, as for the arithmetic generator: a problem's side is decided
 * by a hash of (split seed, prompt text), so the held-out problems are stories never trained on (the
 * same small arithmetic facts appear on both sides, as they do in GSM8K).
 */
import { deriveRng, type Rng } from '../common/rng.js';
import type { Row } from './rows.js';
import { isHeldOutText } from './split.js';

export type WordProblemKind = 'add' | 'sub' | 'mul' | 'add-sub';
export const WORD_PROBLEM_KINDS = ['add', 'sub', 'mul', 'add-sub'] as const satisfies readonly WordProblemKind[];

export interface WordProblemSpec {
  kinds: WordProblemKind[];
  /** Largest number in a story (the smallest is 2); products use factors up to 9. */
  maxNumber: number;
  /** Fraction of all problems reserved for the held-out split (0 < f < 1). */
  heldOutFraction: number;
}

export const WORD_PROBLEM_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789 .,?+-*=#\n';
export const WORD_PROBLEM_REWARD = 'math';

const NAMES = ['ann', 'bob', 'eva', 'tom', 'mia', 'sam', 'zoe', 'max'];
const ITEMS = ['figs', 'pens', 'eggs', 'cups', 'nuts', 'toys', 'cards', 'coins'];

/** Tokens of the longest prompt the spec can produce (BOS included), for the config's context check. */
export function longestWordProblemPrompt(spec: Pick<WordProblemSpec, 'kinds' | 'maxNumber'>): number {
  const n = String(spec.maxNumber).length;
  const item = Math.max(...ITEMS.map((i) => i.length));
  const lengths: Record<WordProblemKind, number> = {
    add: story('add', 'ann', 'x'.repeat(item), ['9'.repeat(n), '9'.repeat(n)]).length,
    sub: story('sub', 'ann', 'x'.repeat(item), ['9'.repeat(n), '9'.repeat(n)]).length,
    mul: story('mul', 'ann', 'x'.repeat(item), ['9', '9']).length,
    'add-sub': story('add-sub', 'ann', 'x'.repeat(item), ['9'.repeat(n), '9'.repeat(n), '9'.repeat(n + 1)]).length,
  };
  return 1 + Math.max(...spec.kinds.map((k) => lengths[k]));
}

function story(kind: WordProblemKind, name: string, item: string, n: string[]): string {
  switch (kind) {
    case 'add': return `${name} has ${n[0]} ${item}, gets ${n[1]} more. how many now?\n`;
    case 'sub': return `${name} has ${n[0]} ${item}, gives ${n[1]} away. how many now?\n`;
    case 'mul': return `${name} buys ${n[0]} bags of ${n[1]} ${item}. how many ${item}?\n`;
    case 'add-sub': return `${name} has ${n[0]} ${item}, gets ${n[1]}, gives ${n[2]} away. how many now?\n`;
  }
}

/** One problem of the given kind, its numbers drawn from `rng`. */
function drawProblem(kind: WordProblemKind, rng: Rng, maxNumber: number): Row & { prompt: string; answer: string; completion: string } {
  const num = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);
  const name = NAMES[rng.int(NAMES.length)];
  const item = ITEMS[rng.int(ITEMS.length)];
  let numbers: number[];
  let lines: string[];
  let answer: number;
  if (kind === 'add') {
    const [a, b] = [num(2, maxNumber), num(2, maxNumber)];
    numbers = [a, b];
    answer = a + b;
    lines = [`${a}+${b}=${answer}`];
  } else if (kind === 'sub') {
    const a = num(3, maxNumber);
    const b = num(2, a - 1);
    numbers = [a, b];
    answer = a - b;
    lines = [`${a}-${b}=${answer}`];
  } else if (kind === 'mul') {
    const [a, b] = [num(2, 9), num(2, 9)];
    numbers = [a, b];
    answer = a * b;
    lines = [`${a}*${b}=${answer}`];
  } else {
    const [a, b] = [num(2, maxNumber), num(2, maxNumber)];
    const c = num(2, a + b - 1);
    numbers = [a, b, c];
    answer = a + b - c;
    lines = [`${a}+${b}=${a + b}`, `${a + b}-${c}=${answer}`];
  }
  const prompt = story(kind, name, item, numbers.map(String));
  const id = `${kind}-${name}-${item}-${numbers.join('-')}`;
  return { id, prompt, answer: String(answer), completion: `${lines.join('\n')}\n#### ${answer}` };
}

export function validateWordProblemSpec(s: WordProblemSpec): void {
  if (s.kinds.length === 0 || s.kinds.some((k) => !(WORD_PROBLEM_KINDS as readonly string[]).includes(k))) {
    throw new Error(`word-problems: kinds must be a non-empty subset of ${WORD_PROBLEM_KINDS.join(', ')}, got ${JSON.stringify(s.kinds)}`);
  }
  if (!Number.isInteger(s.maxNumber) || s.maxNumber < 3 || s.maxNumber > 999) throw new Error(`word-problems: maxNumber must be an integer in 3..999, got ${s.maxNumber}`);
  if (!(s.heldOutFraction > 0 && s.heldOutFraction < 1)) throw new Error(`word-problems: heldOutFraction must be in (0,1), got ${s.heldOutFraction}`);
}

/**
 * `count` distinct problems from one side of the split, drawn with the stream
 * (sampleSeed, 'word-problems/<split>'); the kinds are drawn uniformly.
 */
export function sampleWordProblems(split: 'train' | 'heldout', count: number, opts: { splitSeed: number; sampleSeed: number; spec: WordProblemSpec }): Row[] {
  const { spec } = opts;
  validateWordProblemSpec(spec);
  const rng = deriveRng(opts.sampleSeed, `word-problems/${split}`);
  const want = split === 'heldout';
  const seen = new Set<string>();
  const out: Row[] = [];
  let tries = 0;
  while (out.length < count) {
    if (++tries > count * 200 + 10_000) throw new Error(`word-problems: could not draw ${count} distinct ${split} problems; lower the size or raise maxNumber`);
    const row = drawProblem(spec.kinds[rng.int(spec.kinds.length)], rng, spec.maxNumber);
    const heldOut = isHeldOutText(row.prompt, opts.splitSeed, spec.heldOutFraction);
    if (seen.has(row.prompt) || heldOut !== want) continue;
    seen.add(row.prompt);
    out.push(row);
  }
  return out;
}
