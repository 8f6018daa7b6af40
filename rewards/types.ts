/**
 * The one verifier contract. Every verifier — math, format, length, code, a weighted composition —
 * returns a {@link Verdict}. Nothing is folded silently into a 0: a check that could not run says so
 * in `status` and `reason`, and the caller decides what a non-`correct` status means for training.
 */

/**
 * - `correct` / `incorrect`: the check ran and decided.
 * - `error`: the check could not decide (unparseable or overflowing answer, crashed code, sandbox
 *   failure, verifier bug). Scored 0 by convention, but the reason must reach the metrics.
 * - `timeout`: a hard wall-clock limit killed the check (worker thread or child process).
 * - `skipped`: the example itself is unusable (the gold answer cannot be parsed, a code case has no
 *   tests). Leave the sample out of the batch; do not score it 0.
 */
export type VerifyStatus = 'correct' | 'incorrect' | 'error' | 'timeout' | 'skipped';

export const VERIFY_STATUSES = ['correct', 'incorrect', 'error', 'timeout', 'skipped'] as const satisfies readonly VerifyStatus[];

/** Outcome of one verification. `score` is in [0, 1] except for composed sums with weights > 1. */
export interface Verdict {
  status: VerifyStatus;
  score: number;
  /** Short, human-readable; always set, also for `correct` (what matched). */
  reason: string;
  /** Wall time of the check itself in milliseconds (excludes queueing). */
  ms: number;
}

/** A verdict tagged with the id of the case it belongs to (what {@link verifyBatch} returns). */
export interface VerifyResult extends Verdict {
  id: string;
}

/** One I/O test: stdin in, expected stdout out (compared line by line, trailing whitespace ignored). */
export interface IoTest {
  stdin?: string;
  stdout: string;
}
/** One assertion test: a snippet appended after the candidate code; it passes when the process exits 0. */
export interface AssertTest {
  assert: string;
}
export type CodeTest = IoTest | AssertTest;
export type CodeLanguage = 'javascript' | 'python';

/** One case of a batch, as it appears in a rollout dump or the `creditflow verify` JSONL input. */
export interface VerifyCase {
  id: string;
  /** A verifier name: a built-in (`math`, `code`, `format`, `length`, `think-answer`) or a key of `opts.specs`. */
  verifier: string;
  completion: string;
  gold: string;
  tests?: CodeTest[];
  language?: CodeLanguage;
  /** The completion was cut off by the length limit (no EOS). Math: without a final-answer marker it scores incorrect. */
  truncated?: boolean;
}

/**
 * Where a final answer may be read (rewards/math/extract.ts): the markers `boxed` (`\boxed{}`,
 * `\fbox{}`), `answer-tag` (`<answer>…</answer>`), `hash` (`####`), `answer` ("the final answer is",
 * `Answer:`, Minerva's final line), `equation-line` (a closing `x = …` line); then `whole` (the whole
 * completion, when it is one short answer), `latex` (math spans), `last-number` (a bare number in prose).
 */
export type ExtractRule = 'boxed' | 'answer-tag' | 'hash' | 'answer' | 'equation-line' | 'whole' | 'latex' | 'last-number';

export interface MathOptions {
  /**
   * Extraction tiers in order; the first tier that finds an answer decides. A tier is one rule or a
   * list of rules, and inside a list the match that starts last in the text wins (the last final
   * answer counts). Default: [[boxed, answer-tag, hash, answer, equation-line], whole, latex].
   */
  extract?: Array<ExtractRule | ExtractRule[]>;
  /**
   * Also read the last bare number in prose ("…so she has 12 apples."), competing by position with
   * the math spans (default false: a cut-off or rambling completion is not rewarded for the last
   * number it happened to write). Ignored when `extract` is given.
   */
  lastNumber?: boolean;
  /** Relative tolerance of numeric equality (default 1e-6); an absolute 1e-12 floor applies near zero. */
  rtol?: number;
  /**
   * How a `%` on one side is read. `either` (default): `p%` equals both `p` and `p/100`, because gold
   * answers to "what percent…" questions are usually written without the sign. `fraction`: `p%` is
   * exactly `p/100`. `literal`: the sign is dropped, `p%` equals `p` only.
   */
  percent?: 'either' | 'fraction' | 'literal';
}

/**
 * A verifier configuration. Built-in names map to default specs; `compose` combines parts:
 * - `sum`: Σ weight·score;
 * - `min`: the smallest part score (weights ignored);
 * - `gate`: the first part is a gate; if it is not `correct` the score is 0, else Σ weight·score of the others.
 */
export type VerifierSpec =
  | ({ kind: 'math' } & MathOptions)
  | { kind: 'format'; pattern: string; flags?: string }
  | { kind: 'length'; maxChars?: number; minChars?: number; maxWords?: number; softMargin?: number }
  | { kind: 'code'; memoryMb?: number; maxOutputBytes?: number; maxProcs?: number }
  | { kind: 'compose'; mode: 'sum' | 'min' | 'gate'; parts: Array<{ spec: VerifierSpec; weight?: number }> };

export interface BatchOptions {
  /** Checks running at once (math workers and code sandboxes each). Default: available cores, 1..8. */
  concurrency?: number;
  /** Hard wall-clock limit per check: one math/format case, or one code test run. Default 2000 ms math, 5000 ms code. */
  timeoutMs?: number;
  /** Extra named verifiers, looked up before the built-ins. */
  specs?: Record<string, VerifierSpec>;
}
