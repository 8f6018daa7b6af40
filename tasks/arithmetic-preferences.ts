/**
 * Built-in preference pairs for the arithmetic task, generated (no download): for a problem
 * `a op b =` the chosen response is the correct answer and the rejected one a plausible wrong answer,
 * the kind of slip a small model makes:
 *
 *   last-digit   c ± 1 or c ± 2           (a units-digit slip)
 *   carry        c ± 10                   (a dropped or doubled carry / borrow)
 *   operation    a ∓ b instead of a ± b   (the other operator; |a − b| for a sum)
 *   reversed     the digits of c reversed (when that differs)
 *   truncated    c without its last digit (stopping one token early)
 *
 * Candidates that equal c, are negative, or have more digits than any answer of the task
 * (maxDigits + 1) are dropped. Which ones are kept is drawn from a stream derived from
 * (seed, problem id), so a problem's pairs do not depend on the order or number of problems.
 */
import { deriveRng } from '../common/rng.js';
import type { ArithmeticExample } from './arithmetic.js';
import type { PreferencePair } from './preference-pairs.js';

/** A generated pair: all of it text. */
type TextPair = PreferencePair & { prompt: string; chosen: string; rejected: string };

export type WrongAnswerKind = 'last-digit' | 'carry' | 'operation' | 'reversed' | 'truncated';

/** The operands and operator of an arithmetic prompt `a+b=` / `a-b=`, or null when it is not one. */
export function parseArithmeticPrompt(prompt: string): { a: number; op: '+' | '-'; b: number } | null {
  const m = /^(\d+)([+-])(\d+)=$/.exec(prompt);
  return m ? { a: Number(m[1]), op: m[2] as '+' | '-', b: Number(m[3]) } : null;
}

/** Every distinct plausible wrong answer of a problem, with the kind of slip that gives it. */
export function wrongAnswers(example: Pick<ArithmeticExample, 'prompt' | 'answer'>, maxDigits: number): { answer: string; kind: WrongAnswerKind }[] {
  const parsed = parseArithmeticPrompt(example.prompt);
  if (!parsed) throw new Error(`wrongAnswers: ${JSON.stringify(example.prompt)} is not an arithmetic prompt`);
  const { a, op, b } = parsed;
  const c = Number(example.answer);
  const candidates: { value: number; kind: WrongAnswerKind }[] = [
    { value: c + 1, kind: 'last-digit' }, { value: c - 1, kind: 'last-digit' },
    { value: c + 2, kind: 'last-digit' }, { value: c - 2, kind: 'last-digit' },
    { value: c + 10, kind: 'carry' }, { value: c - 10, kind: 'carry' },
    { value: op === '+' ? Math.abs(a - b) : a + b, kind: 'operation' },
    { value: Number([...String(c)].reverse().join('')), kind: 'reversed' },
    { value: c >= 10 ? Math.floor(c / 10) : NaN, kind: 'truncated' },
  ];
  const seen = new Set<string>([example.answer]);
  const out: { answer: string; kind: WrongAnswerKind }[] = [];
  for (const { value, kind } of candidates) {
    if (!Number.isInteger(value) || value < 0 || String(value).length > maxDigits + 1) continue;
    const answer = String(value);
    if (seen.has(answer)) continue;
    seen.add(answer);
    out.push({ answer, kind });
  }
  return out;
}

/**
 * `pairsPerPrompt` pairs for each example (fewer when a problem has fewer distinct wrong answers),
 * ids `<problem id>-r<k>`. Deterministic in (seed, example ids).
 */
export function arithmeticPreferencePairs(
  examples: readonly ArithmeticExample[],
  opts: { seed: number; pairsPerPrompt: number; maxDigits: number },
): TextPair[] {
  const pairs: TextPair[] = [];
  for (const ex of examples) {
    const rng = deriveRng(opts.seed, `preference-pairs/${ex.id}`);
    const pool = rng.shuffle(wrongAnswers(ex, opts.maxDigits));
    pool.slice(0, opts.pairsPerPrompt).forEach((wrong, k) => {
      pairs.push({ id: `${ex.id}-r${k}`, prompt: ex.prompt, chosen: ex.completion, rejected: wrong.answer });
    });
  }
  return pairs;
}
