/**
 * Built-in verifiable task: integer addition and subtraction, "57+68=" -> "125".
 *
 * - Operands have between `minDigits` and `maxDigits` digits; subtraction keeps a >= b so answers
 *   are non-negative.
 * - Splits are deterministic and disjoint: every problem belongs to exactly one side, decided by a
 *   hash of (split seed, problem text), with `heldOutFraction` of the problem space held out. The
 *   training and evaluation sets are then drawn from their side with a seeded {@link Rng}.
 * - The demonstration completion for SFT is the answer followed by EOS (the tokenizer adds EOS).
 * - {@link isCorrect} is an exact-answer check for tuning; the reward verifiers live in rewards/.
 */
import { deriveRng } from '../common/rng.js';

export type ArithmeticOp = '+' | '-';

export interface ArithmeticSpec {
  minDigits: number;
  maxDigits: number;
  ops: ArithmeticOp[];
  /** Fraction of all problems reserved for the held-out split (0 < f < 1). */
  heldOutFraction: number;
}

export const DEFAULT_ARITHMETIC: ArithmeticSpec = { minDigits: 1, maxDigits: 2, ops: ['+', '-'], heldOutFraction: 0.2 };

/** One JSONL-able RL example (the data-set schema of DESIGN.md) plus the SFT demonstration. */
export interface ArithmeticExample {
  id: string;
  prompt: string;
  answer: string;
  verifier: 'exact-integer';
  /** What the model should write after the prompt (without EOS). */
  completion: string;
}

function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

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
  return { id: `${a}${op === '+' ? 'p' : 'm'}${b}`, prompt, answer, verifier: 'exact-integer', completion: answer };
}

/** Which side of the split a problem is on. */
export function isHeldOut(prompt: string, splitSeed: number, spec: ArithmeticSpec): boolean {
  return hash32(`${splitSeed >>> 0}|${prompt}`) / 4294967296 < spec.heldOutFraction;
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

/** The answer a completion gives: its text up to the first newline/EOS, trimmed. */
export function extractAnswer(completion: string): string {
  return completion.split('\n')[0].trim();
}

/** Exact-answer check (leading zeros and a leading '+' are not accepted: the demo writes canonical integers). */
export function isCorrect(completion: string, answer: string): boolean {
  return extractAnswer(completion) === answer;
}
