/**
 * Built-in verifiable task: integer addition and subtraction, "57+68=" -> "125".
 *
 * - Operands have between `minDigits` and `maxDigits` digits; subtraction keeps a >= b so answers
 *   are non-negative.
 * - Splits are deterministic and disjoint: every problem belongs to exactly one side, decided by a
 *   hash of (split seed, problem text), with `heldOutFraction` of the problem space held out. The
 *   training and evaluation sets are then drawn from their side with a seeded {@link Rng}.
 * - Each problem is a {@link Row}: its demonstration completion for SFT is the answer (EOS follows
 *   it when encoded); the run's reward (by default `exact-integer`: the integer and nothing else)
 *   checks it.
 */
import { deriveRng } from '../common/rng.js';
import type { Row } from './rows.js';
import { isHeldOutText } from './split.js';

export type ArithmeticOp = '+' | '-';

export interface ArithmeticSpec {
  minDigits: number;
  maxDigits: number;
  ops: ArithmeticOp[];
  /** Fraction of all problems reserved for the held-out split (0 < f < 1). */
  heldOutFraction: number;
}

export const DEFAULT_ARITHMETIC: ArithmeticSpec = { minDigits: 1, maxDigits: 2, ops: ['+', '-'], heldOutFraction: 0.2 };

/** The rows this generator makes: a text prompt, the answer, and the answer as the demonstration. */
export type ArithmeticExample = Row & { prompt: string; answer: string; completion: string };

/** The characters of its prompts and answers (the built-in model's default alphabet). */
export const ARITHMETIC_ALPHABET = '0123456789+-=,;: ';
/** The reward that checks its answers unless the config names another. */
export const ARITHMETIC_REWARD = 'exact-integer';

/** Tokens of the longest prompt: BOS + two operands + operator + '='. */
export const longestArithmeticPrompt = (maxDigits: number) => 1 + 2 * maxDigits + 2;

export function validateSpec(s: ArithmeticSpec): void {
  if (!Number.isInteger(s.minDigits) || !Number.isInteger(s.maxDigits) || s.minDigits < 1 || s.maxDigits < s.minDigits || s.maxDigits > 6) {
    throw new Error(`arithmetic: need integers 1 <= minDigits <= maxDigits <= 6, got ${s.minDigits}..${s.maxDigits}`);
  }
  if (s.ops.length === 0 || s.ops.some((o) => o !== '+' && o !== '-')) throw new Error(`arithmetic: ops must be a non-empty subset of ['+','-'], got ${JSON.stringify(s.ops)}`);
  if (!(s.heldOutFraction > 0 && s.heldOutFraction < 1)) throw new Error(`arithmetic: heldOutFraction must be in (0,1), got ${s.heldOutFraction}`);
}

export function makeExample(a: number, op: ArithmeticOp, b: number): ArithmeticExample {
  const prompt = `${a}${op}${b}=`;
  const answer = String(op === '+' ? a + b : a - b);
  return { id: `${a}${op === '+' ? 'p' : 'm'}${b}`, prompt, answer, completion: answer };
}

/** Which side of the split a problem is on. */
export function isHeldOut(prompt: string, splitSeed: number, spec: ArithmeticSpec): boolean {
  return isHeldOutText(prompt, splitSeed, spec.heldOutFraction);
}

/** Largest number of distinct problems available (both sides). */
export function problemSpaceSize(spec: ArithmeticSpec): number {
  const n = 10 ** spec.maxDigits - (spec.minDigits === 1 ? 0 : 10 ** (spec.minDigits - 1));
  return n * n * spec.ops.length;
}

/**
 * `count` distinct problems from one side of the split, drawn with the stream
 * (sampleSeed, 'arithmetic/<split>'). Digit counts are drawn uniformly first, so short and long
 * operands are equally common.
 */
export function sampleArithmetic(split: 'train' | 'heldout', count: number, opts: { splitSeed: number; sampleSeed: number; spec?: ArithmeticSpec }): ArithmeticExample[] {
  const spec = opts.spec ?? DEFAULT_ARITHMETIC;
  validateSpec(spec);
  const rng = deriveRng(opts.sampleSeed, `arithmetic/${split}`);
  const out: ArithmeticExample[] = [];
  const seen = new Set<string>();
  const want = split === 'heldout';
  const operand = () => {
    const d = spec.minDigits + rng.int(spec.maxDigits - spec.minDigits + 1);
    const lo = d === 1 ? 0 : 10 ** (d - 1);
    return lo + rng.int(10 ** d - lo);
  };
  let tries = 0;
  while (out.length < count) {
    if (++tries > count * 200 + 10_000) throw new Error(`arithmetic: could not draw ${count} distinct ${split} problems (space ${problemSpaceSize(spec)})`);
    const op = spec.ops[rng.int(spec.ops.length)];
    let a = operand();
    let b = operand();
    if (op === '-' && b > a) [a, b] = [b, a];
    const ex = makeExample(a, op, b);
    if (seen.has(ex.prompt) || isHeldOut(ex.prompt, opts.splitSeed, spec) !== want) continue;
    seen.add(ex.prompt);
    out.push(ex);
  }
  return out;
}
